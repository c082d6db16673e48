@testable import VerdictEngine

/// One `insert` call.
struct PrefixTrieInsert: Sendable, CustomStringConvertible {
    var bits: UInt128
    var length: Int
    var value: UInt32
    var keepExisting = false

    var description: String {
        "\(String(bits, radix: 16))/\(length)=\(value)\(keepExisting ? " keep" : "")"
    }
}

/// Builds a trie and the linear model from the same inserts and compares them.
struct PrefixTrieComparison {
    let width: Int
    let defaultValue: UInt32
    var model: PrefixTrieLinearModel
    var builder: PrefixTrieBuilder
    /// The values `insert` returned: from the trie, and from the model (the contract).
    var returned: [UInt32?] = []
    var expectedReturned: [UInt32?] = []
    var inserts: [PrefixTrieInsert] = []

    init(width: Int, defaultValue: UInt32) {
        self.width = width
        self.defaultValue = defaultValue
        model = PrefixTrieLinearModel(width: width, defaultValue: defaultValue)
        builder = PrefixTrieBuilder(width: width, defaultValue: defaultValue)
    }

    mutating func insert(_ insert: PrefixTrieInsert) {
        inserts.append(insert)
        returned.append(
            builder.insert(bits: insert.bits, length: insert.length, value: insert.value, keepExisting: insert.keepExisting))
        expectedReturned.append(
            model.insert(bits: insert.bits, length: insert.length, value: insert.value, keepExisting: insert.keepExisting))
    }

    /// The keys worth asking: the ends of every prefix and their neighbours, zero, all ones, and `extra`.
    func boundaryKeys(extra: [UInt128] = []) -> [UInt128] {
        var keys: [UInt128] = [0, model.all] + extra
        for entry in model.entries {
            let (first, last) = model.range(bits: entry.bits, length: entry.length)
            keys += [first, last, (first &- 1) & model.all, (last &+ 1) & model.all]
        }
        return keys
    }

    /// Builds the trie, looks up every key in both, and describes the first disagreements (empty when none).
    func mismatches(keys: [UInt128]) -> [String] {
        let trie = builder.build()
        defer { trie.deallocate() }
        var result: [String] = []
        var count = 0
        for key in keys {
            let actual = width == 32 ? trie.lookup(UInt32(truncatingIfNeeded: key)) : trie.lookup(key)
            let expected = model.lookup(key)
            guard actual != expected else { continue }
            count += 1
            if result.count < 5 { result.append("key \(String(key, radix: 16)): trie \(actual), expected \(expected)") }
        }
        if count > result.count { result.append("\(count - result.count) more") }
        return result
    }
}
