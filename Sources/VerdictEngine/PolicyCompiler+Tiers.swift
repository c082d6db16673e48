import NetworkTypes
import PolicyModel

/// The rules of one policy in one direction: what an identity selected by the policy gets in that tier.
struct TierChunk {
    var baseline: Bool
    var ingress: Bool
    var rules: [UInt32]
}

/// Identities grouped by the cluster-wide policies that select them: two identities are in the same class exactly
/// when the same chunks (policy and direction, in evaluation order) apply to both. Built by partition refinement,
/// one pass over each policy's subjects, so the cost is one step per (policy, subject identity) and the programs
/// are built once per class, not once per identity.
struct TierClasses {
    /// Per identity, its class.
    var classOf: [Int32]
    /// Per class, its chunks in evaluation order.
    var chunks: [[Int32]] = [[]]
    /// Per class, the chunk during which it was last split, and the class its selected members moved to.
    private var splitChunk: [Int32] = [-1]
    private var splitTarget: [Int32] = [0]

    init(identityCount: Int) { classOf = Array(repeating: 0, count: identityCount) }

    /// Moves the `members` of every class into a class that also has `chunk`.
    mutating func refine(members: [Int32], chunk: Int32) {
        for member in members {
            let old = Int(classOf[Int(member)])
            if splitChunk[old] != chunk {
                splitChunk[old] = chunk
                splitTarget[old] = Int32(chunks.count)
                chunks.append(chunks[old] + [chunk])
                splitChunk.append(-1)
                splitTarget.append(0)
            }
            classOf[Int(member)] = splitTarget[old]
        }
    }
}

extension CompileContext {
    /// Compiles the AdminNetworkPolicies and the BaselineAdminNetworkPolicy: subjects to identities, peers to
    /// identity sets and address classes, rules (with their actions) into chunks, and identities into classes of
    /// equal chunk sequences (`state.adminPolicies` is sorted by tier, priority and name). Nothing is allocated
    /// when there are none.
    mutating func buildTierRules() {
        guard !state.adminPolicies.isEmpty else { return }
        diagnostics += state.priorityTies
        var classes = TierClasses(identityCount: identityNamespace.count)
        let policyBase = UInt32(state.networkPolicies.count)
        for (policyIndex, policy) in state.adminPolicies.enumerated() {
            let subjects = subjectIdentities(policy.subject)
            for direction in [Direction.ingress, .egress] {
                let sourceRules = policy.rules(direction == .ingress)
                guard !sourceRules.isEmpty else { continue }
                var compiled: [UInt32] = []
                for (ruleIndex, rule) in sourceRules.enumerated() {
                    compiled.append(
                        compileAdminRule(rule, policy: policyBase + UInt32(policyIndex), index: UInt32(ruleIndex)))
                    ruleOrigins.append(
                        RuleOrigin(
                            policy: policy.key, direction: direction, index: ruleIndex, tier: policy.tier,
                            action: rule.action, name: rule.name))
                }
                let chunk = Int32(tierChunks.count)
                tierChunks.append(TierChunk(baseline: policy.tier == .baseline, ingress: direction == .ingress, rules: compiled))
                classes.refine(members: subjects, chunk: chunk)
            }
        }
        tierClasses = classes
    }

    /// The identities a policy's subject selects.
    mutating func subjectIdentities(_ subject: AdminPolicySubject) -> [Int32] {
        var result: [Int32] = []
        switch subject {
        case .namespaces(let selector):
            for namespace in namespaces(matching: selector) {
                result += identities(matching: .everything, in: namespace)
            }
        case .pods(let namespaceSelector, let podSelector):
            for namespace in namespaces(matching: namespaceSelector) {
                result += identities(matching: podSelector, in: namespace)
            }
        }
        return result
    }

    mutating func compileAdminRule(_ rule: AdminPolicyRule, policy: UInt32, index: UInt32) -> UInt32 {
        let peerStart = UInt32(peerRefs.count)
        for peer in rule.peers {
            switch peer {
            case .namespaces(let selector):
                // The policy namespace is unused when a namespace selector is present: one shared key.
                peerRefs.append(peerSet(PeerKey(namespace: -1, pods: nil, namespaces: selector)))
            case .pods(let namespaces, let pods):
                peerRefs.append(peerSet(PeerKey(namespace: -1, pods: pods, namespaces: namespaces)))
            case .networks(let prefixes):
                for prefix in prefixes { peerRefs.append(blockID(IPBlock(cidr: prefix)) | VerdictTables.blockFlag) }
            case .nodes(let selector):
                peerRefs.append(nodeBlockID(selector) | VerdictTables.blockFlag)
            }
        }
        // A program reads "no peers" as "every peer"; a rule whose peers name nothing must match nothing.
        if UInt32(peerRefs.count) == peerStart { peerRefs.append(emptyIdentitySet()) }
        let portStart = UInt32(ports.count)
        for port in rule.ports ?? [] {
            switch port {
            case .number(let proto, let number):
                ports.append(CompiledPort(low: number, high: number, transport: proto.ipProtocol.rawValue, isNamed: 0, nameID: 0))
            case .range(let proto, let start, let end):
                ports.append(CompiledPort(low: start, high: end, transport: proto.ipProtocol.rawValue, isNamed: 0, nameID: 0))
            case .named(let name):
                // A named port carries the protocol of the container port it names: one entry per protocol.
                let id = portNameID(name)
                for proto in TransportProtocol.allCases {
                    ports.append(CompiledPort(low: 0, high: 0, transport: proto.ipProtocol.rawValue, isNamed: 1, nameID: id))
                }
            }
        }
        let action: UInt32
        switch rule.action {
        case .allow: action = VerdictTables.RuleAction.allow
        case .deny: action = VerdictTables.RuleAction.deny
        case .pass: action = VerdictTables.RuleAction.pass
        }
        return appendRule(peerStart: peerStart, portStart: portStart, policy: policy, index: index, action: action)
    }

    /// The block ID of a `nodes` peer: an address class holding the addresses of the nodes it selects.
    mutating func nodeBlockID(_ selector: LabelSelector) -> UInt32 {
        if let existing = nodeBlockIDs[selector] { return existing }
        let id = UInt32(blockCount)
        nodeBlockIDs[selector] = id
        return id
    }

    mutating func emptyIdentitySet() -> UInt32 {
        if let emptySet { return emptySet }
        let id = UInt32(identitySets.count)
        identitySets.append(CompiledIdentitySet(kind: CompiledIdentitySet.Kind.empty.rawValue, base: 0, wordCount: 0, wordOffset: 0))
        emptySet = id
        return id
    }
}
