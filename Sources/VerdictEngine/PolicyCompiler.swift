import NetworkTypes
import PolicyModel

/// Compiles a `ClusterState` into an immutable `CompiledSnapshot`.
///
/// The work is done once per snapshot, off the hot path: pods are grouped into identities (namespace, labels,
/// named ports), every selector is resolved to a set of identities through a label index, every `ipBlock` is
/// folded into address classes, and each identity gets the list of rules that apply to it per direction.
/// A verdict is then two trie lookups and a walk over the rules of at most two identities.
public enum PolicyCompiler {
    /// Compiles `state` from scratch. A daemon compiling one state after another uses ``IncrementalCompiler``,
    /// which produces the same snapshot while reusing what did not change.
    public static func compile(_ state: ClusterState, generation: UInt64 = 1) -> CompiledSnapshot {
        var compiler = IncrementalCompiler()
        return compiler.compile(state, generation: generation)
    }
}

/// What makes two pods the same to policy: namespace, labels and container ports (the targets of named ports).
/// Hashing uses the hashes the pods computed when they were loaded.
struct IdentityKey: Hashable {
    var namespace: Int32
    var labels: Labels
    var ports: [ContainerPort]
    var portsHash: Int

    func hash(into hasher: inout Hasher) {
        hasher.combine(namespace)
        hasher.combine(labels)
        hasher.combine(portsHash)
    }

    static func == (lhs: IdentityKey, rhs: IdentityKey) -> Bool {
        lhs.namespace == rhs.namespace && lhs.portsHash == rhs.portsHash && lhs.labels == rhs.labels
            && lhs.ports == rhs.ports
    }

    /// The identity order: by namespace, then labels (pair by pair, as sorted by key), then container ports.
    static func precedes(_ lhs: IdentityKey, _ rhs: IdentityKey) -> Bool {
        if lhs.namespace != rhs.namespace { return lhs.namespace < rhs.namespace }
        for (left, right) in zip(lhs.labels.pairs, rhs.labels.pairs) {
            if left.key != right.key { return left.key < right.key }
            if left.value != right.value { return left.value < right.value }
        }
        if lhs.labels.count != rhs.labels.count { return lhs.labels.count < rhs.labels.count }
        for (left, right) in zip(lhs.ports, rhs.ports) {
            let l = (left.name ?? "", left.port, left.protocol.ipProtocol.rawValue)
            let r = (right.name ?? "", right.port, right.protocol.ipProtocol.rawValue)
            if l != r { return l < r }
            // The same triple with and without a name: the unnamed one first.
            if (left.name == nil) != (right.name == nil) { return left.name == nil }
        }
        return lhs.ports.count < rhs.ports.count
    }
}

struct SelectorKey: Hashable {
    var namespace: Int32
    var selector: LabelSelector
}

struct PeerKey: Hashable {
    var namespace: Int32  // the policy's namespace, used when there is no namespace selector
    var pods: LabelSelector?
    var namespaces: LabelSelector?
}

struct LabelPair: Hashable {
    var key: String
    var value: String
}

struct CompileContext {
    let state: ClusterState
    var diagnostics: [String] = []

    // Identities.
    var identityNamespace: [Int32] = []
    var identityLabels: [Labels] = []
    var identityNamedPorts: [[CompiledNamedPort]] = []
    /// Identities of namespace n are `namespaceRanges[n]` (identities are numbered namespace by namespace).
    var namespaceRanges: [Range<Int>] = []
    var labelIndex: [[LabelPair: [Int32]]] = []
    var endpointCount = 0

    // Addresses.
    var podSlots: [(pod: Int32, identity: Int32, address: IPAddress)] = []
    var slotPods: [Int32] = []
    var classCount = 1

    // Rules.
    var rules: [CompiledRule] = []
    var ruleOrigins: [RuleOrigin] = []
    var peerRefs: [UInt32] = []
    var ports: [CompiledPort] = []
    var portNames: [String: UInt32] = [:]
    var blockIDs: [IPBlock: UInt32] = [:]
    var peerSets: [PeerKey: UInt32] = [:]
    var identitySets: [CompiledIdentitySet] = []
    var setWords: [UInt64] = []
    var selectorCache: [SelectorKey: [Int32]] = [:]
    var namespaceSelectorCache: [LabelSelector: [Int32]] = [:]
    var ingressRules: [[UInt32]] = []
    var egressRules: [[UInt32]] = []
    var ingressIsolated: [Bool] = []
    var egressIsolated: [Bool] = []

