import NetworkTypes
import PolicyModel
import Testing

/// One test of the upstream e2e NetworkPolicy suite, carried over as a table row: the policies (per step, for
/// the cases that update policies or labels) and, per step, the probes with their expected truth tables.
struct UpstreamCase: Sendable, CustomTestStringConvertible {
    /// Where the case comes from, which names the upstream `Context`.
    enum Origin: String, Sendable {
        /// "NetworkPolicy between server and client" (TCP).
        case upstream = "upstream"
        /// "NetworkPolicy between server and client using UDP".
        case upstreamUDP = "upstream UDP"
        /// "NetworkPolicy between server and client using SCTP".
        case upstreamSCTP = "upstream SCTP"
        /// Not an upstream test: a Tollgate case written on the upstream model for a rule upstream does not probe.
        case tollgate = "tollgate, upstream model"
    }

    /// One connection probe: port and protocol, and the truth table expected for it.
    struct Probe: Sendable {
        var port: UInt16
        var `protocol`: TransportProtocol
        var expected: Reachability

        init(_ port: UInt16, _ expected: Reachability) {
            self.init(port, .tcp, expected)
        }

        init(_ port: UInt16, _ proto: TransportProtocol, _ expected: Reachability) {
            self.port = port
            self.protocol = proto
            self.expected = expected
        }
    }

    /// One state of the cluster: the policies that exist (the whole set; a step replaces the previous one), the
    /// label changes applied to the model, and the probes run against that state.
    struct Step: Sendable {
        var namespaceLabels: [String: [String: String]] = [:]
        var podLabels: [UpstreamModel.PodID: [String: String]] = [:]
        var policies: @Sendable (UpstreamAddressing) throws -> [NetworkPolicy]
        var probes: [Probe]

        /// The cluster state of this step for `family`.
        func state(family: AddressFamily) throws -> ClusterState {
            ClusterState(
                namespaces: UpstreamModel.namespaces(extraLabels: namespaceLabels),
                pods: UpstreamModel.podObjects(extraLabels: podLabels),
                networkPolicies: try policies(UpstreamAddressing(family: family)))
        }
    }

    /// The upstream `It(...)` text.
    var name: String
    var origin: Origin
    /// A YAML file under `Fixtures/upstream-e2e/` holding the first step's policies (IPv4), if there is one.
    var fixture: String?
    var steps: [Step]

    var testDescription: String { "\(origin.rawValue): \(name)" }
}
