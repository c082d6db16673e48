import NetworkTypes
import PolicyModel
import VerdictEngine
import Testing

/// One conformance test of kubernetes-sigs/network-policy-api (`conformance/tests/*.go`), carried over as a table
/// row: the policies in force (upstream updates a policy between subtests; each state is its own row) and the
/// probes with the verdict reason each must get. Every row runs once per address family.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    /// One probe: upstream's `PokeServer(client, protocol, server, port, shouldConnect)`, with the reason the
    /// engine must give (which says whether it connects, and which tier decided).
    struct Probe: Sendable, CustomStringConvertible {
        enum Target: Sendable {
            case pod(ConformanceModel.PodRef)
            /// A node's address (kind-worker is 0).
            case node(Int)
            /// An address outside the cluster.
            case external(v4: String, v6: String)
        }

        var from: ConformanceModel.PodRef
        var to: Target
        var `protocol`: TransportProtocol
        var port: UInt16
        var expected: VerdictReason

        var description: String {
            let target: String
            switch to {
            case .pod(let pod): target = pod.name
            case .node(let index): target = ConformanceModel.nodeNames[index]
            case .external(let v4, _): target = v4
            }
            return "\(from.name) -> \(target) \(`protocol`.rawValue)/\(port)"
        }

        func flow(family: AddressFamily) throws -> FlowKey {
            let destination: IPAddress
            switch to {
            case .pod(let pod): destination = ConformanceModel.address(of: pod, family: family)
            case .node(let index): destination = ConformanceModel.nodeAddress(index, family: family)
            case .external(let v4, let v6): destination = try #require(IPAddress(family == .ipv4 ? v4 : v6))
            }
            return FlowKey(
                source: ConformanceModel.address(of: from, family: family), destination: destination,
                transport: `protocol`.ipProtocol, sourcePort: 40000, destinationPort: port)
        }
    }

    /// `ShortName` of the upstream test and the `t.Run` text, or a Tollgate case on the same model.
    var name: String
    var adminPolicies: @Sendable (AddressFamily) -> [AdminNetworkPolicy]
    var networkPolicies: [NetworkPolicy] = []
    /// A file under `Fixtures/admin-policies/` holding the same policies for IPv4, loaded through the manifest
    /// loader and compared with `adminPolicies` and `networkPolicies`.
    var fixture: String?
    var probes: [Probe]

    var testDescription: String { name }

    func state(family: AddressFamily) -> ClusterState {
        ClusterState(
            namespaces: ConformanceModel.namespaceObjects, pods: ConformanceModel.podObjects,
            networkPolicies: networkPolicies, adminPolicies: adminPolicies(family), nodes: ConformanceModel.nodeObjects)
    }
}
