/// Why a verdict came out as it did, in the few words a metric label needs.
///
/// With cluster-wide policies each direction is decided by a tier (kubernetes-sigs/network-policy-api): an
/// AdminNetworkPolicy rule, the NetworkPolicies, a BaselineAdminNetworkPolicy rule, or the default. A denial names
/// the first direction that denied (egress is decided first); an allowed connection names the strongest tier
/// that allowed either direction: admin, then NetworkPolicy, then baseline, then an admin Pass that no later tier
/// decided, then not isolated.
public enum VerdictReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Neither end is a pod isolated for the direction concerned: allowed.
    case notIsolated = 0
    /// Every isolated end has a rule that allows the connection.
    case allowedByPolicy = 1
    /// The source pod is isolated for egress and no egress rule allows the connection.
    case deniedByEgress = 2
    /// The destination pod is isolated for ingress and no ingress rule allows the connection.
    case deniedByIngress = 3
    /// An AdminNetworkPolicy rule with action Allow decided a direction; NetworkPolicy was not consulted.
    case allowedByAdmin = 4
    /// An AdminNetworkPolicy egress rule of the source pod denied the connection.
    case deniedByAdminEgress = 5
    /// An AdminNetworkPolicy ingress rule of the destination pod denied the connection.
    case deniedByAdminIngress = 6
    /// An AdminNetworkPolicy rule passed the connection on, and neither NetworkPolicy nor the baseline decided it:
    /// allowed by default.
    case passedByAdmin = 7
    /// A BaselineAdminNetworkPolicy rule with action Allow decided a direction of a pod no NetworkPolicy isolates.
    case allowedByBaseline = 8
    /// A BaselineAdminNetworkPolicy egress rule of the source pod denied the connection.
    case deniedByBaselineEgress = 9
    /// A BaselineAdminNetworkPolicy ingress rule of the destination pod denied the connection.
    case deniedByBaselineIngress = 10

    public var isAllowed: Bool {
        switch self {
        case .notIsolated, .allowedByPolicy, .allowedByAdmin, .passedByAdmin, .allowedByBaseline: return true
        case .deniedByEgress, .deniedByIngress, .deniedByAdminEgress, .deniedByAdminIngress, .deniedByBaselineEgress,
            .deniedByBaselineIngress:
            return false
        }
    }

    /// Whether the reason is a denial by the source pod's egress (of whichever tier).
    public var isEgressDenial: Bool {
        self == .deniedByEgress || self == .deniedByAdminEgress || self == .deniedByBaselineEgress
    }

    /// A metric label value: `not_isolated`, `allowed_by_policy`, `denied_egress`, `denied_ingress`,
    /// `allowed_by_admin`, `denied_admin_egress`, `denied_admin_ingress`, `passed_by_admin`, `allowed_by_baseline`,
    /// `denied_baseline_egress` or `denied_baseline_ingress`.
    public var description: String {
        switch self {
        case .notIsolated: return "not_isolated"
        case .allowedByPolicy: return "allowed_by_policy"
        case .deniedByEgress: return "denied_egress"
        case .deniedByIngress: return "denied_ingress"
        case .allowedByAdmin: return "allowed_by_admin"
        case .deniedByAdminEgress: return "denied_admin_egress"
        case .deniedByAdminIngress: return "denied_admin_ingress"
        case .passedByAdmin: return "passed_by_admin"
        case .allowedByBaseline: return "allowed_by_baseline"
        case .deniedByBaselineEgress: return "denied_baseline_egress"
        case .deniedByBaselineIngress: return "denied_baseline_ingress"
        }
    }
}

/// The answer for one connection: allowed or denied, why, and the rule that decided each direction.
@frozen
public struct Verdict: Hashable, Sendable {
    public var reason: VerdictReason
    /// The compiled rule that decided the source's egress: the first NetworkPolicy rule that allowed it, or the
    /// admin or baseline rule that allowed or denied it; -1 when none did (not isolated, passed, or denied by
    /// NetworkPolicy).
    public var egressRule: Int32
    /// The compiled rule that decided the destination's ingress, as `egressRule`.
    public var ingressRule: Int32
    /// For a denial: the namespace of the pod whose policy denied it is in audit mode
    /// (`tollgate.io/enforcement: audit`), so the datapath lets the connection through and counts it.
    public var audited: Bool

    @inlinable
    public init(reason: VerdictReason, egressRule: Int32 = -1, ingressRule: Int32 = -1, audited: Bool = false) {
        self.reason = reason
        self.egressRule = egressRule
        self.ingressRule = ingressRule
        self.audited = audited
    }

    @inlinable
    public var isAllowed: Bool { reason.isAllowed }
}
