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

    /// Runs the admin or baseline program at `offset`: the word (`ruleID | action << 30`) of the first rule that
    /// matches, or `noMatch`.
    @inline(__always)
    func firstMatchingWord(
        at offset: Int, peer: SlotInfo, destinationIdentity: Int32, transport: UInt8, port: UInt16
    ) -> UInt32 {
        var match = VerdictTables.noMatch
        forEachMatch(programs, at: offset, peer: peer, destinationIdentity: destinationIdentity, transport: transport, port: port) {
            match = $0
            return false
        }
        return match
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

    /// Decides one direction for the pod of `identity` (the source for egress, the destination for ingress):
    /// the first matching admin rule decides unless it passes; then the pod's NetworkPolicies if any isolates it
    /// in this direction; then the first matching baseline rule; otherwise allowed. Returns the outcome and the
    /// deciding rule (-1 for none, and for a NetworkPolicy denial).
    @inline(__always)
    func decide(
        identity: Int32, ingress: Bool, peer: SlotInfo, destinationIdentity: Int32, transport: UInt8, port: UInt16
    ) -> (outcome: UInt8, rule: Int32) {
        let tier = tiers[Int(identity)]
        let admin = ingress ? tier.adminIngress : tier.adminEgress
        var passed = false
        if admin >= 0 {
            let bits = firstMatchingWord(
                at: Int(admin), peer: peer, destinationIdentity: destinationIdentity, transport: transport, port: port)
            if bits != VerdictTables.noMatch {
                let rule = Int32(bitPattern: bits & VerdictTables.ruleMask)
                switch bits >> VerdictTables.actionShift {
                case RuleAction.allow: return (Outcome.adminAllowed, rule)
                case RuleAction.deny: return (Outcome.adminDenied, rule)
                default: passed = true
                }
            }
        }
        let info = identities[Int(identity)]
        let policy = ingress ? info.ingress : info.egress
        if policy >= 0 {
            let rule = run(
                programs, at: Int(policy), peer: peer, destinationIdentity: destinationIdentity, transport: transport,
                port: port)
            return rule >= 0 ? (Outcome.policyAllowed, rule) : (Outcome.policyDenied, -1)
        }
        let baseline = ingress ? tier.baselineIngress : tier.baselineEgress
        if baseline >= 0 {
            let bits = firstMatchingWord(
                at: Int(baseline), peer: peer, destinationIdentity: destinationIdentity, transport: transport, port: port)
            if bits != VerdictTables.noMatch {
                let rule = Int32(bitPattern: bits & VerdictTables.ruleMask)
                return (bits >> VerdictTables.actionShift == RuleAction.deny ? Outcome.baselineDenied : Outcome.baselineAllowed, rule)
            }
        }
        return (passed ? Outcome.passed : Outcome.notIsolated, -1)
    }

    /// `evaluate(_:)` when the snapshot has cluster-wide policies. Allocation-free, lock-free, free of reference
    /// counting, like the NetworkPolicy-only path.
    func evaluateTiers(_ flow: FlowKey) -> Verdict {
        let sourceInfo = slots[slot(of: flow.source)]
        let destinationInfo = slots[slot(of: flow.destination)]
        let transport = flow.transport.rawValue
        let port = flow.destinationPort
        var egress: (outcome: UInt8, rule: Int32) = (Outcome.notIsolated, -1)
        if sourceInfo.identity >= 0 {
            egress = decide(
                identity: sourceInfo.identity, ingress: false, peer: destinationInfo,
                destinationIdentity: destinationInfo.identity, transport: transport, port: port)
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
                identity: destinationInfo.identity, ingress: true, peer: sourceInfo,
                destinationIdentity: destinationInfo.identity, transport: transport, port: port)
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
