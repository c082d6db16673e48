import VerdictEngine

/// Why the datapath gave a packet its verdict: the engine's reasons, plus the cases the engine never sees.
///
/// The engine's reasons come first, with `VerdictReason`'s raw values, so a verdict's reason converts without a
/// table and the labels and tier predicates are the engine's own.
public enum DecisionReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    case notIsolated = 0
    case allowedByPolicy
    case deniedByEgress
    case deniedByIngress
    /// The engine's reasons of the cluster-wide tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy).
    case allowedByAdmin
    case deniedByAdminEgress
    case deniedByAdminIngress
    case passedByAdmin
    case allowedByBaseline
    case deniedByBaselineEgress
    case deniedByBaselineIngress
    /// IPv6 neighbour discovery, which always passes (RFC 4861; kube-network-policies #191).
    case neighbourDiscovery
    /// The packet could not be parsed: the failure-mode verdict.
    case malformed
    /// No policy snapshot is active yet (the directory is missing or has never loaded): the failure-mode verdict.
    case noSnapshot

    /// The decision reason of an engine verdict.
    @inline(__always)
    public init(_ reason: VerdictReason) {
        // The raw values match by construction (checked by a test for every case).
        self = DecisionReason(rawValue: Int(reason.rawValue)) ?? .malformed
    }

    /// The engine's reason this is, or nil for the datapath's own cases.
    public var engineReason: VerdictReason? { VerdictReason(rawValue: UInt8(rawValue)) }

    /// Whether the reason is a denial by the source pod's egress (of whichever tier).
    public var isEgressDenial: Bool { engineReason?.isEgressDenial ?? false }

    /// The metric label value: the engine's label, or `neighbour_discovery`, `malformed`, `no_snapshot`.
    public var description: String {
        if let engineReason { return engineReason.description }
        switch self {
        case .neighbourDiscovery: return "neighbour_discovery"
        case .malformed: return "malformed"
        default: return "no_snapshot"
        }
    }
}
