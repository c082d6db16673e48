import NetworkTypes

/// A rule of a compiled policy: which peers and which ports it allows.
struct CompiledRule: BitwiseCopyable {
    /// Range in `peerRefs`; an empty range matches every peer.
    var peerStart: UInt32
    var peerCount: UInt32
    /// Range in `ports`; an empty range matches every port and protocol.
    var portStart: UInt32
    var portCount: UInt32
    /// The policy the rule belongs to, and its index among that policy's rules of the same direction.
    var policy: UInt32
    var index: UInt32
}

/// A `ports` entry: a numeric range of one protocol, or a named port resolved against the destination pod.
struct CompiledPort: BitwiseCopyable {
    var low: UInt16
    var high: UInt16
    var transport: UInt8
    /// Nonzero for a named port, which is then `nameID`.
    var isNamed: UInt8
    var nameID: UInt32
}

/// A container port with a name, interned.
struct CompiledNamedPort: BitwiseCopyable {
    var nameID: UInt32
    var port: UInt16
    var transport: UInt8
}

/// The set of identities a selector peer matches.
struct CompiledIdentitySet: BitwiseCopyable {
    enum Kind: UInt8 {
        case empty = 0
        /// Every identity (`namespaceSelector: {}` alone).
        case all = 1
        /// Identities whose namespace bit is set in the words at `wordOffset`, indexed by namespace.
        case namespaces = 2
        /// Identities `base + i` whose bit `i` is set in the words at `wordOffset`.
        case identities = 3
    }

    var kind: UInt8
    var base: Int32
    var wordCount: UInt32
    var wordOffset: UInt32
}

/// The compiled tables of a snapshot, as plain memory: what a worker reads for every verdict.
///
/// Copying this struct copies pointers; reading it takes no lock and touches no reference count. Its memory
/// belongs to a `CompiledSnapshot`, which must outlive every use (the datapath guarantees this with RCU).
public struct VerdictTables: @unchecked Sendable {
    // Sendable: immutable after compilation; the owner frees it only after every reader is done.
    let ipv4: PrefixTrie
    let ipv6: PrefixTrie
    /// Per address slot (the value the tries give): the identity (-1 for addresses outside every pod) and
    /// the ipBlock class.
    let slotIdentity: FixedArray<Int32>
    let slotClass: FixedArray<UInt32>
    /// Per ipBlock class, `classWords` words: bit b is set when the class lies inside ipBlock b.
    let classWords: Int
    let classBits: FixedArray<UInt64>
    /// Per identity: its namespace index, and per direction the range of its rules in `ruleRefs`
    /// (start -1: not isolated in that direction).
    let identityNamespace: FixedArray<Int32>
    let ingressStart: FixedArray<Int32>
    let ingressCount: FixedArray<UInt32>
    let egressStart: FixedArray<Int32>
    let egressCount: FixedArray<UInt32>
    /// Per identity, its named container ports: a range in `namedPorts`.
    let namedPortStart: FixedArray<UInt32>
    let namedPortCount: FixedArray<UInt32>
    let namedPorts: FixedArray<CompiledNamedPort>
    let ruleRefs: FixedArray<UInt32>
    let rules: FixedArray<CompiledRule>
    /// Peer references: an identity set index, or an ipBlock index with the top bit set.
    let peerRefs: FixedArray<UInt32>
    let identitySets: FixedArray<CompiledIdentitySet>
    let setWords: FixedArray<UInt64>
    let ports: FixedArray<CompiledPort>

    static let blockFlag: UInt32 = 0x8000_0000

    /// The address slot of `address`.
    @inline(__always)
    func slot(of address: IPAddress) -> Int {
        switch address {
        case .v4(let a): return Int(ipv4.lookup(a.rawValue))
        case .v6(let a): return Int(ipv6.lookup(a.rawValue))
        }
    }

    /// Decides a connection: the source pod's egress (if it is a pod) and the destination pod's ingress (if it
    /// is a pod) must both allow it. Allocation-free, lock-free, and free of reference counting.
    public func evaluate(_ flow: FlowKey) -> Verdict {
        let source = slot(of: flow.source)
        let destination = slot(of: flow.destination)
        let sourceIdentity = slotIdentity[source]
        let destinationIdentity = slotIdentity[destination]
        let transport = flow.transport.rawValue
        let port = flow.destinationPort
        var isolated = false
        var egressRule: Int32 = -1
        if sourceIdentity >= 0 {
            let start = egressStart[Int(sourceIdentity)]
            if start >= 0 {
                isolated = true
                egressRule = firstMatch(
                    start: Int(start), count: Int(egressCount[Int(sourceIdentity)]), peerSlot: destination,
                    destinationIdentity: destinationIdentity, transport: transport, port: port)
                if egressRule < 0 { return Verdict(reason: .deniedByEgress) }
            }
        }
        var ingressRule: Int32 = -1
        if destinationIdentity >= 0 {
            let start = ingressStart[Int(destinationIdentity)]
            if start >= 0 {
                isolated = true
                ingressRule = firstMatch(
                    start: Int(start), count: Int(ingressCount[Int(destinationIdentity)]), peerSlot: source,
                    destinationIdentity: destinationIdentity, transport: transport, port: port)
                if ingressRule < 0 { return Verdict(reason: .deniedByIngress, egressRule: egressRule) }
            }
        }
        return Verdict(
            reason: isolated ? .allowedByPolicy : .notIsolated, egressRule: egressRule, ingressRule: ingressRule)
    }

