import NetworkTypes
import PolicyModel

/// A deliberately plain transcription of the NetworkPolicy v1 semantics, used only as a test oracle for the
/// compiled engine. It scans every policy for every question; it is slow on purpose, so that it stays obviously
/// right.
public struct ReferenceEvaluator: Sendable {
    public let state: ClusterState
    private let podsByAddress: [IPAddress: Pod]

    public init(state: ClusterState) {
        self.state = state
        var owners: [IPAddress: Pod] = [:]
        // Only pods that own their addresses count; the first pod (in namespace/name order) wins a conflict.
        for pod in state.pods where pod.isEndpoint {
            for address in pod.ips where owners[address] == nil { owners[address] = pod }
        }
        podsByAddress = owners
    }

    /// Whether the connection is allowed.
    public func isAllowed(_ flow: FlowKey) -> Bool {
        let source = podsByAddress[flow.source]
        let destination = podsByAddress[flow.destination]
        if let source, !allows(.egress, subject: source, peerAddress: flow.destination, peer: destination, destinationPod: destination, flow: flow) {
            return false
        }
        if let destination, !allows(.ingress, subject: destination, peerAddress: flow.source, peer: source, destinationPod: destination, flow: flow) {
            return false
        }
        return true
    }

    /// Whether the policies selecting `subject` allow the direction: allowed when no policy isolates it,
    /// otherwise when some rule of an isolating policy matches.
    private func allows(
        _ direction: Direction, subject: Pod, peerAddress: IPAddress, peer: Pod?, destinationPod: Pod?, flow: FlowKey
    ) -> Bool {
        var isolated = false
        for policy in state.networkPolicies {
            guard policy.namespace == subject.namespace, policy.podSelector.matches(subject.labels) else { continue }
            let type: PolicyTypes = direction == .ingress ? .ingress : .egress
            guard policy.policyTypes.contains(type) else { continue }
            isolated = true
            let rules = direction == .ingress ? policy.ingress : policy.egress
            for rule in rules {
                let peerMatches =
                    rule.peers.isEmpty
                    || rule.peers.contains { matches($0, policyNamespace: policy.namespace, address: peerAddress, pod: peer) }
                let portMatches =
                    rule.ports.isEmpty || rule.ports.contains { matches($0, flow: flow, destinationPod: destinationPod) }
                if peerMatches && portMatches { return true }
            }
        }
        return !isolated
    }

    private func matches(_ peer: NetworkPolicyPeer, policyNamespace: String, address: IPAddress, pod: Pod?) -> Bool {
        switch peer {
        case .ipBlock(let block):
            return block.contains(address)
        case .selector(let pods, let namespaces):
            guard let pod else { return false }
            if let namespaces {
                guard let namespace = state.namespace(named: pod.namespace), namespaces.matches(namespace.labels) else {
                    return false
                }
            } else if pod.namespace != policyNamespace {
                return false
            }
            return pods?.matches(pod.labels) ?? true
        }
    }

    private func matches(_ port: NetworkPolicyPort, flow: FlowKey, destinationPod: Pod?) -> Bool {
        guard port.protocol.ipProtocol == flow.transport else { return false }
        switch port.port {
        case nil:
            return true
        case .number(let number):
            return flow.destinationPort >= number && flow.destinationPort <= (port.endPort ?? number)
        case .name(let name):
            guard let destinationPod, let resolved = destinationPod.resolve(portName: name, protocol: port.protocol) else {
                return false
            }
            return resolved == flow.destinationPort
        }
    }
}
