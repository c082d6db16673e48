import NetworkTypes

/// Everything the verdict engine compiles: namespaces, pods and policies, in a deterministic order.
public struct ClusterState: Sendable {
    public private(set) var namespaces: [Namespace]
    public private(set) var pods: [Pod]
    public private(set) var networkPolicies: [NetworkPolicy]
    /// Cluster-wide policies in evaluation order (`AdminNetworkPolicy.evaluatedBefore`): the admin tier by
    /// priority, then the baseline tier by priority, the BaselineAdminNetworkPolicy last; ties by name and kind.
    public private(set) var adminPolicies: [AdminNetworkPolicy]
    /// Nodes by name.
    public private(set) var nodes: [ClusterNode]
    private var namespaceIndex: [String: Int]

    public init(
        namespaces: [Namespace] = [], pods: [Pod] = [], networkPolicies: [NetworkPolicy] = [],
        adminPolicies: [AdminNetworkPolicy] = [], nodes: [ClusterNode] = []
    ) {
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
        self.adminPolicies = adminPolicies.sorted(by: AdminNetworkPolicy.evaluatedBefore)
        self.nodes = nodes.sorted { $0.name < $1.name }
    }

    /// Builds the state from loaded objects, of whatever kinds.
    public init(objects: some Sequence<ManifestObject>) {
        var namespaces: [Namespace] = []
        var pods: [Pod] = []
        var policies: [NetworkPolicy] = []
        var adminPolicies: [AdminNetworkPolicy] = []
        var nodes: [ClusterNode] = []
        for object in objects {
            switch object {
            case .namespace(let n): namespaces.append(n)
            case .pod(let p): pods.append(p)
            case .networkPolicy(let p): policies.append(p)
            case .adminNetworkPolicy(let p): adminPolicies.append(p)
            case .node(let n): nodes.append(n)
            }
        }
        self.init(
            namespaces: namespaces, pods: pods, networkPolicies: policies, adminPolicies: adminPolicies, nodes: nodes)
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

extension ClusterState {
    /// The addresses a `nodes` peer matches for each node: its `status.addresses`, plus the addresses of the
    /// host-network pods scheduled on it (they use the node's network, and are matched as the node).
    public func nodeAddresses() -> [[IPAddress]] {
        var byName: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { byName[node.name] = index }
        var result = nodes.map(\.addresses)
        for pod in pods where pod.hostNetwork && pod.phase != .succeeded && pod.phase != .failed {
            guard let nodeName = pod.nodeName, let index = byName[nodeName] else { continue }
            for address in pod.ips where !result[index].contains(address) { result[index].append(address) }
        }
        return result
    }

    /// Policies of one tier that share a priority, in evaluation order: the API leaves their relative order
    /// undefined; Tollgate evaluates them by name (then kind). One line per tie, for `check` and the compile
    /// diagnostics.
    public var priorityTies: [String] {
        var result: [String] = []
        // The BaselineAdminNetworkPolicy has no priority (its precedence is after every other baseline policy).
        let ranked = adminPolicies.filter { $0.kind != .baselineAdminNetworkPolicy }
        var index = 0
        while index < ranked.count {
            var end = index + 1
            while end < ranked.count && ranked[end].tier == ranked[index].tier
                && ranked[end].priority == ranked[index].priority
            {
                end += 1
            }
            if end - index > 1 {
                let group = ranked[index..<end]
                let names = group.map(\.name).joined(separator: ", ")
                let subject: String
                if group.allSatisfy({ $0.kind == .adminNetworkPolicy }) {
                    subject = "AdminNetworkPolicies \(names)"
                } else if group.allSatisfy({ $0.kind == .clusterNetworkPolicy }) {
                    subject = "\(ranked[index].tier.rawValue)-tier ClusterNetworkPolicies \(names)"
                } else {
                    subject = "\(ranked[index].tier.rawValue)-tier policies "
                        + group.map { "\($0.kind.rawValue) \($0.name)" }.joined(separator: ", ")
                }
                result.append(
                    "\(subject) share priority \(ranked[index].priority); "
                        + "the API leaves their order undefined, Tollgate evaluates them by name")
            }
            index = end
        }
        return result
    }
}