    // Admin and baseline tiers (empty when the state has no cluster-wide policies).
    /// Per compiled rule: its action (`VerdictTables.RuleAction`), encoded in the rule's word of a program.
    var ruleActions: [UInt32] = []
    /// The rules of each cluster-wide policy per direction, and the identities grouped by the chunks that apply.
    var tierChunks: [TierChunk] = []
    var tierClasses: TierClasses?
    /// `nodes` peers: the selector and the block ID (shared with ipBlocks) of each distinct selector.
    var nodeBlockIDs: [LabelSelector: UInt32] = [:]
    /// The number of block IDs: ipBlocks, networks and node selectors.
    var blockCount: Int { blockIDs.count + nodeBlockIDs.count }
    /// The identity set that matches nothing, for rules whose peers all resolve to nothing.
    var emptySet: UInt32?

    /// Policies resolved by this compile, in `state.networkPolicies` order (see ``CompileReuse``).
    var resolvedPolicies: [ResolvedPolicy] = []
    /// What the previous compile left that this one may use (nil: compile everything).
    var reuse: CompileReuse?
    /// NetworkPolicies resolved anew by this compile (the others were reused).
    var policiesResolved = 0

    /// The previous compile's results, which this one takes over where they still hold.
    let candidate: CompileReuse?
    /// The identities of this compile, in identity order.
    var identityKeys: [IdentityKey] = []

    init(state: ClusterState, reusing candidate: CompileReuse? = nil) {
        self.state = state
        self.candidate = candidate
    }

    /// How long each phase took, in order.
    var phases: [(name: String, duration: Duration)] = []

    mutating func build() -> VerdictTables {
        var mark = ContinuousClock.now
        func lap(_ name: String, _ phases: inout [(name: String, duration: Duration)]) {
            let now = ContinuousClock.now
            phases.append((name, now - mark))
            mark = now
        }
        if let candidate, candidate.identityRevision == state.identityRevision {
            // Same namespaces and pods: everything derived from them holds.
            candidate.restore(into: &self, addresses: true)
            reuse = candidate
        } else {
            collectIdentities()
            if let candidate, candidate.identityKeys == identityKeys, candidate.namespaces == state.namespaces {
                // Pods changed, but not which identities exist: only the addresses are new.
                candidate.restore(into: &self, addresses: false)
                reuse = candidate
            } else {
                defineIdentities()
            }
        }
        resetRuleLists()
        lap("identities", &phases)
        buildRules()
        buildTierRules()
        lap("rules", &phases)
        let tables = assemble(lap: { lap($0, &$1) })
        lap("programs", &phases)
        return tables
    }

    // MARK: Identities

    /// Groups endpoint pods into identities (``identityKeys``) and lists their addresses (``podSlots``).
    /// Identities are numbered in an order of their keys (namespace first, so each namespace's identities are
    /// contiguous), so the numbers depend only on which identities exist, not on which pods have them: a pod added,
    /// removed or readdressed with the labels and ports of an existing identity leaves every number as it was.
    mutating func collectIdentities() {
        var namespaceIndex: [String: Int32] = [:]
        for (index, namespace) in state.namespaces.enumerated() { namespaceIndex[namespace.name] = Int32(index) }
        var provisional: [IdentityKey: Int32] = [:]
        provisional.reserveCapacity(state.pods.count / 4)
        var keys: [IdentityKey] = []
        podSlots.reserveCapacity(state.pods.count * 2)
        let pods = state.pods
        for podIndex in pods.indices where pods[podIndex].isEndpoint {
            endpointCount += 1
            guard let namespace = namespaceIndex[pods[podIndex].namespace] else { continue }
            let key = IdentityKey(
                namespace: namespace, labels: pods[podIndex].labels, ports: pods[podIndex].containerPorts,
                portsHash: pods[podIndex].containerPortsHash)
            let identity: Int32
            if let existing = provisional[key] {
                identity = existing
            } else {
                identity = Int32(keys.count)
                provisional[key] = identity
                keys.append(key)
            }
            for address in pods[podIndex].ips { podSlots.append((Int32(podIndex), identity, address)) }
        }
        // Sorted by namespace, then by hashes (computed when the pods were decoded), then in full on a tie: an
        // order that depends only on the keys, at the cost of integer comparisons.
        let sortKeys = keys.map { ($0.namespace, $0.labels.hashValue, $0.portsHash) }
        let order = keys.indices.sorted {
            sortKeys[$0] != sortKeys[$1] ? sortKeys[$0] < sortKeys[$1] : IdentityKey.precedes(keys[$0], keys[$1])
        }
        var number = [Int32](repeating: 0, count: keys.count)
        for (identity, provisionalIdentity) in order.enumerated() { number[provisionalIdentity] = Int32(identity) }
        identityKeys = order.map { keys[$0] }
        for index in podSlots.indices { podSlots[index].identity = number[Int(podSlots[index].identity)] }
    }

