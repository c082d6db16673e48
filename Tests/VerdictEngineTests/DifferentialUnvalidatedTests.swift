import NetworkTypes
import PolicyModel
import Testing
import VerdictEngine

/// `ipBlock` shapes that the manifest loader rejects (an exception must lie strictly inside the CIDR, in the
/// same family) but that a `ClusterState` built in code can hold. The compiled engine and the reference evaluator
/// should still agree on them.
@Suite("Differential: ipBlocks the loader would reject")
struct DifferentialUnvalidatedTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let cidr: String
        let except: [String]
        let source: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "except equal to the cidr", cidr: "10.0.0.0/16", except: ["10.0.0.0/16"], source: "10.0.5.5"),
        Row(name: "except of the other family", cidr: "10.0.0.0/16", except: ["fd00::/8"], source: "10.0.5.5"),
        Row(name: "except outside the cidr", cidr: "10.0.0.0/16", except: ["192.0.2.0/24"], source: "10.0.5.5"),
    ]

    @Test("Compiled and reference agree", arguments: rows)
    func agree(_ row: Row) throws {
        let state = try Self.state(cidr: row.cidr, except: row.except)
        let flow = try Self.flow(from: row.source)
        #expect(PolicyCompiler.compile(state).evaluate(flow).isAllowed == ReferenceEvaluator(state: state).isAllowed(flow))
    }

    /// An exception wider than its CIDR (`10.0.0.0/16 except 10.0.0.0/8`) excludes every address, for the
    /// reference evaluator, for the IPBlock's own `contains`, and for the compiler.
    @Test("An exception wider than its CIDR empties the block")
    func exceptWiderThanCIDR() throws {
        let state = try Self.state(cidr: "10.0.0.0/16", except: ["10.0.0.0/8"])
        let flow = try Self.flow(from: "10.0.5.5")
        let compiled = PolicyCompiler.compile(state).evaluate(flow).isAllowed
        let reference = ReferenceEvaluator(state: state).isAllowed(flow)
        #expect(reference == false)
        do {
            #expect(compiled == reference)
        }
    }

    /// Pod n/web at 10.0.0.1, isolated for ingress, allowing only the block.
    static func state(cidr: String, except: [String]) throws -> ClusterState {
        let block = IPBlock(
            cidr: try #require(IPPrefix(cidr)), except: try except.map { try #require(IPPrefix($0)) })
        return ClusterState(
            pods: [Pod(namespace: "n", name: "web", ips: [try #require(IPAddress("10.0.0.1"))])],
            networkPolicies: [
                NetworkPolicy(namespace: "n", name: "p", ingress: [NetworkPolicyRule(peers: [.ipBlock(block)])])
            ])
    }

    static func flow(from source: String) throws -> FlowKey {
        FlowKey(
            source: try #require(IPAddress(source)), destination: try #require(IPAddress("10.0.0.1")), transport: .tcp,
            sourcePort: 40000, destinationPort: 80)
    }
}
