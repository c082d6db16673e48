/// An object loaded from a manifest, of one of the kinds Tollgate understands.
///
/// Indirect: an object is one pointer wide, so a store of 100,000 pods keyed by ``ObjectKey`` (a hash table of
/// 2^18 buckets at that size) holds pointers rather than 100-byte payloads in every bucket, empty or not.
public indirect enum ManifestObject: Hashable, Sendable {
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
