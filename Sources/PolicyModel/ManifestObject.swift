/// An object loaded from a manifest, of one of the kinds Tollgate understands.
public enum ManifestObject: Hashable, Sendable {
    case namespace(Namespace)
    case pod(Pod)
    case networkPolicy(NetworkPolicy)
    /// An `AdminNetworkPolicy` or `BaselineAdminNetworkPolicy`.
    case adminNetworkPolicy(AdminNetworkPolicy)
    case node(ClusterNode)

    public var key: ObjectKey {
        switch self {
        case .namespace(let n): return n.key
        case .pod(let p): return p.key
        case .networkPolicy(let p): return p.key
        case .adminNetworkPolicy(let p): return p.key
        case .node(let n): return n.key
        }
    }
}
