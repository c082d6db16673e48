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
    /// The actions and their messages.
    let actions: ActionSyntax
    /// The port entries of a rule.
    let ports: PortSyntax
    /// The list limits.
    let limits: Limits
    /// Whether a `pods` peer or subject may leave out `namespaceSelector` (then every namespace; v1alpha2).
    let namespaceSelectorOptional: Bool

    /// The fields of a peer in the given direction, in the order messages list them.
    func peerFields(ingress: Bool) -> [String] {
        if ingress { return ["namespaces", "pods"] }
        return ["namespaces", "pods", "nodes", "networks"] + (limits.domainNames == nil ? [] : ["domainNames"])
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

    /// How a dialect's rules name their actions.
    struct ActionSyntax: Sendable {
        /// The actions a rule may take, in the order error messages list them.
        let allowed: [AdminPolicyAction]
        /// The message for a rule without `action`.
        let missingMessage: String
        /// For an unknown action, by the name written: a hint appended in parentheses (another version's spelling).
        let hints: [String: String]
    }

    /// How a dialect's rules list their ports.
    struct PortSyntax: Sendable {
        /// The rule field that lists port entries: `ports` (v1alpha1) or `protocols` (v1alpha2).
        let field: String
        /// What a count of entries is called in messages: "ports" or "entries".
        let entriesNoun: String
        /// The field of an entry that names a container port: `namedPort` or `destinationNamedPort`.
        let namedPortField: String
        /// Decodes one entry at a path, reporting its errors to the decoder.
        let decode: @Sendable (ObjectDecoder, ManifestNode, String) -> AdminPolicyPort?
    }

    /// The most of each list that the CRD allows.
    struct Limits: Sendable {
        /// Rules per direction.
        let rules: Int
        /// Peers per rule.
        let peers: Int
        /// Port entries per rule.
        let ports: Int
        /// CIDRs in a `networks` peer.
        let networks: Int
        /// Names in a `domainNames` egress peer; nil where the dialect has no `domainNames` peers.
        let domainNames: Int?
    }
}
