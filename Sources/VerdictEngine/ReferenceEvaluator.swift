import NetworkTypes
import PolicyModel

/// A deliberately plain transcription of the NetworkPolicy v1 semantics and of the tiers of the network-policy-api
/// (AdminNetworkPolicy, NetworkPolicy, BaselineAdminNetworkPolicy, default allow), used only as a test oracle for
/// the compiled engine. It scans every policy for every question; it is slow on purpose, so that it stays
/// obviously right.
public struct ReferenceEvaluator: Sendable {
    public let state: ClusterState
    private let podsByAddress: [IPAddress: Pod]
    /// Per node (in `state.nodes` order), the addresses a `nodes` peer matches.
    private let nodeAddresses: [[IPAddress]]

    public init(state: ClusterState) {
        self.state = state
        var owners: [IPAddress: Pod] = [:]
        // Only pods that own their addresses count; the first pod (in namespace/name order) wins a conflict.
        for pod in state.pods where pod.isEndpoint {
            for address in pod.ips where owners[address] == nil { owners[address] = pod }
        }
        podsByAddress = owners
        nodeAddresses = state.nodeAddresses()
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

    /// Whether the tiers allow the direction for `subject`:
    /// 1. the admin-tier policies selecting it (AdminNetworkPolicies and admin ClusterNetworkPolicies), by
    ///    ascending priority (then name, then kind), rules in order: the first rule whose peer and port match
    ///    decides with Allow (Accept) or Deny; Pass skips the rest of the admin tier;
    /// 2. then, if a NetworkPolicy isolates it in this direction, the NetworkPolicies decide;
    /// 3. otherwise the baseline-tier policies selecting it (baseline ClusterNetworkPolicies by priority, then the
    ///    BaselineAdminNetworkPolicy): the first matching rule decides with Allow or Deny, and Pass skips the
    ///    rest of the baseline tier;
    /// 4. otherwise the connection is allowed.
    private func allows(
        _ direction: Direction, subject: Pod, peerAddress: IPAddress, peer: Pod?, destinationPod: Pod?, flow: FlowKey
    ) -> Bool {
        let namespaceLabels = state.namespace(named: subject.namespace)?.labels ?? Labels()
        let ingress = direction == .ingress
        func ruleMatches(_ rule: AdminPolicyRule) -> Bool {
            let ports = rule.ports ?? []
            return rule.peers.contains { matches($0, address: peerAddress, pod: peer) }
                && (ports.isEmpty || ports.contains { matches($0, flow: flow, destinationPod: destinationPod) })
        }
        // 1. The admin tier.
        admin: for policy in state.adminPolicies
        where policy.tier == .admin && policy.subject.selects(podLabels: subject.labels, namespaceLabels: namespaceLabels)
        {
            for rule in policy.rules(ingress) where ruleMatches(rule) {
                switch rule.action {
                case .allow: return true
                case .deny: return false
                case .pass: break admin
                }
            }
        }
        // 2. NetworkPolicy, when one isolates the pod in this direction.
        if isolatedByNetworkPolicy(direction, subject: subject) {
            return networkPoliciesAllow(
                direction, subject: subject, peerAddress: peerAddress, peer: peer, destinationPod: destinationPod,
                flow: flow)
        }
        // 3. The baseline tier; a Pass (ClusterNetworkPolicy only) hands over to the default.
        baseline: for policy in state.adminPolicies
        where policy.tier == .baseline && policy.subject.selects(podLabels: subject.labels, namespaceLabels: namespaceLabels)
        {
            for rule in policy.rules(ingress) where ruleMatches(rule) {
                switch rule.action {
                case .allow: return true
                case .deny: return false
                case .pass: break baseline
                }
            }
        }
        // 4. The default.
        return true
    }

    /// Whether some NetworkPolicy selecting `subject` lists `direction` in its policy types.
    private func isolatedByNetworkPolicy(_ direction: Direction, subject: Pod) -> Bool {
        let type: PolicyTypes = direction == .ingress ? .ingress : .egress
        return state.networkPolicies.contains {
            $0.namespace == subject.namespace && $0.podSelector.matches(subject.labels) && $0.policyTypes.contains(type)
        }
    }

    private func matches(_ peer: AdminPolicyPeer, address: IPAddress, pod: Pod?) -> Bool {
        switch peer {
        case .namespaces(let selector):
            guard let pod, let namespace = state.namespace(named: pod.namespace) else { return false }
            return selector.matches(namespace.labels)
        case .pods(let namespaces, let pods):
            guard let pod, let namespace = state.namespace(named: pod.namespace) else { return false }
            return namespaces.matches(namespace.labels) && pods.matches(pod.labels)
        case .networks(let prefixes):
            return prefixes.contains { $0.contains(address) }
        case .nodes(let selector):
            return state.nodes.indices.contains {
                selector.matches(state.nodes[$0].labels) && nodeAddresses[$0].contains(address)
            }
        }
    }

    private func matches(_ port: AdminPolicyPort, flow: FlowKey, destinationPod: Pod?) -> Bool {
        switch port {
        case .number(let proto, let number):
            return proto.ipProtocol == flow.transport && flow.destinationPort == number
        case .range(let proto, let start, let end):
            return proto.ipProtocol == flow.transport && flow.destinationPort >= start && flow.destinationPort <= end
        case .named(let name):
            // The destination pod's first container port of that name whose protocol is the connection's.
            guard let destinationPod,
                let target = destinationPod.containerPorts.first(where: {
                    $0.name == name && $0.protocol.ipProtocol == flow.transport
                })
            else { return false }
            return target.port == flow.destinationPort
        }
    }

    /// Whether the policies selecting `subject` allow the direction: allowed when no policy isolates it,
    /// otherwise when some rule of an isolating policy matches.
    private func networkPoliciesAllow(
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
