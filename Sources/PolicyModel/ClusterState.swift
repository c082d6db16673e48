import NetworkTypes
import Synchronization

/// Mints ``ClusterState/identityRevision`` values: unique within the process.
private let identityRevisions = Atomic<UInt64>(0)

/// Everything the verdict engine compiles: namespaces, pods and policies, in a deterministic order.
///
/// A state is built whole from objects (``init(objects:)``) or from the previous state and a change
/// (``applying(_:)``), which costs in proportion to the change, not to the cluster: the daemon keeps one state and
/// applies each reload's changes to it.
public struct ClusterState: Sendable {
    public private(set) var namespaces: [Namespace]
    public private(set) var pods: [Pod]
    public private(set) var networkPolicies: [NetworkPolicy]
    /// Cluster-wide policies in evaluation order (`AdminNetworkPolicy.evaluatedBefore`): the admin tier by
    /// priority, then the baseline tier by priority, the BaselineAdminNetworkPolicy last; ties by name and kind.
    public private(set) var adminPolicies: [AdminNetworkPolicy]
    /// Nodes by name.
    public private(set) var nodes: [ClusterNode]
    /// Changes whenever the namespaces or the pods change; two states with the same revision have the same
    /// namespaces and pods (what pod identities are made of), so a compiler may reuse what it derived from them.
    public private(set) var identityRevision: UInt64
    private var namespaceIndex: [String: Int]
    /// Namespaces declared by objects, by name.
    private var declaredNamespaces: [String: Namespace]
    /// Pods and NetworkPolicies per namespace name: a namespace they name exists even when no object declares it.
    private var namespaceReferences: [String: Int]

