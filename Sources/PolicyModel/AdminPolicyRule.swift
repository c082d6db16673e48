/// One ingress or egress rule of an `AdminNetworkPolicy` or `BaselineAdminNetworkPolicy`: when the peer is one of
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

/// What a matching admin-tier or baseline rule does.
public enum AdminPolicyAction: String, Hashable, Sendable, CaseIterable {
    /// Allows the connection; no later rule, policy or tier is consulted.
    case allow = "Allow"
    /// Denies the connection; no later rule, policy or tier is consulted.
    case deny = "Deny"
    /// (Admin tier only.) Skips the rest of the admin tier: NetworkPolicy decides, then the baseline.
    case pass = "Pass"
}
