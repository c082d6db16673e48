import NetworkTypes

/// A rule of a compiled policy while compiling: which peers and which ports it allows. Encoded into programs.
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

/// A `ports` entry while compiling: a numeric range of one protocol, or a named port resolved against the destination pod.
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

/// What an address slot (the value the tries give) stands for.
struct SlotInfo: BitwiseCopyable {
    /// The identity of the pod that owns the address, or -1 for addresses outside every pod.
    var identity: Int32
    /// The ipBlock class of the address.
    var blockClass: UInt32
}

/// Per identity: the offsets of its admin-tier and baseline programs per direction in `explainPrograms` (-1: no
/// such rule applies).
struct TierInfo: BitwiseCopyable {
    var adminIngress: Int32
    var adminEgress: Int32
    var baselineIngress: Int32
    var baselineEgress: Int32
}

/// Per identity: its namespace, the offsets of its rule programs (-1: not isolated in that direction; with
/// cluster-wide policies, its tiered programs, -1 when no tier has rules for it), its named container ports, and
/// the tier peer lists its pods are in (32 bytes: two to a cache line, none straddling one).
struct IdentityInfo: BitwiseCopyable {
    var namespace: Int32
    /// Nonzero when the identity's namespace is in audit mode.
    var audited: UInt32
    var ingress: Int32
    var egress: Int32
    var namedPortStart: UInt32
    var namedPortCount: UInt32
    /// With cluster-wide policies: the bits of the admin and baseline peer lists that match this identity's pods
    /// through an identity set (`TierPeerMasks`); 0 without.
    var tierPeers: UInt64
}

/// The compiled tables of a snapshot, as plain memory: what a worker reads for every verdict.
///
/// Copying this struct copies pointers; reading it takes no lock and touches no reference count. Its memory
/// belongs to a `CompiledSnapshot`, which must outlive every use (the datapath guarantees this with RCU).
///
/// The rules that apply to an identity in one direction are laid out as one contiguous program of 32-bit words,
/// so a verdict reads them sequentially instead of chasing indices:
///
///     count                                   rules in the program
///     per rule: ruleID | action << 30         the compiled rule (for reasons and metrics), and its action:
///                                             0 allow (every NetworkPolicy rule), 1 deny, 2 pass
///               portCount | peerCount << 16
///               per port: low | high << 16, transport | isNamed << 8 | nameID << 9
///               per peer: reference           an identity set, or an ipBlock with the top bit set
///
/// Identities selected by the same policies share one program; rules with identical ports and peers appear once
/// (the first, in policy order). `explainPrograms` keeps every rule, for `explain`.
///
/// Cluster-wide policies change what an identity's program holds (`tiered`): per identity and direction one
/// tiered program, read front to back with early exit, that carries every tier:
///
///     adminCount                              admin rules (every admin-tier policy selecting the identity, by
///                                             priority then name, each in written order)
///     nextCount | isolated << 31              rules of the next tier: NetworkPolicy when one isolates the
///                                             identity in this direction, otherwise baseline
///     nextOffset                              where the next tier's rules start, from the program's start
///     adminMask (2 words, low first)          the peer-list bits of the admin rules
///     nextMask (2 words, low first)           the same for baseline rules (all ones for NetworkPolicy rules)
///     admin rules, then next-tier rules       admin and baseline rules in the tier rule encoding below,
///                                             NetworkPolicy rules in the rule encoding above
///
/// A tier rule is `ruleID | action << 30`, `portCount | peerCount << 16`, the bit of its peer list
/// (`TierPeerMasks`), its ports, and its peers only when that bit is the shared overflow bit (otherwise
/// `peerCount` is 0 and the bit alone decides). The peer's mask (`tierPeerClasses[class]`, or'ed with its
/// identity's `tierPeers` for a pod) has the bits of exactly the lists that match it, so a section whose mask
/// shares no bit with the peer's is skipped without reading its rules.
///
/// The first matching admin rule decides unless its action is Pass, which continues at `nextOffset`; then the
/// first matching NetworkPolicy rule allows (none: denied), or the first matching baseline rule decides (none,
/// or Pass: allowed by default). The admin and baseline programs of each identity are kept, undeduplicated, for
/// `explain` only (`explainTiers`). Without cluster-wide policies `tiered` is false and the verdict takes the
/// NetworkPolicy-only path after one check.
public struct VerdictTables: @unchecked Sendable {
    // Sendable: immutable after compilation; the owner frees it only after every reader is done.
    let ipv4: PrefixTrie
    let ipv6: PrefixTrie
    let slots: FixedArray<SlotInfo>
    /// Per leaf (value run) of `ipv4` and of `ipv6`: the `SlotInfo` of the leaf's slot, so that a verdict reads
    /// one table after the trie walk instead of the leaf's slot and then the slot's entry.
    let ipv4Leaves: FixedArray<SlotInfo>
    let ipv6Leaves: FixedArray<SlotInfo>
    /// Per ipBlock class, `classWords` words: bit b is set when the class lies inside ipBlock b.
    let classWords: Int
    let classBits: FixedArray<UInt64>
    let identities: FixedArray<IdentityInfo>
    let namedPorts: FixedArray<CompiledNamedPort>
    let programs: FixedArray<UInt32>
    let identitySets: FixedArray<CompiledIdentitySet>
    let setWords: FixedArray<UInt64>
    /// Per identity and direction, the offset of the undeduplicated program in `explainPrograms`.
    let explainPrograms: FixedArray<UInt32>
    let explainIngress: FixedArray<Int32>
    let explainEgress: FixedArray<Int32>
    /// Whether the snapshot has cluster-wide policies, so that `identities` point at tiered programs.
    let tiered: Bool
    /// Per identity, its admin and baseline programs in `explainPrograms`.
    let explainTiers: FixedArray<TierInfo>
    /// Per address class, the tier peer lists that match its addresses (`TierPeerMasks.classMasks`); empty
    /// without cluster-wide policies.
    let tierPeerClasses: FixedArray<UInt64>