    public init(
        namespaces: [Namespace] = [], pods: [Pod] = [], networkPolicies: [NetworkPolicy] = [],
        adminPolicies: [AdminNetworkPolicy] = [], nodes: [ClusterNode] = []
    ) {
        var declared: [String: Namespace] = [:]
        for namespace in namespaces { declared[namespace.name] = namespace }
        var references: [String: Int] = [:]
        for pod in pods { references[pod.namespace, default: 0] += 1 }
        for policy in networkPolicies { references[policy.namespace, default: 0] += 1 }
        declaredNamespaces = declared
        namespaceReferences = references
        self.namespaces = Self.namespaces(declared: declared, references: references)
        self.pods = pods.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.networkPolicies = networkPolicies.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        namespaceIndex = Dictionary(uniqueKeysWithValues: self.namespaces.enumerated().map { ($1.name, $0) })
        self.adminPolicies = adminPolicies.sorted(by: AdminNetworkPolicy.evaluatedBefore)
        self.nodes = nodes.sorted { $0.name < $1.name }
        identityRevision = identityRevisions.add(1, ordering: .relaxed).newValue
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

    /// Namespaces referenced by pods or policies exist even when no manifest declares them: the API server would
    /// not hold those objects otherwise. They carry only the name label.
    private static func namespaces(declared: [String: Namespace], references: [String: Int]) -> [Namespace] {
        var result = Array(declared.values)
        for name in references.keys where declared[name] == nil { result.append(Namespace(name: name)) }
        return result.sorted { $0.name < $1.name }
    }

    /// This state with `changes` applied: the same state as one built whole from the changed objects, at a cost
    /// that grows with the change (a binary search per changed pod or policy; namespaces, cluster-wide policies and
    /// nodes, which are few, are re-sorted when one of them changes). The identity revision stays the same when no
    /// namespace or pod changed.
    public func applying(_ changes: ObjectChanges) -> ClusterState {
        guard !changes.isEmpty else { return self }
        var next = self
        var namespacesTouched = false
        var podsChanged = false
        for key in changes.removed {
            switch key.kind {
            case "Namespace":
                if next.declaredNamespaces.removeValue(forKey: key.name) != nil { namespacesTouched = true }
            case "Pod":
                let (index, found) = Self.position(in: next.pods, namespace: key.namespace, name: key.name)
                guard found else { continue }
                next.pods.remove(at: index)
                namespacesTouched = next.release(key.namespace) || namespacesTouched
                podsChanged = true
            case "NetworkPolicy":
                let (index, found) = Self.position(in: next.networkPolicies, namespace: key.namespace, name: key.name)
                guard found else { continue }
                next.networkPolicies.remove(at: index)
                namespacesTouched = next.release(key.namespace) || namespacesTouched
            case "Node":
                next.nodes.removeAll { $0.name == key.name }
            default:
                next.adminPolicies.removeAll { $0.key == key }
            }
        }
        var adminChanged = false
        var nodesChanged = false
        for object in changes.upserted {
            switch object {
            case .namespace(let namespace):
                if next.declaredNamespaces.updateValue(namespace, forKey: namespace.name) != namespace {
                    namespacesTouched = true
                }
            case .pod(let pod):
                let (index, found) = Self.position(in: next.pods, namespace: pod.namespace, name: pod.name)
                if found {
                    guard next.pods[index] != pod else { continue }
                    next.pods[index] = pod
                } else {
                    next.pods.insert(pod, at: index)
                    namespacesTouched = next.retain(pod.namespace) || namespacesTouched
                }
                podsChanged = true
            case .networkPolicy(let policy):
                let (index, found) = Self.position(
                    in: next.networkPolicies, namespace: policy.namespace, name: policy.name)
                if found {
                    next.networkPolicies[index] = policy
                } else {
                    next.networkPolicies.insert(policy, at: index)
                    namespacesTouched = next.retain(policy.namespace) || namespacesTouched
                }
            case .adminNetworkPolicy(let policy):
                next.adminPolicies.removeAll { $0.key == policy.key }
                next.adminPolicies.append(policy)
                adminChanged = true
            case .node(let node):
                next.nodes.removeAll { $0.name == node.name }
                next.nodes.append(node)
                nodesChanged = true
            }
        }
        if adminChanged { next.adminPolicies.sort(by: AdminNetworkPolicy.evaluatedBefore) }
        if nodesChanged { next.nodes.sort { $0.name < $1.name } }
        var namespacesChanged = false
        if namespacesTouched {
            let rebuilt = Self.namespaces(declared: next.declaredNamespaces, references: next.namespaceReferences)
            if rebuilt != next.namespaces {
                next.namespaces = rebuilt
                next.namespaceIndex = Dictionary(uniqueKeysWithValues: rebuilt.enumerated().map { ($1.name, $0) })
                namespacesChanged = true
            }
        }
        if podsChanged || namespacesChanged {
            next.identityRevision = identityRevisions.add(1, ordering: .relaxed).newValue
        }
        return next
    }

    /// Counts one more pod or policy in `namespace`; true when that makes the namespace exist.
    private mutating func retain(_ namespace: String) -> Bool {
        namespaceReferences[namespace, default: 0] += 1
        return namespaceReferences[namespace] == 1
    }

    /// Counts one pod or policy fewer in `namespace`; true when it was the last one.
    private mutating func release(_ namespace: String) -> Bool {
        guard let count = namespaceReferences[namespace] else { return false }
        if count <= 1 {
            namespaceReferences[namespace] = nil
            return true
        }
        namespaceReferences[namespace] = count - 1
        return false
    }

    /// Where `namespace/name` is, or would be inserted, in `objects` (sorted by namespace, then name).
    private static func position<Object: NamespacedObject>(
        in objects: [Object], namespace: String, name: String
    ) -> (index: Int, found: Bool) {
        var low = 0
        var high = objects.count
        let key = (namespace, name)
        while low < high {
            let mid = (low + high) / 2
            if (objects[mid].namespace, objects[mid].name) < key { low = mid + 1 } else { high = mid }
        }
        return (low, low < objects.count && objects[low].namespace == namespace && objects[low].name == name)
    }

    public func namespace(named name: String) -> Namespace? {
        namespaceIndex[name].map { namespaces[$0] }
    }

    /// The pod called `namespace/name`.
    public func pod(namespace: String, name: String) -> Pod? {
        let (index, found) = Self.position(in: pods, namespace: namespace, name: name)
        return found ? pods[index] : nil
    }
}

/// An object kept in namespace-then-name order.
protocol NamespacedObject {
    var namespace: String { get }
    var name: String { get }
}

extension Pod: NamespacedObject {}
extension NetworkPolicy: NamespacedObject {}

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
