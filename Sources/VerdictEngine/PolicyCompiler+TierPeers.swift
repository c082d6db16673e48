/// The peers of admin and baseline rules as bits of one 64-bit mask per peer, so that a tiered program tests a
/// rule's peers with one bit test, and skips a whole tier section with one AND, instead of walking identity sets
/// and address classes rule by rule.
///
/// Every distinct peer list of a tier rule gets a bit (the first 63 lists; every later list shares bit 63). A
/// peer's mask is `classMasks[class]`, or'ed with `identityMasks[identity]` when the peer is a pod: bit b is set
/// exactly when list b matches the peer, the same test as `VerdictTables.peersMatch` (an identity set matches
/// pods only, an ipBlock, `networks` or `nodes` peer matches through the address class). Bit 63 is set in every
/// class mask, so a rule whose list has no bit of its own keeps its peers in the program and is checked against
/// them.
struct TierPeerMasks {
    /// The bit that every peer list beyond the first 63 shares.
    static let overflowBit: UInt32 = 63

    /// Per rule ID, the bit of its peer list; only tier rules' entries are meaningful.
    var ruleBits: [UInt32]
    /// Per identity, the bits of the peer lists that match its pods through an identity set.
    var identityMasks: [UInt64]
    /// Per address class, the bits of the peer lists that match its addresses through an ipBlock, `networks` or
    /// `nodes` peer, plus the lists that match every peer, plus the overflow bit.
    var classMasks: [UInt64]
}

extension CompileContext {
    /// Assigns a bit to the peer list of every admin and baseline rule and computes every identity's and every
    /// address class's mask (see `TierPeerMasks`). `classBits` holds `classWords` words per class: bit b set
    /// when the class lies inside block b. The cost is one pass over the members of each of at most 63 lists.
    func tierPeerMasks(classBits: [UInt64], classWords: Int, classCount: Int) -> TierPeerMasks {
        var masks = TierPeerMasks(
            ruleBits: Array(repeating: TierPeerMasks.overflowBit, count: rules.count),
            identityMasks: Array(repeating: 0, count: identityNamespace.count),
            classMasks: Array(repeating: 1 &<< UInt64(TierPeerMasks.overflowBit), count: classCount))
        var lists: [[UInt32]: UInt32] = [:]
        for chunk in tierChunks {
            for ruleID in chunk.rules {
                let rule = rules[Int(ruleID)]
                let refs = Array(peerRefs[Int(rule.peerStart)..<Int(rule.peerStart + rule.peerCount)])
                if let bit = lists[refs] {
                    masks.ruleBits[Int(ruleID)] = bit
                    continue
                }
                let bit = UInt32(min(lists.count, Int(TierPeerMasks.overflowBit)))
                lists[refs] = bit
                masks.ruleBits[Int(ruleID)] = bit
                guard bit != TierPeerMasks.overflowBit else { continue }
                markPeers(refs, flag: 1 &<< UInt64(bit), classBits: classBits, classWords: classWords, into: &masks)
            }
        }
        return masks
    }

    /// Sets `flag` in the mask of every identity and address class that the peer list `refs` matches.
    private func markPeers(
        _ refs: [UInt32], flag: UInt64, classBits: [UInt64], classWords: Int, into masks: inout TierPeerMasks
    ) {
        // A program reads "no peers" as "every peer".
        if refs.isEmpty {
            for index in masks.classMasks.indices { masks.classMasks[index] |= flag }
            return
        }
        for ref in refs {
            if ref & VerdictTables.blockFlag != 0 {
                let block = Int(ref & ~VerdictTables.blockFlag)
                for index in masks.classMasks.indices
                where classBits[index * classWords + block >> 6] & (1 &<< UInt64(block & 63)) != 0 {
                    masks.classMasks[index] |= flag
                }
                continue
            }
            let set = identitySets[Int(ref)]
            switch set.kind {
            case CompiledIdentitySet.Kind.all.rawValue:
                for identity in masks.identityMasks.indices { masks.identityMasks[identity] |= flag }
            case CompiledIdentitySet.Kind.namespaces.rawValue:
                for (identity, namespace) in identityNamespace.enumerated() {
                    let namespace = Int(namespace)
                    guard namespace >> 6 < Int(set.wordCount) else { continue }
                    if setWords[Int(set.wordOffset) + namespace >> 6] & (1 &<< UInt64(namespace & 63)) != 0 {
                        masks.identityMasks[identity] |= flag
                    }
                }
            case CompiledIdentitySet.Kind.identities.rawValue:
                for wordIndex in 0..<Int(set.wordCount) {
                    var word = setWords[Int(set.wordOffset) + wordIndex]
                    while word != 0 {
                        let identity = Int(set.base) + wordIndex * 64 + word.trailingZeroBitCount
                        masks.identityMasks[identity] |= flag
                        word &= word &- 1
                    }
                }
            default:
                break
            }
        }
    }

    /// Encodes a tier section (admin or baseline rules) of a tiered program: per rule its word, its counts (with
    /// no peers when its peer list has a bit of its own), the bit of its peer list, its ports, and its peers
    /// only for the overflow bit. A rule whose ports and peers equal an earlier rule's is left out. Returns the
    /// rule count and the union of the rules' bits.
    func encodeTierSection(
        _ ruleIDs: [UInt32], masks: TierPeerMasks, bodies: [[UInt32]], contentIDs: [UInt32], into code: inout [UInt32]
    ) -> (count: UInt32, mask: UInt64) {
        // Short sections scan a list; long ones (many admin policies) use a set.
        var included: [UInt32] = []
        var includedSet = Set<UInt32>()
        let useSet = ruleIDs.count > 32
        var count: UInt32 = 0
        var sectionMask: UInt64 = 0
        for ruleID in ruleIDs {
            let content = contentIDs[Int(ruleID)]
            if useSet {
                guard includedSet.insert(content).inserted else { continue }
            } else {
                guard !included.contains(content) else { continue }
                included.append(content)
            }
            let body = bodies[Int(ruleID)]
            let portCount = body[0] & 0xFFFF
            let bit = masks.ruleBits[Int(ruleID)]
            let keepsPeers = bit == TierPeerMasks.overflowBit
            code.append(ruleID | ruleActions[Int(ruleID)] << VerdictTables.actionShift)
            code.append(keepsPeers ? body[0] : portCount)
            code.append(bit)
            code += body[1..<(1 + Int(portCount) * 2)]
            if keepsPeers { code += body[(1 + Int(portCount) * 2)...] }
            sectionMask |= 1 &<< UInt64(bit)
            count += 1
        }
        return (count, sectionMask)
    }
}