    /// The per-identity tables of ``identityKeys``: namespace, labels, named ports, the identity range of each
    /// namespace and the label index.
    mutating func defineIdentities() {
        namespaceRanges = Array(repeating: 0..<0, count: state.namespaces.count)
        labelIndex = Array(repeating: [:], count: state.namespaces.count)
        var rangeStart = 0
        for (index, key) in identityKeys.enumerated() {
            let identity = Int32(index)
            if index > 0 && identityKeys[index - 1].namespace != key.namespace { rangeStart = index }
            namespaceRanges[Int(key.namespace)] = rangeStart..<(index + 1)
            identityNamespace.append(key.namespace)
            identityLabels.append(key.labels)
            identityNamedPorts.append(
                key.ports.filter { $0.name != nil }.map {
                    CompiledNamedPort(nameID: portNameID($0.name!), port: $0.port, transport: $0.protocol.ipProtocol.rawValue)
                })
            for pair in key.labels {
                labelIndex[Int(key.namespace)][LabelPair(key: pair.key, value: pair.value), default: []].append(identity)
            }
        }
    }

    /// Empty rule lists for every identity.
    mutating func resetRuleLists() {
        let count = identityNamespace.count
        ingressRules = Array(repeating: [], count: count)
        egressRules = Array(repeating: [], count: count)
        ingressIsolated = Array(repeating: false, count: count)
        egressIsolated = Array(repeating: false, count: count)
    }

    mutating func portNameID(_ name: String) -> UInt32 {
        if let id = portNames[name] { return id }
        let id = UInt32(portNames.count)
        portNames[name] = id
        return id
    }

    /// The identities of namespace `namespace` that `selector` matches, through the label index.
    mutating func identities(matching selector: LabelSelector, in namespace: Int32) -> [Int32] {
        let key = SelectorKey(namespace: namespace, selector: selector)
        if let cached = selectorCache[key] { return cached }
        let range = namespaceRanges[Int(namespace)]
        var result: [Int32]
        if selector.isEmpty {
            result = range.map { Int32($0) }
        } else if !selector.matchLabels.isEmpty {
            // Start from the shortest posting list of the required labels, then check the whole selector.
            var candidates: [Int32]? = nil
            for pair in selector.matchLabels {
                let list = labelIndex[Int(namespace)][LabelPair(key: pair.key, value: pair.value)] ?? []
                if candidates == nil || list.count < candidates!.count { candidates = list }
            }
            result = (candidates ?? []).filter { selector.matches(identityLabels[Int($0)]) }
        } else {
            result = range.filter { selector.matches(identityLabels[$0]) }.map { Int32($0) }
        }
        selectorCache[key] = result
        return result
    }

    mutating func namespaces(matching selector: LabelSelector) -> [Int32] {
        if let cached = namespaceSelectorCache[selector] { return cached }
        let result = state.namespaces.indices.filter { selector.matches(state.namespaces[$0].labels) }.map { Int32($0) }
        namespaceSelectorCache[selector] = result
        return result
    }

    // MARK: Rules

    /// Compiles every NetworkPolicy: resolves its selectors (or reuses the previous compile's resolution of an
    /// unchanged policy, when the identities are the same), then lays its rules out for the identities it selects.
    mutating func buildRules() {
        var namespaceIndex: [String: Int32] = [:]
        for (index, namespace) in state.namespaces.enumerated() { namespaceIndex[namespace.name] = Int32(index) }
        let previous = reuse?.policies ?? []
        var previousIndex = 0
        resolvedPolicies.reserveCapacity(state.networkPolicies.count)
        for (policyIndex, policy) in state.networkPolicies.enumerated() {
            // Both lists are sorted by namespace and name: skip the previous compile's policies that are gone.
            while previousIndex < previous.count, previous[previousIndex].policy != policy,
                (previous[previousIndex].policy.namespace, previous[previousIndex].policy.name)
                    < (policy.namespace, policy.name)
            {
                previousIndex += 1
            }
            let resolved: ResolvedPolicy
            if previousIndex < previous.count, previous[previousIndex].policy == policy {
                resolved = previous[previousIndex]
                previousIndex += 1
            } else {
                resolved = resolve(policy, namespace: namespaceIndex[policy.namespace])
                policiesResolved += 1
            }
            resolvedPolicies.append(resolved)
            layOut(resolved, policyIndex: UInt32(policyIndex))
        }
    }

