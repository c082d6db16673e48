/// What the rule grammars of the network-policy-api kinds do differently: v1alpha1 (`AdminNetworkPolicy`,
/// `BaselineAdminNetworkPolicy`, apis/v1alpha1) and v1alpha2 (`ClusterNetworkPolicy`, apis/v1alpha2). One rule
/// decoder and one peer decoder (`ObjectDecoder+AdminPolicyRules.swift`) read both; each kind's decoder file
/// defines its dialect.
struct AdminPolicyDialect: Sendable {
    /// `spec.priority`, in every kind that has one.
    static let priorities = 0...1000
    /// The longest rule `name`, in every kind.
    static let maxRuleNameLength = 100

    /// The kind whose manifests are read: it spells the actions (`AdminPolicyAction.name(in:)`).
    let kind: AdminPolicyKind
    /// The actions a rule may take, in the order error messages list them.
    let actions: [AdminPolicyAction]
    /// The message for a rule without `action`.
    let missingActionMessage: String
    /// For an unknown action, by the name written: a hint appended in parentheses (another version's spelling).
    let actionHints: [String: String]
    /// The rule field that lists port entries: `ports` (v1alpha1) or `protocols` (v1alpha2).
    let portsField: String
    /// What a count of `portsField` entries is called in messages: "ports" or "entries".
    let portEntriesNoun: String
    /// The field of a port entry that names a container port: `namedPort` or `destinationNamedPort`.
    let namedPortField: String
    /// Decodes one entry of `portsField` at a path, reporting its errors to the decoder.
    let decodePort: @Sendable (ObjectDecoder, ManifestNode, String) -> AdminPolicyPort?
    /// The most rules per direction.
    let maxRules: Int
    /// The most peers per rule.
    let maxPeers: Int
    /// The most entries in `portsField`.
    let maxPorts: Int
    /// The most CIDRs in a `networks` peer.
    let maxNetworks: Int
    /// The most names in a `domainNames` egress peer; nil where the dialect has no `domainNames` peers.
    let maxDomainNames: Int?
    /// Whether a `pods` peer or subject may leave out `namespaceSelector` (then every namespace; v1alpha2).
    let namespaceSelectorOptional: Bool

    /// The fields of a peer in the given direction, in the order messages list them.
    func peerFields(ingress: Bool) -> [String] {
        if ingress { return ["namespaces", "pods"] }
        return ["namespaces", "pods", "nodes", "networks"] + (maxDomainNames == nil ? [] : ["domainNames"])
    }

    /// The peer fields that name addresses rather than pods, so have no named ports.
    var addressPeerFields: [String] {
        let podFields = peerFields(ingress: true)
        return peerFields(ingress: false).filter { !podFields.contains($0) }
    }

    /// "a", "a or b", "a, b or c": alternatives as messages list them.
    static func alternatives(_ items: [String]) -> String {
        guard let last = items.last else { return "" }
        let rest = items.dropLast()
        return rest.isEmpty ? last : "\(rest.joined(separator: ", ")) or \(last)"
    }
}
