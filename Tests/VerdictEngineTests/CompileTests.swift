import NetworkTypes
import PolicyModel
import TollgateBench
import Testing
@testable import VerdictEngine

// Invariants of `PolicyCompiler.compile`: statistics, table sizes, determinism, diagnostics, generation, and the
// empty state.

private func ip(_ text: String) throws -> IPAddress { try #require(IPAddress(text), "bad address \(text)") }
private func cidr(_ text: String) throws -> IPPrefix { try #require(IPPrefix(text), "bad prefix \(text)") }

@Suite("Compile invariants")
struct CompileTests {
    /// Ten pods, six endpoints, four identities; three policies with three compiled rules and two distinct blocks.
    static func statisticsWorld() throws -> ClusterState {
        let http80 = [ContainerPort(name: "http", port: 80)]
        let web = ["app": "web"]
        let pods = [
            Pod(namespace: "a", name: "p1", labels: web, containerPorts: http80, ips: [try ip("10.0.0.1")]),
            // Same namespace, labels and ports as p1: the same identity, dual-stack or not, pending or running.
            Pod(namespace: "a", name: "p2", labels: web, containerPorts: http80, ips: [try ip("10.0.0.2"), try ip("fd00::2")]),
            Pod(namespace: "a", name: "p2-pending", labels: web, containerPorts: http80, phase: .pending, ips: [try ip("10.0.0.10")]),
            // Different ports, labels or namespace: new identities.
            Pod(namespace: "a", name: "p3", labels: web, containerPorts: [ContainerPort(name: "http", port: 8080)], ips: [try ip("10.0.0.3")]),
            Pod(namespace: "a", name: "p4", labels: ["app": "db"], ips: [try ip("10.0.0.4")]),
            Pod(namespace: "b", name: "p5", labels: web, containerPorts: http80, ips: [try ip("10.0.1.5")]),
            // Not endpoints: host network, finished, no address.
            Pod(namespace: "a", name: "host", labels: web, hostNetwork: true, ips: [try ip("192.168.0.1")]),
            Pod(namespace: "a", name: "done", labels: web, phase: .succeeded, ips: [try ip("10.0.0.9")]),
            Pod(namespace: "a", name: "failed", labels: web, phase: .failed, ips: [try ip("10.0.0.8")]),
            Pod(namespace: "a", name: "pending", labels: web, phase: .pending),
        ]
        let block = IPBlock(cidr: try cidr("10.0.0.0/8"), except: [try cidr("10.0.1.0/24")])
        let policies = [
            NetworkPolicy(namespace: "a", name: "deny", policyTypes: [.ingress, .egress]),
            NetworkPolicy(
                namespace: "a", name: "allow", podSelector: LabelSelector(matchLabels: web),
                ingress: [
                    NetworkPolicyRule(
                        peers: [.ipBlock(block), .selector(pods: LabelSelector(matchLabels: ["app": "db"]), namespaces: nil)],
                        ports: [NetworkPolicyPort(port: .name("http"))]),
                    NetworkPolicyRule(),
                ]),
            // Egress only: its ingress rules are not compiled. The same block again counts once.
            NetworkPolicy(
                namespace: "b", name: "egress", policyTypes: [.egress],
                ingress: [NetworkPolicyRule()],
                egress: [NetworkPolicyRule(peers: [.ipBlock(block), .ipBlock(IPBlock(cidr: try cidr("fd00::/8")))])]),
        ]
        return ClusterState(
            namespaces: [Namespace(name: "a", labels: ["team": "x"]), Namespace(name: "b")], pods: pods,
            networkPolicies: policies)
    }

    @Test("Statistics count pods, endpoints, identities, rules, blocks and classes")
    func statisticsCounts() throws {
        let snapshot = PolicyCompiler.compile(try Self.statisticsWorld())
        // Classes: outside every block; in 10.0.0.0/8 but not 10.0.1.0/24 (which is class "none" again); fd00::/8.
        let expected = CompileCounts(
            namespaces: 2, pods: 10, endpoints: 6, identities: 4, networkPolicies: 3, rules: 3, ipBlocks: 2,
            addressClasses: 3)
        #expect(CompileCounts(snapshot.statistics) == expected)
        #expect(snapshot.statistics.phases.map(\.name) == ["identities", "rules", "addresses", "programs"])
        #expect(snapshot.diagnostics == [])
    }

    @Test("Identities group pods of one namespace with equal labels and ports")
    func identitiesGroupEqualPods() throws {
        let snapshot = PolicyCompiler.compile(try Self.statisticsWorld())
        let identity = { (address: String) throws -> Int32 in
            snapshot.tables.slots[snapshot.tables.slot(of: try ip(address))].identity
        }
        let ids = try ["10.0.0.1", "10.0.0.2", "fd00::2", "10.0.0.10", "10.0.0.3", "10.0.0.4", "10.0.1.5"].map(identity)
        #expect(ids[0] >= 0)
        #expect(Array(ids[0...3]) == Array(repeating: ids[0], count: 4))
        #expect(Set(ids[3...]).count == 4)
        // Non-endpoints and outside addresses have no identity.
        #expect(try ["192.168.0.1", "10.0.0.9", "10.0.0.8", "8.8.8.8"].map(identity) == [-1, -1, -1, -1])
    }

    @Test("Table bytes are positive and grow with pods")
    func tableBytesGrow() {
        let small = PolicyCompiler.compile(SyntheticCluster(pods: 50, policies: 20, queries: 0, seed: 9).state)
        let large = PolicyCompiler.compile(SyntheticCluster(pods: 400, policies: 20, queries: 0, seed: 9).state)
        #expect(PolicyCompiler.compile(ClusterState()).statistics.tableBytes > 0)
        #expect(small.statistics.tableBytes > 0)
        #expect(large.statistics.tableBytes > small.statistics.tableBytes)
    }

    @Test("Compiling the same state twice gives identical verdicts", arguments: [1, 2, 3] as [UInt64])
    func compilingTwiceIsDeterministic(seed: UInt64) {
        for state in [
            CornerCaseCluster(seed: seed, queries: 0).state, SyntheticCluster(pods: 300, policies: 40, queries: 0, seed: seed).state,
        ] {
            let queries =
                CornerCaseCluster(seed: seed, queries: 2000).queries
                + SyntheticCluster(pods: 300, policies: 40, queries: 2000, seed: seed).queries
            let first = PolicyCompiler.compile(state)
            let second = PolicyCompiler.compile(state)
            #expect(queries.map(first.evaluate) == queries.map(second.evaluate))
            #expect(CompileCounts(first.statistics) == CompileCounts(second.statistics))
            #expect(first.statistics.tableBytes == second.statistics.tableBytes)
            #expect(first.diagnostics == second.diagnostics)
        }
    }

    /// Two endpoints claim 10.0.0.1 (and one of them fd00::1): the first in namespace/name order owns it, whatever
    /// the input order, and each conflict is reported once. A finished pod sharing an address is no conflict.
    @Test("An address claimed by two pods is reported and owned by the first", arguments: [false, true])
    func doublyClaimedAddress(reversed: Bool) throws {
        var pods = [
            Pod(namespace: "a", name: "first", labels: ["app": "x"], ips: [try ip("10.0.0.1"), try ip("fd00::1")]),
            Pod(namespace: "b", name: "second", labels: ["app": "y"], ips: [try ip("fd00::1"), try ip("10.0.0.1")]),
            Pod(namespace: "a", name: "finished", phase: .succeeded, ips: [try ip("10.0.0.1")]),
            Pod(namespace: "c", name: "other", ips: [try ip("10.0.0.2")]),
        ]
        if reversed { pods.reverse() }
        let snapshot = PolicyCompiler.compile(ClusterState(pods: pods))
        // In the order of the second pod's addresses.
        #expect(
            snapshot.diagnostics == [
                "address fd00::1 belongs to both a/first and b/second; the first is used",
                "address 10.0.0.1 belongs to both a/first and b/second; the first is used",
            ])
        #expect(snapshot.pod(owning: try ip("10.0.0.1"))?.key == ObjectKey(kind: "Pod", namespace: "a", name: "first"))
        #expect(snapshot.pod(owning: try ip("fd00::1"))?.key == ObjectKey(kind: "Pod", namespace: "a", name: "first"))
        #expect(snapshot.pod(owning: try ip("10.0.0.2"))?.key == ObjectKey(kind: "Pod", namespace: "c", name: "other"))
    }

    @Test("The generation is passed through")
    func generationPassedThrough() throws {
        let state = try Self.statisticsWorld()
        #expect(PolicyCompiler.compile(state).generation == 1)
        #expect(PolicyCompiler.compile(state, generation: 42).generation == 42)
        #expect(PolicyCompiler.compile(state, generation: .max).generation == .max)
    }

    @Test("An empty state compiles and allows everything")
    func emptyStateAllowsEverything() {
        let snapshot = PolicyCompiler.compile(ClusterState())
        #expect(
            CompileCounts(snapshot.statistics)
                == CompileCounts(
                    namespaces: 0, pods: 0, endpoints: 0, identities: 0, networkPolicies: 0, rules: 0, ipBlocks: 0,
                    addressClasses: 1))
        #expect(snapshot.diagnostics == [])
        let queries = CornerCaseCluster(seed: 5, queries: 500).queries
        #expect(queries.map { snapshot.evaluate($0) } == Array(repeating: Verdict(reason: .notIsolated), count: queries.count))
        for flow in queries.prefix(50) {
            let explanation = snapshot.explain(flow)
            #expect(explanation.sourcePod == nil && explanation.destinationPod == nil)
            #expect(explanation.egress == nil && explanation.ingress == nil)
        }
    }
}
