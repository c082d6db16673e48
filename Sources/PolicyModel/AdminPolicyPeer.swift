import NetworkTypes

/// A peer of an admin-tier or baseline rule (`AdminNetworkPolicyIngressPeer`, `AdminNetworkPolicyEgressPeer`):
/// exactly one of namespaces, pods, nodes (egress only) or networks (egress only).
public enum AdminPolicyPeer: Hashable, Sendable, CustomStringConvertible {
    /// Every pod (not host-network) of the namespaces the selector matches; `{}` selects all namespaces.
    case namespaces(LabelSelector)
    /// The pods `pods` selects in the namespaces `namespaces` selects.
    case pods(namespaces: LabelSelector, pods: LabelSelector)
    /// The addresses (`status.addresses`) of the nodes the selector matches, including host-network pods on them.
    case nodes(LabelSelector)
    /// Any address within one of the CIDRs, pods included.
    case networks([IPPrefix])

    public var description: String {
        switch self {
        case .namespaces(let selector): return "namespaces(\(selector))"
        case .pods(let namespaces, let pods): return "pods(\(pods)) in namespaces(\(namespaces))"
        case .nodes(let selector): return "nodes(\(selector))"
        case .networks(let prefixes): return "networks(\(prefixes.map(\.description).joined(separator: ",")))"
        }
    }
}