    /// The first rule of `ruleRefs[start..<start+count]` that matches, or -1.
    @inline(__always)
    func firstMatch(
        start: Int, count: Int, peerSlot: Int, destinationIdentity: Int32, transport: UInt8, port: UInt16
    ) -> Int32 {
        var index = start
        let end = start &+ count
        while index < end {
            let ruleIndex = ruleRefs[index]
            let rule = rules[Int(ruleIndex)]
            if portsMatch(rule, destinationIdentity: destinationIdentity, transport: transport, port: port)
                && peersMatch(rule, peerSlot: peerSlot)
            {
                return Int32(bitPattern: ruleIndex)
            }
            index &+= 1
        }
        return -1
    }

    @inline(__always)
    func portsMatch(_ rule: CompiledRule, destinationIdentity: Int32, transport: UInt8, port: UInt16) -> Bool {
        if rule.portCount == 0 { return true }
        var index = Int(rule.portStart)
        let end = index &+ Int(rule.portCount)
        while index < end {
            let entry = ports[index]
            index &+= 1
            if entry.transport != transport { continue }
            if entry.isNamed == 0 {
                if port >= entry.low && port <= entry.high { return true }
            } else if destinationIdentity >= 0,
                resolve(nameID: entry.nameID, transport: transport, identity: Int(destinationIdentity)) == port
            {
                return true
            }
        }
        return false
    }

    /// The port number that a named port has on pods of `identity`, or nil.
    @inline(__always)
    func resolve(nameID: UInt32, transport: UInt8, identity: Int) -> UInt16? {
        var index = Int(namedPortStart[identity])
        let end = index &+ Int(namedPortCount[identity])
        while index < end {
            let named = namedPorts[index]
            if named.nameID == nameID && named.transport == transport { return named.port }
            index &+= 1
        }
        return nil
    }

    @inline(__always)
    func peersMatch(_ rule: CompiledRule, peerSlot: Int) -> Bool {
        if rule.peerCount == 0 { return true }
        let peerIdentity = slotIdentity[peerSlot]
        var index = Int(rule.peerStart)
        let end = index &+ Int(rule.peerCount)
        while index < end {
            let ref = peerRefs[index]
            index &+= 1
            if ref & VerdictTables.blockFlag != 0 {
                let block = Int(ref & ~VerdictTables.blockFlag)
                let word = classBits[Int(slotClass[peerSlot]) &* classWords &+ (block >> 6)]
                if word & (1 << UInt64(block & 63)) != 0 { return true }
            } else if peerIdentity >= 0, setContains(Int(ref), identity: peerIdentity) {
                return true
            }
        }
        return false
    }

    @inline(__always)
    func setContains(_ setIndex: Int, identity: Int32) -> Bool {
        let set = identitySets[setIndex]
        switch set.kind {
        case CompiledIdentitySet.Kind.all.rawValue:
            return true
        case CompiledIdentitySet.Kind.namespaces.rawValue:
            let namespace = Int(identityNamespace[Int(identity)])
            guard namespace >> 6 < Int(set.wordCount) else { return false }
            return setWords[Int(set.wordOffset) &+ (namespace >> 6)] & (1 << UInt64(namespace & 63)) != 0
        case CompiledIdentitySet.Kind.identities.rawValue:
            let offset = Int(identity) &- Int(set.base)
            guard offset >= 0, offset >> 6 < Int(set.wordCount) else { return false }
            return setWords[Int(set.wordOffset) &+ (offset >> 6)] & (1 << UInt64(offset & 63)) != 0
        default:
            return false
        }
    }

    /// The bytes of every table.
    var byteCount: Int {
        ipv4.byteCount + ipv6.byteCount + slotIdentity.byteCount + slotClass.byteCount + classBits.byteCount
            + identityNamespace.byteCount + ingressStart.byteCount + ingressCount.byteCount + egressStart.byteCount
            + egressCount.byteCount + namedPortStart.byteCount + namedPortCount.byteCount + namedPorts.byteCount
            + ruleRefs.byteCount + rules.byteCount + peerRefs.byteCount + identitySets.byteCount
            + setWords.byteCount + ports.byteCount
    }

    func deallocate() {
        ipv4.deallocate()
        ipv6.deallocate()
        slotIdentity.deallocate()
        slotClass.deallocate()
        classBits.deallocate()
        identityNamespace.deallocate()
        ingressStart.deallocate()
        ingressCount.deallocate()
        egressStart.deallocate()
        egressCount.deallocate()
        namedPortStart.deallocate()
        namedPortCount.deallocate()
        namedPorts.deallocate()
        ruleRefs.deallocate()
        rules.deallocate()
        peerRefs.deallocate()
        identitySets.deallocate()
        setWords.deallocate()
        ports.deallocate()
    }
}
