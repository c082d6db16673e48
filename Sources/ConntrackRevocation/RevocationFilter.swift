public import NetworkTypes
public import VerdictEngine

/// What revocation does with one conntrack entry under a new snapshot.
public enum RevocationDecision: Hashable, Sendable {
    /// Not Tollgate's to judge: no pod-CIDR endpoint, an exempt endpoint, or IPv6 neighbour discovery.
    case notCandidate
    /// The new snapshot still allows the connection: it stays.
    case allowed
    /// The new snapshot denies the connection and enforcement applies: delete the entry.
    case revoke
    /// The new snapshot denies the connection, but audit mode (global or the namespace's) lets it through: count
    /// it, keep it.
    case wouldRevoke
    /// A tombstone of a connection revoked earlier that the new snapshot allows again: remove it.
    case lift
    /// A tombstone of a connection the new snapshot still denies: leave it.
    case keepTombstone
}

/// Decides which established connections a new snapshot forbids, judging each entry as the datapath judged its
/// first packet: the same pod, exempt and trusted-source prefixes as the kernel rules (a connection is queued when
/// either end is in a pod CIDR, neither end is exempt and the source is not a trusted peer node), the same flow
/// (after destination NAT), the same evaluation.
public struct RevocationFilter: Sendable, Hashable {
    /// Prefixes that hold pod addresses (`--pod-cidr`).
    public var podCIDRs: [IPPrefix]
    /// Prefixes whose connections are never queued (`--exempt-cidr`).
    public var exemptCIDRs: [IPPrefix]
    /// Source prefixes whose connections are never queued: peer nodes that judged them already.
    public var trustedSourceCIDRs: [IPPrefix]
    /// Global audit mode: nothing is revoked, denials are counted as would-revoke.
    public var auditAll: Bool

    /// Creates a filter.
    public init(
        podCIDRs: [IPPrefix], exemptCIDRs: [IPPrefix] = [], trustedSourceCIDRs: [IPPrefix] = [], auditAll: Bool = false
    ) {
        self.podCIDRs = podCIDRs
        self.exemptCIDRs = exemptCIDRs
        self.trustedSourceCIDRs = trustedSourceCIDRs
        self.auditAll = auditAll
    }

    /// Whether the datapath would have judged `flow` at all.
    public func isCandidate(_ flow: FlowKey) -> Bool {
        if flow.isNeighbourDiscovery { return false }
        if exemptCIDRs.contains(where: { $0.contains(flow.source) || $0.contains(flow.destination) }) { return false }
        if trustedSourceCIDRs.contains(where: { $0.contains(flow.source) }) { return false }
        return podCIDRs.contains { $0.contains(flow.source) || $0.contains(flow.destination) }
    }

    /// The decision for `entry` under `snapshot`.
    public func decide(_ entry: ConntrackEntry, in snapshot: CompiledSnapshot) -> RevocationDecision {
        decide(entry) { snapshot.evaluate($0) }
    }

    /// The decision for `entry` with `evaluate` standing in for a snapshot (tests pass a table of verdicts).
    public func decide(_ entry: ConntrackEntry, evaluate: (FlowKey) -> Verdict) -> RevocationDecision {
        let flow = entry.judgedFlow
        guard isCandidate(flow) else { return .notCandidate }
        let verdict = evaluate(flow)
        let enforced = !verdict.isAllowed && !(auditAll || verdict.audited)
        if entry.isTombstone { return enforced ? .keepTombstone : .lift }
        if verdict.isAllowed { return .allowed }
        return enforced ? .revoke : .wouldRevoke
    }
}