    static let blockFlag: UInt32 = 0x8000_0000
    /// In a tiered program's second header word: a NetworkPolicy isolates the identity in this direction.
    static let isolatedFlag: UInt32 = 0x8000_0000

    /// The address slot of `address`.
    @inline(__always)
    func slot(of address: IPAddress) -> Int {
        switch address {
        case .v4(let a): return Int(ipv4.lookup(a.rawValue))
        case .v6(let a): return Int(ipv6.lookup(a.rawValue))
        }
    }

    /// What the address slot of `address` stands for: `slots[slot(of: address)]`, one memory read shorter.
    @inline(__always)
    func slotInfo(of address: IPAddress) -> SlotInfo {
        switch address {
        case .v4(let a): return ipv4Leaves[ipv4.leafIndex(a.rawValue)]
        case .v6(let a): return ipv6Leaves[ipv6.leafIndex(a.rawValue)]
        }
    }

    /// Decides a connection: the source pod's egress (if it is a pod) and the destination pod's ingress (if it
    /// is a pod) must both allow it. Allocation-free, lock-free, and free of reference counting.
    public func evaluate(_ flow: FlowKey) -> Verdict {
        if tiered { return evaluateTiers(flow) }
        let sourceInfo = slotInfo(of: flow.source)
        let destinationInfo = slotInfo(of: flow.destination)
        let transport = flow.transport.rawValue
        let port = flow.destinationPort
        var isolated = false
        var egressRule: Int32 = -1
        if sourceInfo.identity >= 0 {
            let info = identities[Int(sourceInfo.identity)]
            if info.egress >= 0 {
                isolated = true
                egressRule = run(
                    programs, at: Int(info.egress), peer: destinationInfo, destinationIdentity: destinationInfo.identity,
                    transport: transport, port: port)
                if egressRule < 0 { return Verdict(reason: .deniedByEgress, audited: info.audited != 0) }
            }
        }
        var ingressRule: Int32 = -1
        if destinationInfo.identity >= 0 {
            let info = identities[Int(destinationInfo.identity)]
            if info.ingress >= 0 {
                isolated = true
                ingressRule = run(
                    programs, at: Int(info.ingress), peer: sourceInfo, destinationIdentity: destinationInfo.identity,
                    transport: transport, port: port)
                if ingressRule < 0 {
                    return Verdict(reason: .deniedByIngress, egressRule: egressRule, audited: info.audited != 0)
                }
            }
        }
        return Verdict(
            reason: isolated ? .allowedByPolicy : .notIsolated, egressRule: egressRule, ingressRule: ingressRule)
    }

    /// Runs the program at `offset`: the ID of the first rule that matches, or -1.
    @inline(__always)
    func run(
        _ code: FixedArray<UInt32>, at offset: Int, peer: SlotInfo, destinationIdentity: Int32, transport: UInt8,
        port: UInt16
    ) -> Int32 {
        var match: Int32 = -1
        forEachMatch(code, at: offset, peer: peer, destinationIdentity: destinationIdentity, transport: transport, port: port) {
            match = Int32(bitPattern: $0)
            return false
        }
        return match
    }

    /// Calls `body` with the ID of every rule of the program at `offset` that matches, in order, until `body`
    /// returns false.
    @inline(__always)
    func forEachMatch(
        _ code: FixedArray<UInt32>, at offset: Int, peer: SlotInfo, destinationIdentity: Int32, transport: UInt8,
        port: UInt16, _ body: (UInt32) -> Bool
    ) {
        var cursor = offset &+ 1
        var remaining = Int(code[offset])
        while remaining > 0 {
            remaining &-= 1
            let ruleID = code[cursor]
            let rule = checkRule(
                code, countsAt: cursor &+ 1, portsAt: cursor &+ 2, peer: peer, destinationIdentity: destinationIdentity,
                transport: transport, port: port)
            cursor = rule.next
            if rule.matches && !body(ruleID) { return }
        }
    }