    /// A policy's subjects and rules in terms of identities and identity sets, which stay valid while the
    /// namespaces and pods do.
    mutating func resolve(_ policy: NetworkPolicy, namespace: Int32?) -> ResolvedPolicy {
        guard let namespace else { return ResolvedPolicy(policy: policy, subjects: [], ingress: nil, egress: nil) }
        func rules(_ rules: [NetworkPolicyRule]) -> [ResolvedRule] {
            rules.map { rule in
                ResolvedRule(
                    peers: rule.peers.map { peer in
                        switch peer {
                        case .ipBlock(let block):
                            return .block(block)
                        case .selector(let pods, let namespaces):
                            return .set(peerSet(PeerKey(namespace: namespace, pods: pods, namespaces: namespaces)))
                        }
                    },
                    ports: rule.ports.map { port in
                        let transport = port.protocol.ipProtocol.rawValue
                        switch port.port {
                        case nil:
                            return CompiledPort(low: 0, high: 65535, transport: transport, isNamed: 0, nameID: 0)
                        case .number(let number)?:
                            return CompiledPort(
                                low: number, high: port.endPort ?? number, transport: transport, isNamed: 0, nameID: 0)
                        case .name(let name)?:
                            return CompiledPort(
                                low: 0, high: 0, transport: transport, isNamed: 1, nameID: portNameID(name))
                        }
                    })
            }
        }
        return ResolvedPolicy(
            policy: policy, subjects: identities(matching: policy.podSelector, in: namespace),
            ingress: policy.policyTypes.contains(.ingress) ? rules(policy.ingress) : nil,
            egress: policy.policyTypes.contains(.egress) ? rules(policy.egress) : nil)
    }

    /// Appends a resolved policy's rules and gives them to the identities it selects.
    mutating func layOut(_ resolved: ResolvedPolicy, policyIndex: UInt32) {
        for direction in [Direction.ingress, .egress] {
            guard let sourceRules = direction == .ingress ? resolved.ingress : resolved.egress else { continue }
            var compiled: [UInt32] = []
            compiled.reserveCapacity(sourceRules.count)
            for (ruleIndex, rule) in sourceRules.enumerated() {
                let peerStart = UInt32(peerRefs.count)
                for peer in rule.peers {
                    switch peer {
                    case .set(let set): peerRefs.append(set)
                    case .block(let block): peerRefs.append(blockID(block) | VerdictTables.blockFlag)
                    }
                }
                let portStart = UInt32(ports.count)
                ports += rule.ports
                compiled.append(
                    appendRule(peerStart: peerStart, portStart: portStart, policy: policyIndex, index: UInt32(ruleIndex), action: 0))
                ruleOrigins.append(RuleOrigin(policy: resolved.policy.key, direction: direction, index: ruleIndex))
            }
            for subject in resolved.subjects {
                if direction == .ingress {
                    ingressIsolated[Int(subject)] = true
                    ingressRules[Int(subject)] += compiled
                } else {
                    egressIsolated[Int(subject)] = true
                    egressRules[Int(subject)] += compiled
                }
            }
        }
    }

    /// Closes the rule whose peers start at `peerStart` and ports at `portStart`.
    mutating func appendRule(peerStart: UInt32, portStart: UInt32, policy: UInt32, index: UInt32, action: UInt32) -> UInt32 {
        rules.append(
            CompiledRule(
                peerStart: peerStart, peerCount: UInt32(peerRefs.count) - peerStart, portStart: portStart,
                portCount: UInt32(ports.count) - portStart, policy: policy, index: index))
        ruleActions.append(action)
        return UInt32(rules.count - 1)
    }

    /// The block ID of an ipBlock, shared by every rule that names it.
    mutating func blockID(_ block: IPBlock) -> UInt32 {
        if let existing = blockIDs[block] { return existing }
        let id = UInt32(blockCount)
        blockIDs[block] = id
        return id
    }

    /// The identity set of a selector peer, shared by every rule with the same peer.
    mutating func peerSet(_ key: PeerKey) -> UInt32 {
        if let existing = peerSets[key] { return existing }
        let set: CompiledIdentitySet
        switch (key.pods, key.namespaces) {
        case (nil, let namespaceSelector?) where namespaceSelector.isEmpty:
            set = CompiledIdentitySet(kind: CompiledIdentitySet.Kind.all.rawValue, base: 0, wordCount: 0, wordOffset: 0)
        case (nil, let namespaceSelector?):
            let matched = namespaces(matching: namespaceSelector)
            set = bitset(of: matched, kind: .namespaces, fixedBase: 0)
        case (let podSelector, let namespaceSelector):
            let scope = namespaceSelector.map { namespaces(matching: $0) } ?? [key.namespace]
            var members: [Int32] = []
            for namespace in scope {
                members += identities(matching: podSelector ?? .everything, in: namespace)
            }
            set = bitset(of: members, kind: .identities, fixedBase: nil)
        }
        let id = UInt32(identitySets.count)
        identitySets.append(set)
        peerSets[key] = id
        return id
    }

