import NetworkTypes

/// A Kubernetes Node: its name, labels and addresses (`status.addresses` of type InternalIP or ExternalIP), the
/// targets of `nodes` peers. Host-network pods use their node's addresses and are matched as the node.
public struct ClusterNode: Hashable, Sendable {
    /// `metadata.name`.
    public let name: String
    /// `metadata.labels`, which `nodes` peers select on.
    public let labels: Labels
    /// The node's addresses, without duplicates, in manifest order.
    public let addresses: [IPAddress]

    /// A node; duplicate addresses are dropped.
    public init(name: String, labels: [String: String] = [:], addresses: [IPAddress] = []) {
        self.name = name
        self.labels = Labels(labels)
        var seen = Set<IPAddress>()
        self.addresses = addresses.filter { seen.insert($0).inserted }
    }

    /// `Node name`.
    public var key: ObjectKey { ObjectKey(kind: "Node", namespace: "", name: name) }
}
