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
        for (label, report) in [("egress", egress), ("ingress", ingress)] {
            guard let report else {
                result.append("\(label): not a pod, no \(label) policy applies")
                continue
            }
            if !report.isolated {
                result.append("\(label): \(report.pod.namespace)/\(report.pod.name) is not isolated for \(label): allowed")
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
        let destinationIdentity = tables.slotIdentity[destinationSlot]

        func report(_ direction: Direction, pod: Pod, identity: Int32, peerSlot: Int) -> DirectionReport {
            let type: PolicyTypes = direction == .ingress ? .ingress : .egress
            let isolating = state.networkPolicies.filter {
                $0.namespace == pod.namespace && $0.policyTypes.contains(type) && $0.podSelector.matches(pod.labels)
            }.map(\.key)
            let start = direction == .ingress ? tables.ingressStart[Int(identity)] : tables.egressStart[Int(identity)]
            let count = direction == .ingress ? tables.ingressCount[Int(identity)] : tables.egressCount[Int(identity)]
            var allowing: [RuleOrigin] = []
            if start >= 0 {
                for index in Int(start)..<(Int(start) + Int(count)) {
                    let ruleIndex = tables.ruleRefs[index]
                    let rule = tables.rules[Int(ruleIndex)]
                    if tables.portsMatch(
                        rule, destinationIdentity: destinationIdentity, transport: flow.transport.rawValue,
                        port: flow.destinationPort) && tables.peersMatch(rule, peerSlot: peerSlot)
                    {
                        allowing.append(ruleOrigins[Int(ruleIndex)])
                    }
                }
            }
            return DirectionReport(pod: pod.key, isolated: start >= 0, isolatingPolicies: isolating, allowingRules: allowing)
        }

        let sourceIdentity = tables.slotIdentity[sourceSlot]
        return Explanation(
            flow: flow, verdict: verdict, sourcePod: sourcePod?.key, destinationPod: destinationPod?.key,
            egress: sourcePod.map { report(.egress, pod: $0, identity: sourceIdentity, peerSlot: destinationSlot) },
            ingress: destinationPod.map {
                report(.ingress, pod: $0, identity: destinationIdentity, peerSlot: sourceSlot)
            })
    }
}
