/// Whether connections between pods and node addresses are judged (the `podToNode` setting).
///
/// Node addresses are this host's own interface addresses, the addresses listed with `--node-address` (or
/// `nodeAddresses`), and the `status.addresses` of the Node objects the policy sources hold.
public enum PodToNodeMode: String, Sendable, Hashable, CaseIterable {
    /// Never queued in either direction: kubelet probes, the API server and node agents always get through.
    case exempt
    /// Judged like any other connection (a node address is an `ipBlock` address, or a `nodes` peer of an admin
    /// policy). Connections from a peer node's address are still not judged again here: that peer judged them.
    case enforce
}
