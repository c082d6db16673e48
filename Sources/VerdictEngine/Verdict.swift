/// Why a verdict came out as it did, in the few words a metric label needs.
public enum VerdictReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Neither end is a pod isolated for the direction concerned: allowed.
    case notIsolated = 0
    /// Every isolated end has a rule that allows the connection.
    case allowedByPolicy = 1
    /// The source pod is isolated for egress and no egress rule allows the connection.
    case deniedByEgress = 2
    /// The destination pod is isolated for ingress and no ingress rule allows the connection.
    case deniedByIngress = 3

    public var isAllowed: Bool { self == .notIsolated || self == .allowedByPolicy }

    /// A metric label value: `not_isolated`, `allowed_by_policy`, `denied_egress` or `denied_ingress`.
    public var description: String {
        switch self {
        case .notIsolated: return "not_isolated"
        case .allowedByPolicy: return "allowed_by_policy"
        case .deniedByEgress: return "denied_egress"
        case .deniedByIngress: return "denied_ingress"
        }
    }
}

/// The answer for one connection: allowed or denied, why, and the first rule that allowed each direction.
@frozen
public struct Verdict: Hashable, Sendable {
    public var reason: VerdictReason
    /// The compiled rule that allowed the source's egress, or -1 (not isolated, or denied).
    public var egressRule: Int32
    /// The compiled rule that allowed the destination's ingress, or -1 (not isolated, or denied).
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
