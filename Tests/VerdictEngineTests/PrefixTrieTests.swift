import TollgateBench
import Testing
@testable import VerdictEngine

// `PrefixTrie` against `PrefixTrieLinearModel` (a linear longest-prefix matcher): random prefix sets of both widths
// (every length, clustered and spread out, duplicates, default and host routes) asked about random keys and about
// the first and last key of every prefix and their neighbours; then hand-written cases at the trie's node
// boundaries (8-bit strides).

@Suite("PrefixTrie against a linear longest-prefix matcher")
struct PrefixTrieTests {
    /// A random prefix set: lengths 0...width, often on or next to a stride boundary; half clustered around a few
    /// anchors, half spread out; default and host routes; duplicates with new values.
    static func randomInserts(seed: UInt64, width: Int, keepExisting: Bool) -> [PrefixTrieInsert] {
        var random = SeededGenerator(seed: seed)
        let all: UInt128 = width == 128 ? ~0 : (UInt128(1) << width) - 1
        func randomBits() -> UInt128 { (UInt128(random.next()) << 64 | UInt128(random.next())) & all }
        let anchors = (0..<3).map { _ in randomBits() }
        // Small value ranges make neighbouring slots share values (runs); large ones make them differ.
        let valueLimit: UInt32 = Bool.random(using: &random) ? 4 : .max
        var result: [PrefixTrieInsert] = []
        for _ in 0..<Int.random(in: 0...80, using: &random) {
            let roll = Int.random(in: 0..<100, using: &random)
            if roll < 10, let earlier = result.randomElement(using: &random) {
                var again = earlier
                again.value = UInt32.random(in: 0...valueLimit, using: &random)
                again.keepExisting = keepExisting && Bool.random(using: &random)
                result.append(again)
                continue
            }
            let length: Int
            if roll < 15 {
                length = 0
            } else if roll < 25 {
                length = width
            } else if roll < 55 {
                let boundary = 8 * Int.random(in: 0...(width / 8), using: &random)
                length = min(width, max(0, boundary + Int.random(in: -1...1, using: &random)))
            } else {
                length = Int.random(in: 0...width, using: &random)
            }
            var bits = randomBits()
            if Bool.random(using: &random), let anchor = anchors.randomElement(using: &random) {
                // Near an anchor: flip a few bits below a random depth.
                let depth = Int.random(in: 0...width, using: &random)
                let low = depth == width ? 0 : (all >> depth)
                bits = anchor ^ (randomBits() & low & (Bool.random(using: &random) ? 0xFF : all))
            }
            // The compiler always passes masked prefixes.
            let mask = length == 0 ? 0 : all & ~((UInt128(1) << (width - length)) - 1)
            result.append(
                PrefixTrieInsert(
                    bits: bits & mask, length: length, value: UInt32.random(in: 0...valueLimit, using: &random),
                    keepExisting: keepExisting && Bool.random(using: &random)))
        }
        return result
    }

    static func randomKeys(seed: UInt64, width: Int, count: Int) -> [UInt128] {
        var random = SeededGenerator(seed: seed ^ 0x5EED)
        let all: UInt128 = width == 128 ? ~0 : (UInt128(1) << width) - 1
        return (0..<count).map { _ in (UInt128(random.next()) << 64 | UInt128(random.next())) & all }
    }

    @Test("Random prefix sets: every lookup matches the linear matcher", arguments: [32, 128])
    func randomPrefixSets(width: Int) {
        var failures = 0
        for seed in UInt64(1)...Self.seedCount {
            var comparison = PrefixTrieComparison(width: width, defaultValue: UInt32(truncatingIfNeeded: seed) | 0x8000_0000)
            for insert in Self.randomInserts(seed: seed, width: width, keepExisting: false) { comparison.insert(insert) }
            let keys = comparison.boundaryKeys(extra: Self.randomKeys(seed: seed, width: width, count: 100))
            let mismatches = comparison.mismatches(keys: keys)
            if !mismatches.isEmpty {
                failures += 1
                if failures <= 3 {
                    Issue.record("width \(width) seed \(seed): \(mismatches); inserts \(comparison.inserts)")
                }
            }
        }
        #expect(failures == 0)
    }

    /// `insert` returns the earlier value of the same prefix and, with `keepExisting`, keeps it — also when a
    /// longer prefix already covers the first slot of the prefix's span (see
    /// `PrefixTrieCaseTests.keepExistingFindsAnEqualPrefixUnderALongerOne` for the minimal case).
    @Test("Random prefix sets with keepExisting: returned and kept values match the contract", arguments: [32, 128])
    func randomPrefixSetsKeepingExisting(width: Int) {
        var failures = 0
        var firstFailure: String? = nil
        for seed in UInt64(1)...Self.seedCount {
            var comparison = PrefixTrieComparison(width: width, defaultValue: 0)
            for insert in Self.randomInserts(seed: seed, width: width, keepExisting: true) { comparison.insert(insert) }
            var mismatches = comparison.mismatches(keys: comparison.boundaryKeys())
            if comparison.returned != comparison.expectedReturned {
                mismatches.append("insert returned \(comparison.returned), expected \(comparison.expectedReturned)")
            }
            if !mismatches.isEmpty {
                failures += 1
                if firstFailure == nil { firstFailure = "width \(width) seed \(seed): \(mismatches); inserts \(comparison.inserts)" }
            }
        }
        do {
            #expect(failures == 0, "\(failures) of \(Self.seedCount) seeds disagree; first: \(firstFailure ?? "")")
        }
    }

    /// Host routes inserted with `keepExisting`, as the compiler inserts pod addresses over block prefixes: the
    /// first value stays and is returned, whatever lies around them.
    @Test("Random host routes with keepExisting over other prefixes match the contract", arguments: [32, 128])
    func randomHostRoutesKeepingExisting(width: Int) {
        var failures = 0
        for seed in UInt64(1)...Self.seedCount {
            var comparison = PrefixTrieComparison(width: width, defaultValue: 0)
            var hosts: [PrefixTrieInsert] = []
            for insert in Self.randomInserts(seed: seed, width: width, keepExisting: false) {
                comparison.insert(insert)
                if insert.length == width { hosts.append(insert) }
            }
            // Every host route again, kept, then some new host routes twice.
            for var host in hosts {
                host.value &+= 1
                host.keepExisting = true
                comparison.insert(host)
            }
            for key in Self.randomKeys(seed: seed, width: width, count: 4) {
                comparison.insert(PrefixTrieInsert(bits: key, length: width, value: 77, keepExisting: true))
                comparison.insert(PrefixTrieInsert(bits: key, length: width, value: 78, keepExisting: true))
            }
            var mismatches = comparison.mismatches(keys: comparison.boundaryKeys())
            // Only host routes' returned values: this test is about host routes.
            let hostIndices = comparison.inserts.indices.filter { comparison.inserts[$0].length == width }
            let returned = hostIndices.map { comparison.returned[$0] }
            let expectedReturned = hostIndices.map { comparison.expectedReturned[$0] }
            if returned != expectedReturned {
                mismatches.append("host inserts returned \(returned), expected \(expectedReturned)")
            }
            if !mismatches.isEmpty {
                failures += 1
                if failures <= 3 { Issue.record("width \(width) seed \(seed): \(mismatches); inserts \(comparison.inserts)") }
            }
        }
        #expect(failures == 0)
    }

    static let seedCount: UInt64 = 120
}
