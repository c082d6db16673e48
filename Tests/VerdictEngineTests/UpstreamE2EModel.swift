import NetworkTypes
import PolicyModel
import Testing
import VerdictEngine

/// The cluster of the upstream Kubernetes e2e NetworkPolicy suite (`test/e2e/network/netpol/model.go` in
/// kubernetes/kubernetes): namespaces x, y and z, each labelled `ns: <name>` (and, as the API server does,
/// `kubernetes.io/metadata.name: <name>`), each holding pods a, b and c labelled `pod: <name>`. Every pod serves
/// ports 80 and 81 over TCP, UDP and SCTP, with container ports named `serve-<port>-<protocol>` (for example
/// `serve-80-tcp`, `serve-81-udp`), as upstream's `Container.PortName()` names them.
///
/// Upstream runs single-stack clusters; here every pod is dual-stack, and each case is checked once per family:
/// x/a is 10.0.1.1 and fd00::11, y/c is 10.0.2.3 and fd00::23, and so on.
struct UpstreamModel: Sendable {
    static let namespaceNames = ["x", "y", "z"]
    static let podNames = ["a", "b", "c"]

    /// One model pod: namespace and name, such as x/a.
    struct PodID: Hashable, Sendable, Comparable, CustomStringConvertible {
        var namespace: String
        var name: String

        static func < (lhs: PodID, rhs: PodID) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
        var description: String { "\(namespace)/\(name)" }
    }

    /// The nine pods, in the order of the truth table (x/a, x/b, x/c, y/a, ...).
    static let pods: [PodID] = namespaceNames.flatMap { ns in podNames.map { PodID(namespace: ns, name: $0) } }

    /// The container ports every model pod declares.
    static let containerPorts: [ContainerPort] = [80, 81].flatMap { port in
        TransportProtocol.allCases.map { proto in
            ContainerPort(name: "serve-\(port)-\(proto.rawValue.lowercased())", port: UInt16(port), protocol: proto)
        }
    }

    /// The address of a model pod in `family`. Built from numbers, so nothing here can fail to parse.
    static func address(of pod: PodID, family: AddressFamily) -> IPAddress {
        let ns = UInt8((namespaceNames.firstIndex(of: pod.namespace) ?? 9) + 1)
        let name = UInt8((podNames.firstIndex(of: pod.name) ?? 9) + 1)
        switch family {
        case .ipv4:
            return .v4(IPv4Address(10, 0, ns, name))
        case .ipv6:
            // fd00::<ns><pod>, written in hex digits: fd00::11 is x/a.
            return .v6(IPv6Address(rawValue: (UInt128(0xfd00) << 112) | UInt128(ns) << 4 | UInt128(name)))
        }
    }

    /// The namespaces, with extra labels merged over the model's (for the label-update cases).
    static func namespaces(extraLabels: [String: [String: String]] = [:]) -> [Namespace] {
        namespaceNames.map { ns in
            Namespace(name: ns, labels: ["ns": ns].merging(extraLabels[ns] ?? [:]) { $1 })
        }
    }

    /// The pods, with extra labels merged over the model's (for the label-update cases).
    static func podObjects(extraLabels: [PodID: [String: String]] = [:]) -> [Pod] {
        pods.map { id in
            Pod(
                namespace: id.namespace, name: id.name, labels: ["pod": id.name].merging(extraLabels[id] ?? [:]) { $1 },
                nodeName: "node-1", containerPorts: containerPorts, phase: .running,
                ips: [address(of: id, family: .ipv4), address(of: id, family: .ipv6)])
        }
    }
}

/// How a case names addresses in `ipBlock`s: upstream takes a pod's `status.podIP`, so a case is written once and
/// instantiated for each address family.
struct UpstreamAddressing: Sendable {
    var family: AddressFamily

    /// The pod's address as a host prefix (`/32` or `/128`), as upstream's `podServerCIDR`.
    func host(_ namespace: String, _ pod: String) -> IPPrefix {
        IPPrefix(host: UpstreamModel.address(of: .init(namespace: namespace, name: pod), family: family))
    }

    /// The `/4` holding the pod's address, as upstream's `makeLargeCIDRForIP`.
    func large(_ namespace: String, _ pod: String) throws -> IPPrefix {
        let address = UpstreamModel.address(of: .init(namespace: namespace, name: pod), family: family)
        return try #require(IPPrefix(address: address, length: 4))
    }
}
