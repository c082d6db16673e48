import NetworkTypes
import PolicyModel

/// What one direction of a connection looked like to the engine.
public struct DirectionReport: Sendable, Hashable {
    /// The pod whose policy applies (the source for egress, the destination for ingress).
    public let pod: ObjectKey
    /// Whether any policy selecting the pod has this direction in its policy types.
    public let isolated: Bool
    /// The policies that isolate the pod in this direction.
    public let isolatingPolicies: [ObjectKey]
    /// Every rule that allows the connection, in policy order.
    public let allowingRules: [RuleOrigin]
    /// The first AdminNetworkPolicy rule that matches (Allow or Deny decided the direction; Pass handed it on).
    public let adminRule: RuleOrigin?
    /// The first BaselineAdminNetworkPolicy rule that matches, when the baseline was consulted: no admin rule
    /// decided and no NetworkPolicy isolates the pod in this direction.
    public let baselineRule: RuleOrigin?

    public init(
        pod: ObjectKey, isolated: Bool, isolatingPolicies: [ObjectKey], allowingRules: [RuleOrigin],
        adminRule: RuleOrigin? = nil, baselineRule: RuleOrigin? = nil
    ) {
        self.pod = pod
        self.isolated = isolated
        self.isolatingPolicies = isolatingPolicies
        self.allowingRules = allowingRules
        self.adminRule = adminRule
        self.baselineRule = baselineRule
    }

    /// The tier that decided the direction; nil when none did (allowed by default).
    public var decidingTier: PolicyTier? {
        if let adminRule, adminRule.action != .pass { return .admin }
        if isolated { return .networkPolicy }
        // A baseline Pass (ClusterNetworkPolicy) hands over to the default.
        if let baselineRule, baselineRule.action != .pass { return .baseline }
        return nil
    }

    /// Whether the direction allows the connection.
    public var allows: Bool {
        switch decidingTier {
        case .admin: return adminRule?.action == .allow
        case .networkPolicy: return !allowingRules.isEmpty
        case .baseline: return baselineRule?.action == .allow
        case nil: return true
        }
    }
}

/// A verdict with its reasons, for people and tools.
public struct Explanation: Sendable {
    public let flow: FlowKey
    public let verdict: Verdict
    /// The pods the addresses belong to, if any.
    public let sourcePod: ObjectKey?
    public let destinationPod: ObjectKey?
    /// Nil when the source is not a pod.
    public let egress: DirectionReport?
    /// Nil when the destination is not a pod.
    public let ingress: DirectionReport?

    /// Human-readable lines: the verdict first, then each direction.
    public var lines: [String] {
        func name(_ pod: ObjectKey?, _ address: IPAddress) -> String {
            pod.map { "\($0.namespace)/\($0.name) (\(address))" } ?? "\(address) (not a pod)"
        }
        var port = ""
        if flow.transport.hasPorts { port = " port \(flow.destinationPort)" }
        var result = [
            "\(verdict.isAllowed ? "ALLOW" : "DENY") \(name(sourcePod, flow.source)) -> \(name(destinationPod, flow.destination)) \(flow.transport)\(port)",
            "reason: \(verdict.reason)",
        ]
        if verdict.audited {
            result.append("audit: the denying pod's namespace is in audit mode; the connection is let through and logged")
        }
        for (label, report) in [("egress", egress), ("ingress", ingress)] {
            guard let report else {
                result.append("\(label): not a pod, no \(label) policy applies")
                continue
            }
            let pod = "\(report.pod.namespace)/\(report.pod.name)"
            if let rule = report.adminRule {
                switch rule.action {
                case .allow: result.append("\(label): admin tier: allowed by \(rule); NetworkPolicy not consulted")
                case .deny: result.append("\(label): admin tier: denied by \(rule)")
                case .pass: result.append("\(label): admin tier: passed by \(rule) to NetworkPolicy")
                }
                if rule.action != .pass { continue }
            }
            if !report.isolated {
                if let rule = report.baselineRule {
                    let outcome: String
                    switch rule.action {
                    case .allow: outcome = "allowed by \(rule)"
                    case .deny: outcome = "denied by \(rule)"
                    case .pass: outcome = "passed by \(rule) to the default: allowed"
                    }
                    result.append("\(label): \(pod) is not isolated by NetworkPolicy; baseline tier: \(outcome)")
                } else {
                    result.append("\(label): \(pod) is not isolated for \(label): allowed")
                }
                continue
            }
            let policies = report.isolatingPolicies.map { "\($0.namespace)/\($0.name)" }.joined(separator: ", ")
            result.append("\(label): \(report.pod.namespace)/\(report.pod.name) is isolated by \(policies)")
            if report.allowingRules.isEmpty {
                result.append("  no \(label) rule allows this connection")
            }
            for rule in report.allowingRules {
                result.append("  allowed by \(rule.policy.namespace)/\(rule.policy.name) \(label)[\(rule.index)]")
            }
        }
        return result
    }
}

