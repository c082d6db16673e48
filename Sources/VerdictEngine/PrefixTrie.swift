import NetworkTypes

/// A longest-prefix-match table from addresses to 32-bit values: a multibit trie with 8-bit strides whose nodes
/// are compressed with bitmaps and popcounts (the technique of Poptrie, Asai and Ohara, SIGCOMM 2015).
///
/// Every node covers 256 slots. A slot either leads to a child node or holds a value; values are pushed down
/// from shorter prefixes at build time ("leaf pushing"), so a lookup never backtracks: it walks at most 4 nodes
/// for IPv4 and 16 for IPv6, and each step is a bit test, a popcount and an add.
///
/// Node layout in `bitmaps` (8 words per node): words 0–3 mark the slots with children, words 4–7 mark the
/// slots where a run of equal values starts. `bases` (8 per node) hold, per word, the index of the first child
/// (words 0–3, counting set bits of earlier words) or the first value (words 4–7) covered by that word.
@usableFromInline
struct PrefixTrie: Sendable {
    @usableFromInline let bitmaps: FixedArray<UInt64>
    @usableFromInline let bases: FixedArray<UInt32>
    @usableFromInline let values: FixedArray<UInt32>

    /// Looks up a key held in the top `width` bits of `key`'s natural width (IPv4: a `UInt32`, IPv6: `UInt128`).
    @inlinable @inline(__always)
    func lookup<Key: FixedWidthInteger & UnsignedInteger>(_ key: Key) -> UInt32 {
        values[leafIndex(key)]
    }

    /// The index in `values` of the run that holds `key`'s value: tables kept per leaf (`VerdictTables`) are
    /// read with it directly, without a second indirection through the value.
    @inlinable @inline(__always)
    func leafIndex<Key: FixedWidthInteger & UnsignedInteger>(_ key: Key) -> Int {
        var node = 0
        var shift = Key.bitWidth &- 8
        // Masking shifts (`&>>`, `&<<`): every amount is in range, and the checked forms cost a compare and a
        // branch per step on the verdict path.
        while true {
            let slot = Int(truncatingIfNeeded: key &>> shift) & 0xFF
            let word = slot &>> 6
            let bit = UInt64(slot & 63)
            let words = node &* 8
            let childWord = bitmaps[words &+ word]
            if childWord & (1 &<< bit) != 0 {
                let below = childWord & ((1 &<< bit) &- 1)
                node = Int(bases[words &+ word]) &+ below.nonzeroBitCount
                shift &-= 8
                continue
            }
            let leafWord = bitmaps[words &+ 4 &+ word] & (~UInt64(0) &>> (63 &- bit))
            return Int(bases[words &+ 4 &+ word]) &+ leafWord.nonzeroBitCount &- 1
        }
    }

    var byteCount: Int { bitmaps.byteCount + bases.byteCount + values.byteCount }
    var nodeCount: Int { bitmaps.count / 8 }

    func deallocate() {
        bitmaps.deallocate()
        bases.deallocate()
        values.deallocate()
    }
}

/// Builds a `PrefixTrie` from prefixes of one address family.
struct PrefixTrieBuilder {
    // Uncompressed nodes of 256 slots, flattened: slot s of node n is at n * 256 + s. Each slot holds the value
    // of the longest prefix ending in it, that prefix's length (-1 when none), and a child node (-1 when none).
    private var values: [UInt32]
    private var lengths: [Int16]
    private var children: [Int32]
    private let width: Int
    private let defaultValue: UInt32
    /// The values of the prefixes shorter than a host route, by prefix: a slot's stored length cannot tell
    /// whether the same prefix was inserted before once a longer prefix covers that slot. Host routes need no
    /// such table (nothing is longer), and they are nearly all of the entries.
    private var shortPrefixes: [PrefixKey: UInt32] = [:]

    private struct PrefixKey: Hashable {
        var bits: UInt128
        var length: Int
    }

    /// A builder for keys of `width` bits (32 or 128); addresses that match no prefix get `defaultValue`.
    init(width: Int, defaultValue: UInt32) {
        precondition(width == 32 || width == 128)
        self.width = width
        self.defaultValue = defaultValue
        values = Array(repeating: defaultValue, count: 256)
        lengths = Array(repeating: -1, count: 256)
        children = Array(repeating: -1, count: 256)
    }

