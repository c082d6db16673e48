/// The obviously right longest-prefix matcher that `PrefixTrie` is compared with: a list of prefixes, scanned in
/// full for every lookup.
struct PrefixTrieLinearModel {
    struct Entry: Equatable {
        var bits: UInt128
        var length: Int
        var value: UInt32
        var mask: UInt128
    }

    let width: Int
    let defaultValue: UInt32
    private(set) var entries: [Entry] = []

    init(width: Int, defaultValue: UInt32) {
        self.width = width
        self.defaultValue = defaultValue
    }

    /// All ones in the low `width` bits.
    var all: UInt128 { width == 128 ? ~0 : (UInt128(1) << width) - 1 }

    /// The mask of a prefix of `length` bits, in the low `width` bits.
    func mask(_ length: Int) -> UInt128 {
        length == 0 ? 0 : all & ~((UInt128(1) << (width - length)) - 1)
    }

    /// The first and last key of a prefix.
    func range(bits: UInt128, length: Int) -> (first: UInt128, last: UInt128) {
        let first = bits & mask(length)
        return (first, first | (all & ~mask(length)))
    }

    /// The contract of `PrefixTrieBuilder.insert`: a prefix seen before keeps its value under `keepExisting` and
    /// takes the new one otherwise; the earlier value (or nil) is returned.
    mutating func insert(bits: UInt128, length: Int, value: UInt32, keepExisting: Bool) -> UInt32? {
        let masked = bits & mask(length)
        if let index = entries.firstIndex(where: { $0.bits == masked && $0.length == length }) {
            let earlier = entries[index].value
            if !keepExisting { entries[index].value = value }
            return earlier
        }
        entries.append(Entry(bits: masked, length: length, value: value, mask: mask(length)))
        return nil
    }

    /// The value of the longest prefix containing `key`, or the default.
    func lookup(_ key: UInt128) -> UInt32 {
        var best: Entry? = nil
        for entry in entries where key & entry.mask == entry.bits {
            if best == nil || entry.length > best!.length { best = entry }
        }
        return best?.value ?? defaultValue
    }
}
