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
        if let egress, egress.isolated, egress.allowingRules.isEmpty {
            reason = .deniedByEgress
        } else if let ingress, ingress.isolated, ingress.allowingRules.isEmpty {
            reason = .deniedByIngress
        } else if egress?.isolated == true || ingress?.isolated == true {
            reason = .allowedByPolicy
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
        return DirectionReport(
            pod: subject.key, isolated: !isolating.isEmpty, isolatingPolicies: isolating, allowingRules: allowing)
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
