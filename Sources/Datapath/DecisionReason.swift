import VerdictEngine

/// Why the datapath gave a packet its verdict: the engine's reasons, plus the cases the engine never sees.
public enum DecisionReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    case notIsolated = 0
    case allowedByPolicy
    case deniedByEgress
    case deniedByIngress
    /// IPv6 neighbour discovery, which always passes (RFC 4861; kube-network-policies #191).
    case neighbourDiscovery
    /// The packet could not be parsed: the failure-mode verdict.
    case malformed
    /// No policy snapshot is active yet (the directory is missing or has never loaded): the failure-mode verdict.
    case noSnapshot
    /// The engine's reasons of the cluster-wide tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy).
    case allowedByAdmin
    case deniedByAdminEgress
    case deniedByAdminIngress
    case passedByAdmin
    case allowedByBaseline
    case deniedByBaselineEgress
    case deniedByBaselineIngress

    init(_ reason: VerdictReason) {
        switch reason {
        case .notIsolated: self = .notIsolated
        case .allowedByPolicy: self = .allowedByPolicy
        case .deniedByEgress: self = .deniedByEgress
        case .deniedByIngress: self = .deniedByIngress
        case .allowedByAdmin: self = .allowedByAdmin
        case .deniedByAdminEgress: self = .deniedByAdminEgress
        case .deniedByAdminIngress: self = .deniedByAdminIngress
        case .passedByAdmin: self = .passedByAdmin
        case .allowedByBaseline: self = .allowedByBaseline
        case .deniedByBaselineEgress: self = .deniedByBaselineEgress
        case .deniedByBaselineIngress: self = .deniedByBaselineIngress
        }
    }

    /// Whether the reason is a denial by the source pod's egress (of whichever tier).
    public var isEgressDenial: Bool {
        self == .deniedByEgress || self == .deniedByAdminEgress || self == .deniedByBaselineEgress
    }

    /// The metric label value.
    public var description: String {
        switch self {
        case .notIsolated: return "not_isolated"
        case .allowedByPolicy: return "allowed_by_policy"
        case .deniedByEgress: return "denied_egress"
        case .deniedByIngress: return "denied_ingress"
        case .neighbourDiscovery: return "neighbour_discovery"
        case .malformed: return "malformed"
        case .noSnapshot: return "no_snapshot"
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

