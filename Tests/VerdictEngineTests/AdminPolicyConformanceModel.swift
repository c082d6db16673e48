import NetworkTypes
import PolicyModel

/// The cluster of the network-policy-api conformance suite (kubernetes-sigs/network-policy-api,
/// `conformance/base/manifests.yaml`): namespaces `network-policy-conformance-<house>` labelled
/// `conformance-house: <house>` for gryffindor, slytherin, hufflepuff, ravenclaw and forbidden-forrest, each with
/// two pods of a StatefulSet labelled with the house (harry-potter, draco-malfoy, cedric-diggory, luna-lovegood,
/// and the host-network centaur). Server containers declare `web` 80/TCP and `dns` 53/UDP (centaur: `web-36363`,
/// `web-36364` and `dns`); they also serve 8080/TCP, 5353/UDP, 9003/SCTP and 9005/SCTP without a port name.
///
/// The suite runs on a kind cluster; here the two nodes are kind-worker and kind-worker2, each pod `-0` runs on
/// kind-worker and `-1` on kind-worker2, and every pod is dual-stack so that each case runs once per family.
enum ConformanceModel {
    static let houses = ["gryffindor", "slytherin", "hufflepuff", "ravenclaw", "forbidden-forrest"]
    static let statefulSets = ["harry-potter", "draco-malfoy", "cedric-diggory", "luna-lovegood", "centaur"]
    static let nodeNames = ["kind-worker", "kind-worker2"]

    /// A pod of the model: house and ordinal, such as gryffindor/0 for harry-potter-0.
    struct PodRef: Hashable, Sendable, CustomStringConvertible {
        var house: String
        var ordinal: Int

        var namespace: String { "network-policy-conformance-\(house)" }
        var name: String {
            let index = ConformanceModel.houses.firstIndex(of: house) ?? 0
            return "\(ConformanceModel.statefulSets[index])-\(ordinal)"
        }
        var isHostNetwork: Bool { house == "forbidden-forrest" }
        var description: String { name }
    }

    static func namespace(_ house: String) -> String { "network-policy-conformance-\(house)" }

    /// A node's address in `family`: 172.18.0.2 and fc00:f853:ccd:e793::2 for kind-worker, ...3 for kind-worker2.
    static func nodeAddress(_ node: Int, family: AddressFamily) -> IPAddress {
        switch family {
        case .ipv4: return .v4(IPv4Address(172, 18, 0, UInt8(2 + node)))
        case .ipv6: return .v6(IPv6Address(rawValue: UInt128(0xfc00_f853_0ccd_e793) << 64 | UInt128(2 + node)))
        }
    }

    /// A pod's address: 10.244.<house>.<10 + ordinal> and fd00:10:244:<house>::<10 + ordinal>; a host-network pod
    /// has its node's.
    static func address(of pod: PodRef, family: AddressFamily) -> IPAddress {
        if pod.isHostNetwork { return nodeAddress(pod.ordinal, family: family) }
        let house = UInt8((houses.firstIndex(of: pod.house) ?? 9) + 1)
        let host = UInt8(10 + pod.ordinal)
        switch family {
        case .ipv4:
            return .v4(IPv4Address(10, 244, house, host))
        case .ipv6:
            return .v6(
                IPv6Address(
                    rawValue: UInt128(0xfd00_0010_0244) << 80 | UInt128(house) << 64 | UInt128(host)))
        }
    }

    static var pods: [PodRef] { houses.flatMap { house in [0, 1].map { PodRef(house: house, ordinal: $0) } } }

    static func containerPorts(_ pod: PodRef) -> [ContainerPort] {
        if pod.isHostNetwork {
            return [
                ContainerPort(name: "web-36363", port: 36363), ContainerPort(name: "web-36364", port: 36364),
                ContainerPort(name: "dns", port: 53, protocol: .udp),
            ]
        }
        return [ContainerPort(name: "web", port: 80), ContainerPort(name: "dns", port: 53, protocol: .udp)]
    }

    static var namespaceObjects: [Namespace] {
        houses.map { Namespace(name: namespace($0), labels: ["conformance-house": $0]) }
    }

    static var podObjects: [Pod] {
        pods.map { pod in
            Pod(
                namespace: pod.namespace, name: pod.name, labels: ["conformance-house": pod.house],
                nodeName: nodeNames[pod.ordinal], hostNetwork: pod.isHostNetwork,
                containerPorts: containerPorts(pod), phase: .running,
                ips: [address(of: pod, family: .ipv4), address(of: pod, family: .ipv6)])
        }
    }

    static var nodeObjects: [ClusterNode] {
        nodeNames.enumerated().map { index, name in
            ClusterNode(
                name: name, labels: ["kubernetes.io/hostname": name, "kubernetes.io/os": "linux"],
                addresses: [nodeAddress(index, family: .ipv4), nodeAddress(index, family: .ipv6)])
        }
    }
}