    /// A bitset over `members`; identity sets start at their smallest member.
    mutating func bitset(of members: [Int32], kind: CompiledIdentitySet.Kind, fixedBase: Int32?) -> CompiledIdentitySet {
        guard let low = fixedBase ?? members.min(), let high = members.max() else {
            return CompiledIdentitySet(kind: CompiledIdentitySet.Kind.empty.rawValue, base: 0, wordCount: 0, wordOffset: 0)
        }
        let wordCount = Int(high - low) / 64 + 1
        let offset = setWords.count
        setWords += repeatElement(0, count: wordCount)
        for member in members {
            let bit = Int(member - low)
            setWords[offset + bit >> 6] |= 1 << UInt64(bit & 63)
        }
        return CompiledIdentitySet(
            kind: kind.rawValue, base: low, wordCount: UInt32(wordCount), wordOffset: UInt32(offset))
    }

    /// The encoded body of every rule (counts, ports, peers) and a content ID shared by rules whose bodies are
    /// equal: computed once per rule, not once per program that holds it.
    func encodeRuleBodies() -> (bodies: [[UInt32]], contentIDs: [UInt32]) {
        var bodies: [[UInt32]] = []
        var contentIDs: [UInt32] = []
        var contents: [[UInt32]: UInt32] = [:]
        bodies.reserveCapacity(rules.count)
        contentIDs.reserveCapacity(rules.count)
        for rule in rules {
            var body: [UInt32] = [rule.portCount | rule.peerCount << 16]
            for port in ports[Int(rule.portStart)..<Int(rule.portStart + rule.portCount)] {
                body.append(UInt32(port.low) | UInt32(port.high) << 16)
                body.append(UInt32(port.transport) | UInt32(port.isNamed) << 8 | port.nameID << 9)
            }
            body += peerRefs[Int(rule.peerStart)..<Int(rule.peerStart + rule.peerCount)]
            let id: UInt32
            if let existing = contents[body] {
                id = existing
            } else {
                id = UInt32(contents.count)
                contents[body] = id
            }
            bodies.append(body)
            contentIDs.append(id)
        }
        return (bodies, contentIDs)
    }

    /// Encodes rules as a program (see `VerdictTables`). With `deduplicate`, a rule whose ports and peers equal
    /// an earlier rule's is left out: it cannot change the verdict.
    func encodeProgram(
        _ ruleIDs: [UInt32], deduplicate: Bool, bodies: [[UInt32]], contentIDs: [UInt32], into code: inout [UInt32]
    ) {
        let countIndex = code.count
        code.append(0)
        // Short programs (NetworkPolicy's, usually) scan a list; long ones (many admin policies) use a set.
        var included: [UInt32] = []
        var includedSet = Set<UInt32>()
        let useSet = ruleIDs.count > 32
        var count: UInt32 = 0
        for ruleID in ruleIDs {
            if deduplicate {
                let content = contentIDs[Int(ruleID)]
                if useSet {
                    if !includedSet.insert(content).inserted { continue }
                } else {
                    if included.contains(content) { continue }
                    included.append(content)
                }
            }
            code.append(ruleID | ruleActions[Int(ruleID)] << VerdictTables.actionShift)
            code += bodies[Int(ruleID)]
            count += 1
        }
        code[countIndex] = count
    }