extension CompiledSnapshot {
    /// Decides a connection and collects every reason: the isolating policies and every allowing rule.
    public func explain(_ flow: FlowKey) -> Explanation {
        let verdict = evaluate(flow)
        let sourceSlot = tables.slot(of: flow.source)
        let destinationSlot = tables.slot(of: flow.destination)
        let sourcePod = slotPods[sourceSlot] >= 0 ? state.pods[Int(slotPods[sourceSlot])] : nil
        let destinationPod = slotPods[destinationSlot] >= 0 ? state.pods[Int(slotPods[destinationSlot])] : nil
        let destinationInfo = tables.slots[destinationSlot]
        let sourceInfo = tables.slots[sourceSlot]

        func report(_ direction: Direction, pod: Pod, identity: Int32, peer: SlotInfo) -> DirectionReport {
            let type: PolicyTypes = direction == .ingress ? .ingress : .egress
            let isolating = state.networkPolicies.filter {
                $0.namespace == pod.namespace && $0.policyTypes.contains(type) && $0.podSelector.matches(pod.labels)
            }.map(\.key)
            let program =
                direction == .ingress ? tables.explainIngress[Int(identity)] : tables.explainEgress[Int(identity)]
            let tier = tables.explainTiers.count > 0 ? tables.explainTiers[Int(identity)] : nil
            func firstMatch(_ offset: Int32?) -> RuleOrigin? {
                guard let offset, offset >= 0 else { return nil }
                var found: RuleOrigin?
                tables.forEachMatch(
                    tables.explainPrograms, at: Int(offset), peer: peer, destinationIdentity: destinationInfo.identity,
                    transport: flow.transport.rawValue, port: flow.destinationPort
                ) { word in
                    found = ruleOrigins[Int(word & VerdictTables.ruleMask)]
                    return false
                }
                return found
            }
            let adminRule = firstMatch(direction == .ingress ? tier?.adminIngress : tier?.adminEgress)
            let adminDecided = adminRule.map { $0.action != .pass } ?? false
            let baselineRule =
                adminDecided || program >= 0
                ? nil : firstMatch(direction == .ingress ? tier?.baselineIngress : tier?.baselineEgress)
            var allowing: [RuleOrigin] = []
            if program >= 0 {
                tables.forEachMatch(
                    tables.explainPrograms, at: Int(program), peer: peer,
                    destinationIdentity: destinationInfo.identity, transport: flow.transport.rawValue,
                    port: flow.destinationPort
                ) { ruleID in
                    allowing.append(ruleOrigins[Int(ruleID)])
                    return true
                }
            }
            return DirectionReport(
                pod: pod.key, isolated: program >= 0, isolatingPolicies: isolating, allowingRules: allowing,
                adminRule: adminRule, baselineRule: baselineRule)
        }

        return Explanation(
            flow: flow, verdict: verdict, sourcePod: sourcePod?.key, destinationPod: destinationPod?.key,
            egress: sourcePod.map { report(.egress, pod: $0, identity: sourceInfo.identity, peer: destinationInfo) },
            ingress: destinationPod.map {
                report(.ingress, pod: $0, identity: destinationInfo.identity, peer: sourceInfo)
            })
    }
}
