/// Everything the verdict engine compiles: namespaces, pods and policies, in a deterministic order.
public struct ClusterState: Sendable {
    public private(set) var namespaces: [Namespace]
    public private(set) var pods: [Pod]
    public private(set) var networkPolicies: [NetworkPolicy]
    private var namespaceIndex: [String: Int]

    public init(namespaces: [Namespace] = [], pods: [Pod] = [], networkPolicies: [NetworkPolicy] = []) {
        // Namespaces referenced by pods or policies exist even when no manifest declares them: the API server
        // would not hold those objects otherwise. They carry only the name label.
        var byName: [String: Namespace] = [:]
        for namespace in namespaces { byName[namespace.name] = namespace }
        for name in pods.map(\.namespace) + networkPolicies.map(\.namespace) where byName[name] == nil {
            byName[name] = Namespace(name: name)
        }
        self.namespaces = byName.values.sorted { $0.name < $1.name }
        self.pods = pods.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.networkPolicies = networkPolicies.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        namespaceIndex = Dictionary(uniqueKeysWithValues: self.namespaces.enumerated().map { ($1.name, $0) })
    }

    /// Builds the state from loaded objects, of whatever kinds.
    public init(objects: some Sequence<ManifestObject>) {
        var namespaces: [Namespace] = []
        var pods: [Pod] = []
        var policies: [NetworkPolicy] = []
        for object in objects {
            switch object {
            case .namespace(let n): namespaces.append(n)
            case .pod(let p): pods.append(p)
            case .networkPolicy(let p): policies.append(p)
            }
        }
        self.init(namespaces: namespaces, pods: pods, networkPolicies: policies)
    }

    public func namespace(named name: String) -> Namespace? {
        namespaceIndex[name].map { namespaces[$0] }
    }

    /// The pod called `namespace/name`.
    public func pod(namespace: String, name: String) -> Pod? {
        var low = 0
        var high = pods.count
        let key = (namespace, name)
        while low < high {
            let mid = (low + high) / 2
            if (pods[mid].namespace, pods[mid].name) < key { low = mid + 1 } else { high = mid }
        }
        return low < pods.count && pods[low].namespace == namespace && pods[low].name == name ? pods[low] : nil
    }
}