    /// Encodes the tiered program of one identity and direction (see `VerdictTables`): a header of seven
    /// words, then the admin rules, then the rules of the next tier (NetworkPolicy when `isolated`, otherwise
    /// baseline), each section deduplicated on its own: an admin rule must not hide a later NetworkPolicy rule of
    /// the same ports and peers, which a Pass can hand over to. Admin and baseline sections use the tier rule
    /// encoding, whose peers are bits of `masks`.
    func encodeTieredProgram(
        admin: [UInt32], next: [UInt32], isolated: Bool, masks: TierPeerMasks, bodies: [[UInt32]],
        contentIDs: [UInt32], into code: inout [UInt32]
    ) {
        var adminSection: [UInt32] = []
        var nextSection: [UInt32] = []
        let adminSummary = encodeTierSection(
            admin, masks: masks, bodies: bodies, contentIDs: contentIDs, into: &adminSection)
        let nextSummary: (count: UInt32, mask: UInt64)
        if isolated {
            encodeProgram(next, deduplicate: true, bodies: bodies, contentIDs: contentIDs, into: &nextSection)
            // The first word is the rule count, which moves into the header; the mask is not read.
            nextSummary = (nextSection.removeFirst(), ~0)
        } else {
            nextSummary = encodeTierSection(
                next, masks: masks, bodies: bodies, contentIDs: contentIDs, into: &nextSection)
        }
        code.append(adminSummary.count)
        code.append(nextSummary.count | (isolated ? VerdictTables.isolatedFlag : 0))
        code.append(UInt32(VerdictTables.tieredHeaderWords + adminSection.count))
        code.append(UInt32(truncatingIfNeeded: adminSummary.mask))
        code.append(UInt32(truncatingIfNeeded: adminSummary.mask >> 32))
        code.append(UInt32(truncatingIfNeeded: nextSummary.mask))
        code.append(UInt32(truncatingIfNeeded: nextSummary.mask >> 32))
        code += adminSection
        code += nextSection
    }

    // MARK: Address classes and tables

    /// For each ipBlock prefix (every CIDR and every exception), the set of ipBlocks that its addresses are in.
    /// Addresses whose longest matching prefix is P share P's set; the sets are computed along the prefix tree:
    /// a prefix inherits its parent's set, adds the blocks whose CIDR it is, and removes the blocks that except it.
    func blockClasses(family: AddressFamily) -> [(prefix: IPPrefix, blocks: [UInt32])] {
        var adds: [IPPrefix: [UInt32]] = [:]
        var removes: [IPPrefix: [UInt32]] = [:]
        for (block, id) in blockIDs where block.cidr.family == family {
            // The loader only admits exceptions strictly inside the CIDR; a state built in code may hold others.
            // An exception that covers the whole CIDR empties the block; one outside it changes nothing.
            if block.except.contains(where: { $0.contains(block.cidr) }) { continue }
            adds[block.cidr, default: []].append(id)
            for except in block.except where block.cidr.contains(except) {
                removes[except, default: []].append(id)
            }
        }
        if !nodeBlockIDs.isEmpty {
            let addresses = state.nodeAddresses()
            for (selector, id) in nodeBlockIDs {
                for (index, node) in state.nodes.enumerated() where selector.matches(node.labels) {
                    for address in addresses[index] where address.family == family {
                        adds[IPPrefix(host: address), default: []].append(id)
                    }
                }
            }
        }
        let prefixes = Set(adds.keys).union(removes.keys).sorted()
        var result: [(prefix: IPPrefix, blocks: [UInt32])] = []
        var stack: [(prefix: IPPrefix, blocks: Set<UInt32>)] = []
        for prefix in prefixes {
            while let top = stack.last, !top.prefix.contains(prefix) { stack.removeLast() }
            var blocks = stack.last?.blocks ?? []
            blocks.formUnion(adds[prefix] ?? [])
            blocks.subtract(removes[prefix] ?? [])
            stack.append((prefix, blocks))
            result.append((prefix, blocks.sorted()))
        }
        return result
    }