    private var nodeCount: Int { children.count / 256 }

    /// Adds a prefix. `bits` holds the address in its low `width` bits. When the same prefix was added before,
    /// the later value wins, unless `keepExisting` is set; either way the earlier value is returned.
    @discardableResult
    mutating func insert(bits: UInt128, length: Int, value: UInt32, keepExisting: Bool = false) -> UInt32? {
        precondition(length >= 0 && length <= width)
        var node = 0
        var depth = 0  // bits consumed above this node
        // Descend while the prefix is longer than this node's 8 bits.
        while length > depth + 8 {
            let slot = node * 256 + Int(truncatingIfNeeded: bits >> (width - depth - 8)) & 0xFF
            var child = children[slot]
            if child < 0 {
                child = Int32(nodeCount)
                children[slot] = child
                values += repeatElement(defaultValue, count: 256)
                lengths += repeatElement(-1, count: 256)
                children += repeatElement(-1, count: 256)
            }
            node = Int(child)
            depth += 8
        }
        // The prefix covers 2^(depth + 8 - length) consecutive slots of this node.
        let first = length == depth ? 0 : Int(truncatingIfNeeded: bits >> (width - depth - 8)) & 0xFF
        let span = 1 << (depth + 8 - length)
        let start = node * 256 + (first & ~(span - 1))
        let existing: UInt32?
        if length == width {
            existing = lengths[start] == Int16(length) ? values[start] : nil
        } else {
            let key = PrefixKey(bits: bits & IPPrefix.mask(length: length, family: width == 32 ? .ipv4 : .ipv6), length: length)
            existing = shortPrefixes[key]
            if existing == nil || !keepExisting { shortPrefixes[key] = value }
        }
        if existing != nil && keepExisting { return existing }
        for slot in start..<(start + span) where lengths[slot] <= Int16(length) {
            values[slot] = value
            lengths[slot] = Int16(length)
        }
        return existing
    }

    /// Compresses the nodes, pushing each slot's value down into its child's unset slots.
    func build() -> PrefixTrie {
        var values = self.values
        // Parents are created before their children, so one pass in index order pushes values all the way down.
        for slot in children.indices where children[slot] >= 0 {
            let inherited = values[slot]
            let base = Int(children[slot]) * 256
            for childSlot in base..<(base + 256) where lengths[childSlot] < 0 {
                values[childSlot] = inherited
            }
        }
        // Lay nodes out breadth-first so that each node's children are contiguous.
        var order: [Int] = [0]
        order.reserveCapacity(nodeCount)
        var bitmaps: [UInt64] = []
        var bases: [UInt32] = []
        var leaves: [UInt32] = []
        bitmaps.reserveCapacity(nodeCount * 8)
        bases.reserveCapacity(nodeCount * 8)
        var cursor = 0
        while cursor < order.count {
            let node = order[cursor]
            cursor += 1
            var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
            var wordBases: [UInt32] = [0, 0, 0, 0, 0, 0, 0, 0]
            var previous: UInt32? = nil
            withUnsafeMutableBytes(of: &words) { raw in
                let word = raw.bindMemory(to: UInt64.self)
                for slot in 0..<256 {
                    let index = slot >> 6
                    if slot & 63 == 0 {
                        wordBases[index] = UInt32(order.count)
                        wordBases[4 + index] = UInt32(leaves.count)
                    }
                    let child = Int(children[node * 256 + slot])
                    if child >= 0 {
                        word[index] |= 1 << UInt64(slot & 63)
                        order.append(child)
                        continue
                    }
                    // A new run of values starts here; child slots do not break runs. A leaf slot whose word
                    // has no run start at or before it belongs to a run begun in an earlier word: the inclusive
                    // count is then zero and the lookup lands on `leafBases[word] - 1`, that run.
                    let value = values[node * 256 + slot]
                    if previous != value {
                        word[4 + index] |= 1 << UInt64(slot & 63)
                        leaves.append(value)
                        previous = value
                    }
                }
                bitmaps.append(contentsOf: word)
            }
            bases += wordBases
        }
        return PrefixTrie(bitmaps: FixedArray(bitmaps), bases: FixedArray(bases), values: FixedArray(leaves))
    }
}
