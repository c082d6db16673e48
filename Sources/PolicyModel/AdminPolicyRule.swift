/// One ingress or egress rule of an `AdminNetworkPolicy`, `BaselineAdminNetworkPolicy` or `ClusterNetworkPolicy`:
/// when the peer is one of
/// `peers` and the port one of `ports`, `action` decides the connection.
public struct AdminPolicyRule: Hashable, Sendable {
    /// `name`: at most 100 characters, for people and logs; may be empty.
    public let name: String
    /// `action`: what the rule does to the connections it matches.
    public let action: AdminPolicyAction
    /// `from` (ingress) or `to` (egress): at least one peer; the rule matches when any does.
    public let peers: [AdminPolicyPeer]
    /// `ports`: nil matches every port and protocol; otherwise the rule matches when any entry does.
    public let ports: [AdminPolicyPort]?

    /// A rule; `ports` nil (or empty) matches every port and protocol.
    public init(name: String = "", action: AdminPolicyAction, peers: [AdminPolicyPeer], ports: [AdminPolicyPort]? = nil) {
        self.name = name
        self.action = action
        self.peers = peers
        self.ports = ports
    }
}

/// What a matching admin-tier or baseline rule does. ClusterNetworkPolicy (v1alpha2) spells `allow` "Accept".
public enum AdminPolicyAction: String, Hashable, Sendable, CaseIterable {
    /// Allows the connection; no later rule, policy or tier is consulted.
    case allow = "Allow"
    /// Denies the connection; no later rule, policy or tier is consulted.
    case deny = "Deny"
    /// Skips the rest of the rule's tier: after the admin tier, NetworkPolicy decides, then the baseline; after
    /// the baseline tier (ClusterNetworkPolicy only), the default (allowed).
    case pass = "Pass"

    /// The action's name in manifests of `kind`: "Accept" for `allow` in a ClusterNetworkPolicy, the raw value
    /// otherwise.
    public func name(in kind: AdminPolicyKind) -> String {
        kind == .clusterNetworkPolicy && self == .allow ? "Accept" : rawValue
    }

    /// The action a manifest of `kind` names `text`, or nil when the kind has no such action.
    public init?(name text: String, in kind: AdminPolicyKind) {
        guard let action = AdminPolicyAction.allCases.first(where: { $0.name(in: kind) == text }) else { return nil }
        self = action
    }
}
