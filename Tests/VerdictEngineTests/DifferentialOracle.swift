import NetworkTypes
import PolicyModel
@testable import VerdictEngine

/// A rule-level oracle for `CompiledSnapshot.explain`: written from the NetworkPolicy v1 API reference, separately
/// from `ReferenceEvaluator` (which answers only allow or deny), it lists for each direction the isolating
/// policies and every rule that allows a connection, and derives the verdict reason from them.
///
/// - A pod owns its addresses when it is not host-network, has an address, and is not Succeeded or Failed; the
///   first such pod in (namespace, name) order wins an address claimed twice.
/// - A pod is isolated for a direction when a policy of its namespace selects it and lists that direction in
///   `policyTypes`; only such policies' rules of that direction count.
/// - A rule allows when some peer matches (or it has none) and some port matches (or it has none).
///
/// With cluster-wide policies (network-policy-api v1alpha1 and v1alpha2), per direction: the first matching rule
/// of the admin-tier policies selecting the pod (by priority, then name, then kind; rules in order) decides with
/// Allow (Accept) or Deny, and Pass skips the rest of the admin tier; then NetworkPolicy decides if it isolates the
/// pod; otherwise the first matching rule of the baseline-tier policies (baseline ClusterNetworkPolicies by
/// priority, the BaselineAdminNetworkPolicy last) decides, a Pass there handing over to the default; otherwise
/// the default, allowed. A denial names the first direction
/// (egress, then ingress) and its tier; an allowance names the strongest deciding tier of either direction:
/// admin, NetworkPolicy, baseline, an admin Pass, none.
struct DifferentialOracle {
    let state: ClusterState
    private var owners: [IPAddress: Int] = [:]

    init(state: ClusterState) {
        self.state = state
        for (index, pod) in state.pods.enumerated()
        where !pod.hostNetwork && !pod.ips.isEmpty && pod.phase != .succeeded && pod.phase != .failed {
            for ip in pod.ips where owners[ip] == nil { owners[ip] = index }
        }
    }

    /// The pod that owns `address`, if any.
    func owner(of address: IPAddress) -> Pod? { owners[address].map { state.pods[$0] } }

    /// What `explain` must say about `flow`.
    func expectation(for flow: FlowKey) -> DifferentialExpectation {
        let source = owner(of: flow.source)
        let destination = owner(of: flow.destination)
        let egress = source.map {
            report(.egress, subject: $0, peerAddress: flow.destination, peer: destination, destination: destination, flow: flow)
        }
        let ingress = destination.map {
            report(.ingress, subject: $0, peerAddress: flow.source, peer: source, destination: destination, flow: flow)
        }
        let reason: VerdictReason
        let egressOutcome = egress.map(Self.outcome) ?? .allowed(rank: 0)
        let ingressOutcome = ingress.map(Self.outcome) ?? .allowed(rank: 0)
        if case .denied(let tier) = egressOutcome {
            reason = tier == .admin ? .deniedByAdminEgress : tier == .baseline ? .deniedByBaselineEgress : .deniedByEgress
        } else if case .denied(let tier) = ingressOutcome {
            reason =
                tier == .admin ? .deniedByAdminIngress : tier == .baseline ? .deniedByBaselineIngress : .deniedByIngress
        } else if case .allowed(let egressRank) = egressOutcome, case .allowed(let ingressRank) = ingressOutcome {
            let reasons: [VerdictReason] = [.notIsolated, .passedByAdmin, .allowedByBaseline, .allowedByPolicy, .allowedByAdmin]
            reason = reasons[max(egressRank, ingressRank)]
        } else {
            reason = .notIsolated
        }
        return DifferentialExpectation(
            reason: reason, sourcePod: source?.key, destinationPod: destination?.key, egress: egress, ingress: ingress)
    }

