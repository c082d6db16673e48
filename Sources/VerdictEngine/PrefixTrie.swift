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
        var node = 0
        var shift = Key.bitWidth - 8
        while true {
            let slot = Int(truncatingIfNeeded: key >> shift) & 0xFF
            let word = slot >> 6
            let bit = UInt64(slot & 63)
            let words = node &* 8
            let childWord = bitmaps[words &+ word]
            if childWord & (1 << bit) != 0 {
                let below = childWord & ((1 << bit) &- 1)
                node = Int(bases[words &+ word]) &+ below.nonzeroBitCount
                shift &-= 8
                continue
            }
            let leafWord = bitmaps[words &+ 4 &+ word] & (~UInt64(0) >> (63 &- bit))
            return values[Int(bases[words &+ 4 &+ word]) &+ leafWord.nonzeroBitCount &- 1]
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
    /// An uncompressed node: 256 slots, each with the value of the longest prefix ending in it, that prefix's
    /// length (-1 when none), and a child index (-1 when none).
    private struct Node {
        var values: [UInt32]
        var lengths: [Int16]
        var children: [Int32]

        init(value: UInt32) {
            values = Array(repeating: value, count: 256)
            lengths = Array(repeating: -1, count: 256)
            children = Array(repeating: -1, count: 256)
        }
    }

    private let width: Int
    private let defaultValue: UInt32
    private var nodes: [Node]

    /// A builder for keys of `width` bits (32 or 128); addresses that match no prefix get `defaultValue`.
    init(width: Int, defaultValue: UInt32) {
        precondition(width == 32 || width == 128)
        self.width = width
        self.defaultValue = defaultValue
        nodes = [Node(value: defaultValue)]
    }

    /// Adds a prefix. `bits` holds the address in its low `width` bits. Of two insertions of the same prefix,
    /// the later wins.
    mutating func insert(bits: UInt128, length: Int, value: UInt32) {
        precondition(length >= 0 && length <= width)
        var node = 0
        var depth = 0  // bits consumed above this node
        // Descend while the prefix is longer than this node's 8 bits.
        while length > depth + 8 {
            let slot = Int(truncatingIfNeeded: bits >> (width - depth - 8)) & 0xFF
            var child = nodes[node].children[slot]
            if child < 0 {
                child = Int32(nodes.count)
                nodes.append(Node(value: defaultValue))
                nodes[node].children[slot] = child
            }
            node = Int(child)
            depth += 8
        }
        // The prefix covers 2^(depth + 8 - length) consecutive slots of this node.
        let first = length == depth ? 0 : Int(truncatingIfNeeded: bits >> (width - depth - 8)) & 0xFF
        let span = 1 << (depth + 8 - length)
        let start = first & ~(span - 1)
        for slot in start..<(start + span) where nodes[node].lengths[slot] <= Int16(length) {
            nodes[node].values[slot] = value
            nodes[node].lengths[slot] = Int16(length)
        }
    }

    /// Compresses the nodes, pushing each slot's value down into its child's unset slots.
    func build() -> PrefixTrie {
        var pushed = nodes
        // Parents are created before their children, so one pass in index order pushes values all the way down.
        for index in pushed.indices {
            for slot in 0..<256 {
                let child = Int(pushed[index].children[slot])
                guard child >= 0 else { continue }
                let inherited = pushed[index].values[slot]
                for childSlot in 0..<256 where pushed[child].lengths[childSlot] < 0 {
                    pushed[child].values[childSlot] = inherited
                }
            }
        }
        // Lay nodes out breadth-first so that each node's children are contiguous.
        var order: [Int] = [0]
        var newIndex = [Int](repeating: -1, count: pushed.count)
        newIndex[0] = 0
        var bitmaps: [UInt64] = []
        var bases: [UInt32] = []
        var values: [UInt32] = []
        bitmaps.reserveCapacity(pushed.count * 8)
        bases.reserveCapacity(pushed.count * 8)
        var cursor = 0
        while cursor < order.count {
            let node = pushed[order[cursor]]
            cursor += 1
            var childWords = [UInt64](repeating: 0, count: 4)
            var leafWords = [UInt64](repeating: 0, count: 4)
            var childBases = [UInt32](repeating: 0, count: 4)
            var leafBases = [UInt32](repeating: 0, count: 4)
            var previous: UInt32? = nil
            for slot in 0..<256 {
                let word = slot >> 6
                if slot & 63 == 0 {
                    childBases[word] = UInt32(order.count)
                    leafBases[word] = UInt32(values.count)
                }
                let child = Int(node.children[slot])
                if child >= 0 {
                    childWords[word] |= 1 << UInt64(slot & 63)
                    newIndex[child] = order.count
                    order.append(child)
                    continue
                }
                // A new run of values starts here. Child slots do not break runs.
                if previous != node.values[slot] {
                    leafWords[word] |= 1 << UInt64(slot & 63)
                    values.append(node.values[slot])
                    previous = node.values[slot]
                }
            }
            // A leaf slot whose word has no run start at or before it belongs to a run begun in an earlier
            // word: the inclusive count is then zero and the lookup lands on `leafBases[word] - 1`, that run.
            bitmaps += childWords
            bitmaps += leafWords
            bases += childBases
            bases += leafBases
        }
        return PrefixTrie(bitmaps: FixedArray(bitmaps), bases: FixedArray(bases), values: FixedArray(values))
    }
}
