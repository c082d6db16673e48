import NetworkTypes

/// The tiered verdict: AdminNetworkPolicy, then NetworkPolicy, then BaselineAdminNetworkPolicy, then the default
/// (allowed), per direction (kubernetes-sigs/network-policy-api, apis/v1alpha1).
extension VerdictTables {
    /// The action bits of a rule's word in a program.
    enum RuleAction {
        static let allow: UInt32 = 0
        static let deny: UInt32 = 1
        static let pass: UInt32 = 2
    }

    /// A rule's word in a program is `ruleID | action << actionShift`.
    static let actionShift: UInt32 = 30
    static let ruleMask: UInt32 = (1 << 30) &- 1

    /// The word of a program that means "no rule matched" (action 3 does not exist).
    static let noMatch: UInt32 = .max

    /// The words of a tiered program's header: counts, next offset, and the two sections' peer masks.
    static let tieredHeaderWords = 7

    /// Runs `count` tier rules (the tier rule encoding of `VerdictTables`) from `start` for a peer whose tier
    /// peer mask is `peerMask`: the word (`ruleID | action << 30`) of the first rule that matches, or `noMatch`.
    @inline(__always)
    func firstMatchingTierWord(
        _ code: FixedArray<UInt32>, from start: Int, count: Int, peerMask: UInt64, peer: SlotInfo,
        destinationIdentity: Int32, transport: UInt8, port: UInt16
    ) -> UInt32 {
        var cursor = start
        var remaining = count
        while remaining > 0 {
            remaining &-= 1
            let word = code[cursor]
            let bit = code[cursor &+ 2]
            let rule = checkRule(
                code, countsAt: cursor &+ 1, portsAt: cursor &+ 3, peer: peer, destinationIdentity: destinationIdentity,
                transport: transport, port: port, skip: peerMask & (1 &<< UInt64(bit)) == 0)
            cursor = rule.next
            if rule.matches { return word }
        }
        return VerdictTables.noMatch
    }

    /// The tier peer mask of `peer` (see `TierPeerMasks`): the bits of the admin and baseline peer lists that
    /// match it.
    @inline(__always)
    func tierPeerMask(of peer: SlotInfo) -> UInt64 {
        let classMask = tierPeerClasses[Int(peer.blockClass)]
        return peer.identity >= 0 ? classMask | identities[Int(peer.identity)].tierPeers : classMask
    }

    /// A tiered program's section mask: two words, low first, at `offset`.
    @inline(__always)
    func sectionMask(at offset: Int) -> UInt64 {
        UInt64(programs[offset]) | UInt64(programs[offset &+ 1]) &<< 32
    }

    /// Runs `count` rules of `code` from `cursor`: the word (`ruleID | action << 30`) of the first rule that
    /// matches, or `noMatch`. A plain loop (no closure) so that it inlines into the verdict.
    @inline(__always)
    func firstMatchingWord(
        _ code: FixedArray<UInt32>, from start: Int, count: Int, peer: SlotInfo, destinationIdentity: Int32,
        transport: UInt8, port: UInt16
    ) -> UInt32 {
        var cursor = start
        var remaining = count
        while remaining > 0 {
            remaining &-= 1
            let word = code[cursor]
            let rule = checkRule(
                code, countsAt: cursor &+ 1, portsAt: cursor &+ 2, peer: peer, destinationIdentity: destinationIdentity,
                transport: transport, port: port)
            cursor = rule.next
            if rule.matches { return word }
        }
        return VerdictTables.noMatch
    }

    /// How one direction was decided. Among the allowed outcomes a larger code names the stronger reason, which
    /// the verdict reports when both directions allow.
    enum Outcome {
        static let notIsolated: UInt8 = 0
        static let passed: UInt8 = 1
        static let baselineAllowed: UInt8 = 2
        static let policyAllowed: UInt8 = 3
        static let adminAllowed: UInt8 = 4
        /// Outcomes from here on deny.
        static let adminDenied: UInt8 = 5
        static let policyDenied: UInt8 = 6
        static let baselineDenied: UInt8 = 7
    }