    private func report(
        _ direction: Direction, subject: Pod, peerAddress: IPAddress, peer: Pod?, destination: Pod?, flow: FlowKey
    ) -> DirectionReport {
        let type: PolicyTypes = direction == .ingress ? .ingress : .egress
        var isolating: [ObjectKey] = []
        var allowing: [RuleOrigin] = []
        for policy in state.networkPolicies
        where policy.namespace == subject.namespace && policy.policyTypes.contains(type)
            && policy.podSelector.matches(subject.labels)
        {
            isolating.append(policy.key)
            for (index, rule) in (direction == .ingress ? policy.ingress : policy.egress).enumerated() {
                let peerOK = rule.peers.isEmpty || rule.peers.contains { peerMatches($0, policy: policy, address: peerAddress, pod: peer) }
                let portOK = rule.ports.isEmpty || rule.ports.contains { portMatches($0, flow: flow, destination: destination) }
                if peerOK && portOK { allowing.append(RuleOrigin(policy: policy.key, direction: direction, index: index)) }
            }
        }
        let namespaceLabels = state.namespaces.first { $0.name == subject.namespace }?.labels ?? Labels()
        func selects(_ policy: AdminNetworkPolicy) -> Bool {
            switch policy.subject {
            case .namespaces(let selector): return selector.matches(namespaceLabels)
            case .pods(let namespaces, let pods): return namespaces.matches(namespaceLabels) && pods.matches(subject.labels)
            }
        }
        func firstMatch(_ policies: [AdminNetworkPolicy], tier: PolicyTier) -> RuleOrigin? {
            for policy in policies where selects(policy) {
                for (index, rule) in (direction == .ingress ? policy.ingress : policy.egress).enumerated() {
                    let peerOK = rule.peers.contains { adminPeerMatches($0, address: peerAddress, pod: peer) }
                    let portOK =
                        (rule.ports ?? []).isEmpty
                        || (rule.ports ?? []).contains { adminPortMatches($0, flow: flow, destination: destination) }
                    if peerOK && portOK {
                        return RuleOrigin(
                            policy: policy.key, direction: direction, index: index, tier: tier, action: rule.action,
                            name: rule.name)
                    }
                }
            }
            return nil
        }
        // Within a tier: priority (the BaselineAdminNetworkPolicy after every baseline ClusterNetworkPolicy), then
        // name, then kind.
        func order(_ policy: AdminNetworkPolicy) -> (Int, String, String) {
            (policy.kind == .baselineAdminNetworkPolicy ? 1001 : policy.priority, policy.name, policy.kind.rawValue)
        }
        let admin = state.adminPolicies.filter { $0.tier == .admin }.sorted { order($0) < order($1) }
        let adminRule = firstMatch(admin, tier: .admin)
        let adminDecided = adminRule != nil && adminRule?.action != .pass
        let baseline = state.adminPolicies.filter { $0.tier == .baseline }.sorted { order($0) < order($1) }
        let baselineRule = adminDecided || !isolating.isEmpty ? nil : firstMatch(baseline, tier: .baseline)
        return DirectionReport(
            pod: subject.key, isolated: !isolating.isEmpty, isolatingPolicies: isolating, allowingRules: allowing,
            adminRule: adminRule, baselineRule: baselineRule)
    }

    /// How the tiers decided one direction.
    enum Outcome {
        case denied(PolicyTier)
        /// 0 no tier, 1 admin Pass then no tier, 2 baseline, 3 NetworkPolicy, 4 admin.
        case allowed(rank: Int)
    }

    static func outcome(_ report: DirectionReport) -> Outcome {
        if let rule = report.adminRule, rule.action == .allow { return .allowed(rank: 4) }
        if let rule = report.adminRule, rule.action == .deny { return .denied(.admin) }
        if report.isolated { return report.allowingRules.isEmpty ? .denied(.networkPolicy) : .allowed(rank: 3) }
        // A baseline Pass (ClusterNetworkPolicy) hands over to the default, like no baseline rule at all.
        if let rule = report.baselineRule, rule.action != .pass {
            return rule.action == .deny ? .denied(.baseline) : .allowed(rank: 2)
        }
        return .allowed(rank: report.adminRule == nil ? 0 : 1)
    }

    /// The rule the verdict names for a direction: the deciding admin rule, the first allowing NetworkPolicy rule,
    /// or the deciding baseline rule.
    static func decidingRule(_ report: DirectionReport?) -> RuleOrigin? {
        guard let report else { return nil }
        if let rule = report.adminRule, rule.action != .pass { return rule }
        if report.isolated { return report.allowingRules.first }
        return report.baselineRule?.action == .pass ? nil : report.baselineRule
    }