    /// Checks one rule of a program whose counts word (ports in the low 16 bits, peers in the high 16) is at
    /// `countsAt` and whose port pairs start at `portsAt`, followed by its peers: the offset just past the rule, and
    /// whether the rule matches (`skip`: it cannot, only step over it). The one rule check every program encoding
    /// shares; its callers differ only in the words before the counts.
    @inline(__always)
    func checkRule(
        _ code: FixedArray<UInt32>, countsAt: Int, portsAt portStart: Int, peer: SlotInfo, destinationIdentity: Int32,
        transport: UInt8, port: UInt16, skip: Bool = false
    ) -> (next: Int, matches: Bool) {
        let counts = code[countsAt]
        let portCount = Int(counts & 0xFFFF)
        let peerCount = Int(counts >> 16)
        let peerStart = portStart &+ portCount &* 2
        let next = peerStart &+ peerCount
        if skip { return (next, false) }
        if portCount > 0
            && !portsMatch(code, from: portStart, count: portCount, destinationIdentity: destinationIdentity, transport: transport, port: port)
        {
            return (next, false)
        }
        if peerCount > 0 && !peersMatch(code, from: peerStart, count: peerCount, peer: peer) { return (next, false) }
        return (next, true)
    }

    @inline(__always)
    func portsMatch(
        _ code: FixedArray<UInt32>, from start: Int, count: Int, destinationIdentity: Int32, transport: UInt8,
        port: UInt16
    ) -> Bool {
        var index = start
        let end = start &+ count &* 2
        while index < end {
            let range = code[index]
            let kind = code[index &+ 1]
            index &+= 2
            if UInt8(truncatingIfNeeded: kind) != transport { continue }
            if kind & 0x100 == 0 {
                if port >= UInt16(truncatingIfNeeded: range) && port <= UInt16(truncatingIfNeeded: range >> 16) {
                    return true
                }
            } else if destinationIdentity >= 0,
                resolve(nameID: kind >> 9, transport: transport, identity: Int(destinationIdentity)) == port
            {
                return true
            }
        }
        return false
    }

    /// The port number that a named port has on pods of `identity`, or nil.
    @inline(__always)
    func resolve(nameID: UInt32, transport: UInt8, identity: Int) -> UInt16? {
        let info = identities[identity]
        var index = Int(info.namedPortStart)
        let end = index &+ Int(info.namedPortCount)
        while index < end {
            let named = namedPorts[index]
            if named.nameID == nameID && named.transport == transport { return named.port }
            index &+= 1
        }
        return nil
    }

    @inline(__always)
    func peersMatch(_ code: FixedArray<UInt32>, from start: Int, count: Int, peer: SlotInfo) -> Bool {
        var index = start
        let end = start &+ count
        while index < end {
            let ref = code[index]
            index &+= 1
            if ref & VerdictTables.blockFlag != 0 {
                let block = Int(ref & ~VerdictTables.blockFlag)
                let word = classBits[Int(peer.blockClass) &* classWords &+ (block &>> 6)]
                if word & (1 &<< UInt64(block & 63)) != 0 { return true }
            } else if peer.identity >= 0, setContains(Int(ref), identity: peer.identity) {
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
            let namespace = Int(identities[Int(identity)].namespace)
            guard namespace &>> 6 < Int(set.wordCount) else { return false }
            return setWords[Int(set.wordOffset) &+ (namespace &>> 6)] & (1 &<< UInt64(namespace & 63)) != 0
        case CompiledIdentitySet.Kind.identities.rawValue:
            let offset = Int(identity) &- Int(set.base)
            guard offset >= 0, offset &>> 6 < Int(set.wordCount) else { return false }
            return setWords[Int(set.wordOffset) &+ (offset &>> 6)] & (1 &<< UInt64(offset & 63)) != 0
        default:
            return false
        }
    }

    /// The bytes of every table.
    var byteCount: Int {
        ipv4.byteCount + ipv6.byteCount + slots.byteCount + ipv4Leaves.byteCount + ipv6Leaves.byteCount
            + classBits.byteCount + identities.byteCount
            + namedPorts.byteCount + programs.byteCount + identitySets.byteCount + setWords.byteCount
            + explainPrograms.byteCount + explainIngress.byteCount + explainEgress.byteCount
            + explainTiers.byteCount + tierPeerClasses.byteCount
    }

    func deallocate() {
        ipv4.deallocate()
        ipv6.deallocate()
        slots.deallocate()
        ipv4Leaves.deallocate()
        ipv6Leaves.deallocate()
        classBits.deallocate()
        identities.deallocate()
        namedPorts.deallocate()
        programs.deallocate()
        identitySets.deallocate()
        setWords.deallocate()
        explainPrograms.deallocate()
        explainIngress.deallocate()
        explainEgress.deallocate()
        explainTiers.deallocate()
        tierPeerClasses.deallocate()
    }
}
