import PolicyModel

/// Where a compiled rule came from: the policy, the direction, the rule's index within that direction, and for
/// admin-tier and baseline rules their tier, action and name.
public struct RuleOrigin: Hashable, Sendable, CustomStringConvertible {
    /// The policy that holds the rule.
    public let policy: ObjectKey
    /// The rule list it is in (`ingress` or `egress`).
    public let direction: Direction
    /// Its zero-based index in that list.
    public let index: Int
    /// `.networkPolicy` for NetworkPolicy rules (whose action is always `.allow`).
    public let tier: PolicyTier
    /// What the rule does when it matches.
    public let action: AdminPolicyAction
    /// The rule's `name` (admin and baseline rules; may be empty).
    public let name: String

    /// An origin; the defaults describe a NetworkPolicy rule.
    public init(
        policy: ObjectKey, direction: Direction, index: Int, tier: PolicyTier = .networkPolicy,
        action: AdminPolicyAction = .allow, name: String = ""
    ) {
        self.policy = policy
        self.direction = direction
        self.index = index
        self.tier = tier
        self.action = action
        self.name = name
    }

    /// `ns/policy ingress[0]` for NetworkPolicy rules; `AdminNetworkPolicy name egress[1] "rule-name" (Deny)` for the
    /// cluster-wide kinds, with the action as the kind spells it (`(Accept)` for a ClusterNetworkPolicy).
    public var description: String {
        let field = "\(direction == .ingress ? "ingress" : "egress")[\(index)]"
        if tier == .networkPolicy { return "\(policy.namespace)/\(policy.name) \(field)" }
        let label = name.isEmpty ? "" : " \"\(name)\""
        let actionName = AdminPolicyKind(rawValue: policy.kind).map { action.name(in: $0) } ?? action.rawValue
        return "\(policy.kind) \(policy.name) \(field)\(label) (\(actionName))"
    }
}

/// A traffic direction relative to the pod a policy selects.
public enum Direction: String, Hashable, Sendable {
    case ingress = "Ingress"
    case egress = "Egress"
}