    private func adminPeerMatches(_ peer: AdminPolicyPeer, address: IPAddress, pod: Pod?) -> Bool {
        func namespaceLabels(_ pod: Pod) -> Labels {
            state.namespaces.first { $0.name == pod.namespace }?.labels ?? Labels()
        }
        switch peer {
        case .namespaces(let selector):
            guard let pod else { return false }
            return selector.matches(namespaceLabels(pod))
        case .pods(let namespaces, let pods):
            guard let pod else { return false }
            return namespaces.matches(namespaceLabels(pod)) && pods.matches(pod.labels)
        case .networks(let prefixes):
            return prefixes.contains { $0.contains(address) }
        case .nodes(let selector):
            // A node's addresses, and those of the host-network pods (not finished) that run on it.
            for node in state.nodes where selector.matches(node.labels) {
                if node.addresses.contains(address) { return true }
                let hostPods = state.pods.filter {
                    $0.hostNetwork && $0.nodeName == node.name && $0.phase != .succeeded && $0.phase != .failed
                }
                if hostPods.contains(where: { $0.ips.contains(address) }) { return true }
            }
            return false
        }
    }

    private func adminPortMatches(_ port: AdminPolicyPort, flow: FlowKey, destination: Pod?) -> Bool {
        switch port {
        case .number(let proto, let number):
            return flow.transport == proto.ipProtocol && flow.destinationPort == number
        case .range(let proto, let start, let end):
            return flow.transport == proto.ipProtocol && (start...end).contains(flow.destinationPort)
        case .named(let name):
            // The destination's container port of that name and of the connection's protocol.
            let target = destination?.containerPorts.first { $0.name == name && $0.protocol.ipProtocol == flow.transport }
            return target?.port == flow.destinationPort
        }
    }

    private func peerMatches(_ peer: NetworkPolicyPeer, policy: NetworkPolicy, address: IPAddress, pod: Pod?) -> Bool {
        switch peer {
        case .ipBlock(let block):
            guard block.cidr.contains(address) else { return false }
            return block.except.allSatisfy { !$0.contains(address) }
        case .selector(let podSelector, let namespaceSelector):
            guard let pod else { return false }
            let namespaceOK: Bool
            if let namespaceSelector {
                let labels = state.namespaces.first { $0.name == pod.namespace }?.labels ?? Labels()
                namespaceOK = namespaceSelector.matches(labels)
            } else {
                namespaceOK = pod.namespace == policy.namespace
            }
            return namespaceOK && (podSelector ?? .everything).matches(pod.labels)
        }
    }

    private func portMatches(_ port: NetworkPolicyPort, flow: FlowKey, destination: Pod?) -> Bool {
        guard flow.transport == port.protocol.ipProtocol else { return false }
        switch port.port {
        case nil:
            return true
        case .number(let first)?:
            // `endPort` closes the range; without it the range is the one port.
            return flow.destinationPort >= first && flow.destinationPort <= (port.endPort ?? first)
        case .name(let name)?:
            // A named port means the destination pod's first container port of that name and protocol.
            let target = destination?.containerPorts.first { $0.name == name && $0.protocol == port.protocol }
            return target?.port == flow.destinationPort
        }
    }
}

/// What `explain` must report for one connection.
struct DifferentialExpectation: Equatable {
    var reason: VerdictReason
    var sourcePod: ObjectKey?
    var destinationPod: ObjectKey?
    var egress: DirectionReport?
    var ingress: DirectionReport?

    /// The same fields read from an explanation, for a whole-value comparison.
    init(_ explanation: Explanation) {
        reason = explanation.verdict.reason
        sourcePod = explanation.sourcePod
        destinationPod = explanation.destinationPod
        egress = explanation.egress
        ingress = explanation.ingress
    }

    init(
        reason: VerdictReason, sourcePod: ObjectKey?, destinationPod: ObjectKey?, egress: DirectionReport?,
        ingress: DirectionReport?
    ) {
        self.reason = reason
        self.sourcePod = sourcePod
        self.destinationPod = destinationPod
        self.egress = egress
        self.ingress = ingress
    }
}