    mutating func assemble(lap: (String, inout [(name: String, duration: Duration)]) -> Void) -> VerdictTables {
        // Address classes: class 0 is "in no ipBlock".
        var classes: [[UInt32]: UInt32] = [[]: 0]
        var classList: [[UInt32]] = [[]]
        func classID(_ blocks: [UInt32]) -> UInt32 {
            if let id = classes[blocks] { return id }
            let id = UInt32(classList.count)
            classes[blocks] = id
            classList.append(blocks)
            return id
        }
        let familyClasses: [(AddressFamily, [(prefix: IPPrefix, blocks: [UInt32])])] = [
            (.ipv4, blockClasses(family: .ipv4)), (.ipv6, blockClasses(family: .ipv6)),
        ]
        // Slot 0: every address outside pods and ipBlocks. One slot per class for non-pod addresses.
        var slotIdentity: [Int32] = [-1]
        var slotClass: [UInt32] = [0]
        slotPods = [-1]
        var classSlot: [UInt32: UInt32] = [0: 0]
        var builders = [
            PrefixTrieBuilder(width: 32, defaultValue: 0), PrefixTrieBuilder(width: 128, defaultValue: 0),
        ]
        var classTries: [PrefixTrie] = []
        for (familyIndex, (family, prefixes)) in familyClasses.enumerated() {
            var classBuilder = PrefixTrieBuilder(width: family.bitWidth, defaultValue: 0)
            for (prefix, blocks) in prefixes {
                let id = classID(blocks)
                classBuilder.insert(bits: prefix.address.bits, length: prefix.length, value: id)
                let slot: UInt32
                if let existing = classSlot[id] {
                    slot = existing
                } else {
                    slot = UInt32(slotIdentity.count)
                    classSlot[id] = slot
                    slotIdentity.append(-1)
                    slotClass.append(id)
                    slotPods.append(-1)
                }
                builders[familyIndex].insert(bits: prefix.address.bits, length: prefix.length, value: slot)
            }
            classTries.append(classBuilder.build())
        }
        classCount = classList.count
        // Pod addresses, each its own slot; an address claimed twice keeps its first pod.
        slotIdentity.reserveCapacity(slotIdentity.count + podSlots.count)
        slotClass.reserveCapacity(slotClass.count + podSlots.count)
        slotPods.reserveCapacity(slotPods.count + podSlots.count)
        for (pod, identity, address) in podSlots {
            let family = address.family == .ipv4 ? 0 : 1
            let slot = UInt32(slotIdentity.count)
            if let owner = builders[family].insert(
                bits: address.bits, length: address.family.bitWidth, value: slot, keepExisting: true)
            {
                guard slotPods[Int(owner)] < 0 else {
                    let first = state.pods[Int(slotPods[Int(owner)])]
                    let second = state.pods[Int(pod)]
                    diagnostics.append(
                        "address \(address) belongs to both \(first.namespace)/\(first.name) and \(second.namespace)/\(second.name); the first is used")
                    continue
                }
                // An ipBlock names exactly this address: the pod's slot replaces it (and carries its class).
                builders[family].insert(bits: address.bits, length: address.family.bitWidth, value: slot)
            }
            let blockClass: UInt32
            switch address {
            case .v4(let a): blockClass = classTries[0].lookup(a.rawValue)
            case .v6(let a): blockClass = classTries[1].lookup(a.rawValue)
            }
            slotIdentity.append(identity)
            slotClass.append(blockClass)
            slotPods.append(pod)
        }
        for trie in classTries { trie.deallocate() }
        lap("addresses", &phases)

        let classWords = max(1, (blockCount + 63) / 64)
        var classBits = [UInt64](repeating: 0, count: classList.count * classWords)
        for (id, blocks) in classList.enumerated() {
            for block in blocks {
                classBits[id * classWords + Int(block) / 64] |= 1 << UInt64(block % 64)
            }
        }

        // Rule programs per identity and direction; identities selected by the same policies share them.
        let encoded = encodeRuleBodies()
        let tierPeers =
            tierClasses == nil
            ? TierPeerMasks(ruleBits: [], identityMasks: [], classMasks: [])
            : tierPeerMasks(classBits: classBits, classWords: classWords, classCount: classList.count)
        var programs: [UInt32] = []
        var explainPrograms: [UInt32] = []
        var placed: [[UInt32]: (hot: Int32, explain: Int32)] = [:]
        func place(_ list: [UInt32], isolated: Bool) -> (hot: Int32, explain: Int32) {
            guard isolated else { return (-1, -1) }
            if let offsets = placed[list] { return offsets }
            let offsets = (
                hot: Int32(programs.count), explain: Int32(explainPrograms.count)
            )
            encodeProgram(list, deduplicate: true, bodies: encoded.bodies, contentIDs: encoded.contentIDs, into: &programs)
            encodeProgram(
                list, deduplicate: false, bodies: encoded.bodies, contentIDs: encoded.contentIDs, into: &explainPrograms)
            placed[list] = offsets
            return offsets
        }
        var placedExplain: [[UInt32]: Int32] = [:]
        /// The explain program of `list` (every rule, none deduplicated); -1 when it does not apply.
        func placeExplain(_ list: [UInt32], applies: Bool) -> Int32 {
            guard applies else { return -1 }
            if let offset = placedExplain[list] { return offset }
            let offset = Int32(explainPrograms.count)
            encodeProgram(
                list, deduplicate: false, bodies: encoded.bodies, contentIDs: encoded.contentIDs, into: &explainPrograms)
            placedExplain[list] = offset
            return offset
        }
        // With cluster-wide policies, the hot program of an identity and direction is the tiered program (see
        // `VerdictTables`): its admin rules, then its NetworkPolicy rules if one isolates it, else its baseline
        // rules. Keyed by both lists and the isolation, so identities that agree on all three share it.
        struct TieredKey: Hashable {
            var admin: [UInt32]
            var next: [UInt32]
            var isolated: Bool
        }
        var placedTiered: [TieredKey: Int32] = [:]
        func placeTiered(admin: [UInt32], next: [UInt32], isolated: Bool) -> Int32 {
            guard isolated || !admin.isEmpty || !next.isEmpty else { return -1 }
            let key = TieredKey(admin: admin, next: next, isolated: isolated)
            if let offset = placedTiered[key] { return offset }
            let offset = Int32(programs.count)
            encodeTieredProgram(
                admin: admin, next: next, isolated: isolated, masks: tierPeers, bodies: encoded.bodies,
                contentIDs: encoded.contentIDs, into: &programs)
            placedTiered[key] = offset
            return offset
        }
        var identities: [IdentityInfo] = []
        var explainIngress: [Int32] = []
        var explainEgress: [Int32] = []
        var namedPorts: [CompiledNamedPort] = []
        var explainTierInfos: [TierInfo] = []
        identities.reserveCapacity(identityNamespace.count)
        // Per class of identities with the same cluster-wide policies: its admin and baseline rule lists (admin
        // ingress, admin egress, baseline ingress, baseline egress) and their explain programs, built only for
        // the classes in use.
        var classLists: [(lists: [[UInt32]], explain: TierInfo)?] = Array(
            repeating: nil, count: tierClasses?.chunks.count ?? 0)
        for identity in identityNamespace.indices {
            let hotIngress: Int32
            let hotEgress: Int32
            if let tierClasses {
                let tierClass = Int(tierClasses.classOf[identity])
                if classLists[tierClass] == nil {
                    var lists: [[UInt32]] = [[], [], [], []]
                    for chunk in tierClasses.chunks[tierClass] {
                        let rules = tierChunks[Int(chunk)]
                        lists[(rules.baseline ? 2 : 0) + (rules.ingress ? 0 : 1)] += rules.rules
                    }
                    let explain = lists.map { placeExplain($0, applies: !$0.isEmpty) }
                    classLists[tierClass] = (
                        lists,
                        TierInfo(
                            adminIngress: explain[0], adminEgress: explain[1], baselineIngress: explain[2],
                            baselineEgress: explain[3])
                    )
                }
                guard let (lists, explain) = classLists[tierClass] else { continue }
                explainTierInfos.append(explain)
                let ingressIsolated = ingressIsolated[identity]
                let egressIsolated = egressIsolated[identity]
                hotIngress = placeTiered(
                    admin: lists[0], next: ingressIsolated ? ingressRules[identity] : lists[2], isolated: ingressIsolated)
                hotEgress = placeTiered(
                    admin: lists[1], next: egressIsolated ? egressRules[identity] : lists[3], isolated: egressIsolated)
                explainIngress.append(placeExplain(ingressRules[identity], applies: ingressIsolated))
                explainEgress.append(placeExplain(egressRules[identity], applies: egressIsolated))
            } else {
                let ingress = place(ingressRules[identity], isolated: ingressIsolated[identity])
                let egress = place(egressRules[identity], isolated: egressIsolated[identity])
                hotIngress = ingress.hot
                hotEgress = egress.hot
                explainIngress.append(ingress.explain)
                explainEgress.append(egress.explain)
            }
            identities.append(
                IdentityInfo(
                    namespace: identityNamespace[identity],
                    audited: state.namespaces[Int(identityNamespace[identity])].enforcement == .audit ? 1 : 0,
                    ingress: hotIngress, egress: hotEgress,
                    namedPortStart: UInt32(namedPorts.count), namedPortCount: UInt32(identityNamedPorts[identity].count),
                    tierPeers: tierPeers.identityMasks.isEmpty ? 0 : tierPeers.identityMasks[identity]))
            namedPorts += identityNamedPorts[identity]
        }

        let slotInfos = zip(slotIdentity, slotClass).map { SlotInfo(identity: $0, blockClass: $1) }
        let ipv4 = builders[0].build()
        let ipv6 = builders[1].build()
        return VerdictTables(
            ipv4: ipv4, ipv6: ipv6, slots: FixedArray(slotInfos),
            ipv4Leaves: FixedArray(ipv4.values.elements.map { slotInfos[Int($0)] }),
            ipv6Leaves: FixedArray(ipv6.values.elements.map { slotInfos[Int($0)] }),
            classWords: classWords, classBits: FixedArray(classBits), identities: FixedArray(identities),
            namedPorts: FixedArray(namedPorts), programs: FixedArray(programs),
            identitySets: FixedArray(identitySets), setWords: FixedArray(setWords),
            explainPrograms: FixedArray(explainPrograms), explainIngress: FixedArray(explainIngress),
            explainEgress: FixedArray(explainEgress), tiered: tierClasses != nil,
            explainTiers: FixedArray(explainTierInfos), tierPeerClasses: FixedArray(tierPeers.classMasks))
    }
}
