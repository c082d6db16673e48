/// A set of Kubernetes labels: keys and values, sorted by key, with a hash computed once.
///
/// Pods are grouped by their labels when a snapshot is compiled, so the hash is computed when the object is
/// decoded, not again for every compile.
public struct Labels: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// The labels sorted by key; keys are unique.
    public let pairs: [(key: String, value: String)]
    private let cachedHash: Int

    public init(_ dictionary: [String: String] = [:]) {
        pairs = dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        var hasher = Hasher()
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
        cachedHash = hasher.finalize()
    }

    public subscript(key: String) -> String? {
        // Binary search over the sorted keys.
        var low = 0
        var high = pairs.count
        while low < high {
            let mid = (low + high) / 2
            if pairs[mid].key < key { low = mid + 1 } else { high = mid }
        }
        return low < pairs.count && pairs[low].key == key ? pairs[low].value : nil
    }

    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) })
    }

    /// A copy with `key` set to `value`.
    public func setting(_ key: String, to value: String) -> Labels {
        var d = dictionary
        d[key] = value
        return Labels(d)
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }

    public func hash(into hasher: inout Hasher) { hasher.combine(cachedHash) }

    public static func == (lhs: Labels, rhs: Labels) -> Bool {
        guard lhs.cachedHash == rhs.cachedHash, lhs.pairs.count == rhs.pairs.count else { return false }
        for (l, r) in zip(lhs.pairs, rhs.pairs) where l.key != r.key || l.value != r.value { return false }
        return true
    }

    public var description: String {
        pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