    /// Decides one direction with the tiered program at `program` (see `VerdictTables`; -1 when no tier has
    /// rules for the pod): the first matching admin rule decides unless it passes; then the NetworkPolicy rules
    /// if one isolates the pod in this direction; otherwise the first matching baseline rule (a Pass there hands
    /// over to the default); otherwise allowed. Returns the outcome and the deciding rule (-1 for none, and for a
    /// NetworkPolicy denial). `adminCount` is the program's first word, read by the caller; `peerMask` is the
    /// peer's `tierPeerMask(of:)`.
    @inline(__always)
    func decide(
        program: Int32, adminCount: UInt32, peer: SlotInfo, peerMask: UInt64, destinationIdentity: Int32,
        transport: UInt8, port: UInt16
    ) -> (outcome: UInt8, rule: Int32) {
        guard program >= 0 else { return (Outcome.notIsolated, -1) }
        let base = Int(program)
        let adminCount = Int(adminCount)
        let next = programs[base &+ 1]
        var passed = false
        if adminCount > 0 && sectionMask(at: base &+ 3) & peerMask != 0 {
            let word = firstMatchingTierWord(
                programs, from: base &+ VerdictTables.tieredHeaderWords, count: adminCount, peerMask: peerMask,
                peer: peer, destinationIdentity: destinationIdentity, transport: transport, port: port)
            if word != VerdictTables.noMatch {
                let rule = Int32(bitPattern: word & VerdictTables.ruleMask)
                switch word >> VerdictTables.actionShift {
                case RuleAction.allow: return (Outcome.adminAllowed, rule)
                case RuleAction.deny: return (Outcome.adminDenied, rule)
                default: passed = true
                }
            }
        }
        let nextStart = base &+ Int(programs[base &+ 2])
        let nextCount = Int(next & ~VerdictTables.isolatedFlag)
        if next & VerdictTables.isolatedFlag != 0 {
            let word = firstMatchingWord(
                programs, from: nextStart, count: nextCount, peer: peer, destinationIdentity: destinationIdentity,
                transport: transport, port: port)
            return word != VerdictTables.noMatch
                ? (Outcome.policyAllowed, Int32(bitPattern: word & VerdictTables.ruleMask)) : (Outcome.policyDenied, -1)
        }
        let word =
            nextCount > 0 && sectionMask(at: base &+ 5) & peerMask != 0
            ? firstMatchingTierWord(
                programs, from: nextStart, count: nextCount, peerMask: peerMask, peer: peer,
                destinationIdentity: destinationIdentity, transport: transport, port: port)
            : VerdictTables.noMatch
        if word != VerdictTables.noMatch {
            let rule = Int32(bitPattern: word & VerdictTables.ruleMask)
            switch word >> VerdictTables.actionShift {
            case RuleAction.allow: return (Outcome.baselineAllowed, rule)
            case RuleAction.deny: return (Outcome.baselineDenied, rule)
            default: break
            }
        }
        return (passed ? Outcome.passed : Outcome.notIsolated, -1)
    }

    /// `evaluate(_:)` when the snapshot has cluster-wide policies. Allocation-free, lock-free, free of reference
    /// counting, like the NetworkPolicy-only path.
    func evaluateTiers(_ flow: FlowKey) -> Verdict {
        let sourceInfo = slotInfo(of: flow.source)
        let destinationInfo = slotInfo(of: flow.destination)
        let transport = flow.transport.rawValue
        let port = flow.destinationPort
        // Both programs' first words are read before either is run, so that their cache misses overlap instead of
        // the ingress program's waiting for the egress decision.
        let egressProgram = sourceInfo.identity >= 0 ? identities[Int(sourceInfo.identity)].egress : -1
        let ingressProgram = destinationInfo.identity >= 0 ? identities[Int(destinationInfo.identity)].ingress : -1
        let egressAdminCount = egressProgram >= 0 ? programs[Int(egressProgram)] : 0
        let ingressAdminCount = ingressProgram >= 0 ? programs[Int(ingressProgram)] : 0
        var egress: (outcome: UInt8, rule: Int32) = (Outcome.notIsolated, -1)
        if sourceInfo.identity >= 0 {
            egress = decide(
                program: egressProgram, adminCount: egressAdminCount, peer: destinationInfo,
                peerMask: tierPeerMask(of: destinationInfo), destinationIdentity: destinationInfo.identity, transport: transport, port: port)
            if egress.outcome >= Outcome.adminDenied {
                let audited = identities[Int(sourceInfo.identity)].audited != 0
                switch egress.outcome {
                case Outcome.adminDenied:
                    return Verdict(reason: .deniedByAdminEgress, egressRule: egress.rule, audited: audited)
                case Outcome.policyDenied:
                    return Verdict(reason: .deniedByEgress, audited: audited)
                default:
                    return Verdict(reason: .deniedByBaselineEgress, egressRule: egress.rule, audited: audited)
                }
            }
        }
        var ingress: (outcome: UInt8, rule: Int32) = (Outcome.notIsolated, -1)
        if destinationInfo.identity >= 0 {
            ingress = decide(
                program: ingressProgram, adminCount: ingressAdminCount, peer: sourceInfo,
                peerMask: tierPeerMask(of: sourceInfo), destinationIdentity: destinationInfo.identity, transport: transport, port: port)
            if ingress.outcome >= Outcome.adminDenied {
                let audited = identities[Int(destinationInfo.identity)].audited != 0
                let reason: VerdictReason
                switch ingress.outcome {
                case Outcome.adminDenied: reason = .deniedByAdminIngress
                case Outcome.policyDenied: reason = .deniedByIngress
                default: reason = .deniedByBaselineIngress
                }
                return Verdict(reason: reason, egressRule: egress.rule, ingressRule: ingress.rule, audited: audited)
            }
        }
        let reason: VerdictReason
        switch max(egress.outcome, ingress.outcome) {
        case Outcome.adminAllowed: reason = .allowedByAdmin
        case Outcome.policyAllowed: reason = .allowedByPolicy
        case Outcome.baselineAllowed: reason = .allowedByBaseline
        case Outcome.passed: reason = .passedByAdmin
        default: reason = .notIsolated
        }
        return Verdict(reason: reason, egressRule: egress.rule, ingressRule: ingress.rule)
    }
}
