import NetworkTypes
import Testing
@testable import VerdictEngine

/// A hand-written trie case: prefixes inserted in order, then the value every listed address must get.
struct PrefixTrieCase: Sendable, CustomTestStringConvertible {
    let name: String
    let width: Int
    /// `prefix=value`, with ` keep` for `keepExisting`.
    let inserts: [(prefix: String, value: UInt32, keep: Bool)]
    /// What each `insert` must return.
    let returns: [UInt32?]
    let lookups: [(address: String, value: UInt32)]

    var testDescription: String { name }

    init(
        _ name: String, width: Int = 32, _ inserts: [(String, UInt32)], keep: Set<Int> = [], returns: [UInt32?]? = nil,
        _ lookups: [(String, UInt32)]
    ) {
        self.name = name
        self.width = width
        self.inserts = inserts.enumerated().map { (prefix: $1.0, value: $1.1, keep: keep.contains($0)) }
        self.returns = returns ?? Array(repeating: nil, count: inserts.count)
        self.lookups = lookups.map { (address: $0.0, value: $0.1) }
    }
}

/// The default value of every hand-written trie.
private let none: UInt32 = 999

private let cases: [PrefixTrieCase] = [
    PrefixTrieCase(
        "empty trie", [],
        [("0.0.0.0", none), ("10.0.0.1", none), ("255.255.255.255", none)]),
    PrefixTrieCase(
        "empty IPv6 trie", width: 128, [],
        [("::", none), ("fd00::1", none), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", none)]),
    PrefixTrieCase(
        "only the default route", [("0.0.0.0/0", 1)],
        [("0.0.0.0", 1), ("10.0.0.1", 1), ("255.255.255.255", 1)]),
    PrefixTrieCase(
        "only the IPv6 default route", width: 128, [("::/0", 1)],
        [("::", 1), ("fd00::1", 1), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)]),
    PrefixTrieCase(
        "adjacent /25s", [("10.0.0.0/25", 1), ("10.0.0.128/25", 2)],
        [("9.255.255.255", none), ("10.0.0.0", 1), ("10.0.0.127", 1), ("10.0.0.128", 2), ("10.0.0.255", 2),
         ("10.0.1.0", none)]),
    PrefixTrieCase(
        "adjacent /8s with the same value", [("10.0.0.0/8", 1), ("11.0.0.0/8", 1)],
        [("9.255.255.255", none), ("10.0.0.0", 1), ("11.255.255.255", 1), ("12.0.0.0", none)]),
    PrefixTrieCase(
        "nested on node boundaries /8 /16 /24 /25",
        [("10.0.0.0/8", 8), ("10.1.0.0/16", 16), ("10.1.2.0/24", 24), ("10.1.2.128/25", 25)],
        [("10.0.0.0", 8), ("10.1.0.0", 16), ("10.1.1.255", 16), ("10.1.2.0", 24), ("10.1.2.127", 24),
         ("10.1.2.128", 25), ("10.1.2.255", 25), ("10.1.3.0", 16), ("10.2.0.0", 8), ("10.255.255.255", 8),
         ("11.0.0.0", none)]),
    PrefixTrieCase(
        "nested inserted longest first", [("10.1.2.128/25", 25), ("10.1.2.0/24", 24), ("10.1.0.0/16", 16), ("10.0.0.0/8", 8)],
        [("10.1.2.200", 25), ("10.1.2.1", 24), ("10.1.200.1", 16), ("10.200.0.1", 8), ("9.0.0.1", none)]),
    PrefixTrieCase(
        "lengths one off the boundaries /7 /9 /15 /17 /23 /31",
        [("10.0.0.0/7", 7), ("10.0.0.0/9", 9), ("10.0.0.0/15", 15), ("10.0.0.0/17", 17), ("10.0.0.0/23", 23),
         ("10.0.0.0/31", 31)],
        [("11.255.255.255", 7), ("10.128.0.0", 7), ("10.127.255.255", 9), ("10.2.0.0", 9), ("10.1.255.255", 15),
         ("10.0.128.0", 15), ("10.0.127.255", 17), ("10.0.2.0", 17), ("10.0.1.255", 23), ("10.0.0.2", 23),
         ("10.0.0.1", 31), ("10.0.0.0", 31), ("12.0.0.0", none)]),
    PrefixTrieCase(
        "host routes at both ends of the space", [("0.0.0.0/32", 1), ("255.255.255.255/32", 2), ("0.0.0.0/0", 3)],
        [("0.0.0.0", 1), ("0.0.0.1", 3), ("255.255.255.254", 3), ("255.255.255.255", 2)]),
    PrefixTrieCase(
        "IPv6 nested /8 /64 /120 /127 /128",
        width: 128, [("fd00::/8", 8), ("fd00::/64", 64), ("fd00::/120", 120), ("fd00::/127", 127), ("fd00::1/128", 128)],
        [("fd00::", 127), ("fd00::1", 128), ("fd00::2", 120), ("fd00::ff", 120), ("fd00::100", 64),
         ("fd00::ffff:ffff:ffff:ffff", 64), ("fd00:0:0:1::", 8), ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 8),
         ("fe00::", none), ("fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", none)]),
    PrefixTrieCase(
        "IPv6 lengths off the byte boundaries /63 /65 /121",
        width: 128, [("fd00::/63", 63), ("fd00::/65", 65), ("fd00::80/121", 121)],
        [("fd00:0:0:1::", 63), ("fd00::8000:0:0:0", 63), ("fd00::7fff:ffff:ffff:ffff", 65), ("fd00::80", 121),
         ("fd00::ff", 121), ("fd00::7f", 65), ("fd00::100", 65), ("fd00:0:0:2::", none)]),
    PrefixTrieCase(
        "the same prefix twice: the later wins and the first is returned",
        [("10.0.0.0/24", 1), ("10.0.0.0/24", 2)], returns: [nil, 1],
        [("10.0.0.1", 2), ("10.0.1.0", none)]),
    PrefixTrieCase(
        "the same prefix twice with keepExisting: the first stays and is returned",
        [("10.0.0.0/24", 1), ("10.0.0.0/24", 2)], keep: [1], returns: [nil, 1],
        [("10.0.0.1", 1), ("10.0.1.0", none)]),
    PrefixTrieCase(
        "a host route twice with keepExisting inside a block", [("10.0.0.0/8", 1), ("10.0.0.5/32", 2), ("10.0.0.5/32", 3)],
        keep: [1, 2], returns: [nil, nil, 2],
        [("10.0.0.5", 2), ("10.0.0.4", 1), ("10.0.0.6", 1)]),
    PrefixTrieCase(
        "an IPv6 host route twice with keepExisting", width: 128, [("fd00::5/128", 2), ("fd00::5/128", 3)], keep: [1],
        returns: [nil, 2], [("fd00::5", 2), ("fd00::4", none)]),
    PrefixTrieCase(
        "the default route twice", [("0.0.0.0/0", 1), ("0.0.0.0/0", 2)], returns: [nil, 1],
        [("1.2.3.4", 2)]),
]

@Suite("PrefixTrie hand-written cases")
struct PrefixTrieCaseTests {
    @Test("Hand-written case", arguments: cases)
    func handWrittenCase(_ trieCase: PrefixTrieCase) throws {
        var builder = PrefixTrieBuilder(width: trieCase.width, defaultValue: none)
        var returned: [UInt32?] = []
        for insert in trieCase.inserts {
            let prefix = try #require(IPPrefix(insert.prefix), "bad prefix \(insert.prefix)")
            try #require(prefix.family.bitWidth == trieCase.width, "\(insert.prefix) is not of width \(trieCase.width)")
            returned.append(
                builder.insert(bits: prefix.address.bits, length: prefix.length, value: insert.value, keepExisting: insert.keep))
        }
        let trie = builder.build()
        defer { trie.deallocate() }
        var actual: [String] = []
        var expected: [String] = []
        for lookup in trieCase.lookups {
            let address = try #require(IPAddress(lookup.address), "bad address \(lookup.address)")
            try #require(address.family.bitWidth == trieCase.width, "\(lookup.address) is not of width \(trieCase.width)")
            let value: UInt32
            switch address {
            case .v4(let a): value = trie.lookup(a.rawValue)
            case .v6(let a): value = trie.lookup(a.rawValue)
            }
            actual.append("\(lookup.address)=\(value)")
            expected.append("\(lookup.address)=\(lookup.value)")
        }
        #expect(actual == expected)
        #expect(returned == trieCase.returns)
    }

    /// 10.0.0.0/7 is inserted, then 10.0.0.0/8 (which covers the first slot of the /7's span in the root node),
    /// then 10.0.0.0/7 again: the insert returns 1, and with `keepExisting` 11.0.0.1 still maps to 1. (A builder
    /// that looked for the earlier prefix only in the span's first slot, whose length is then 8, got this wrong.)
    @Test("keepExisting finds an equal prefix under a longer one", arguments: [false, true])
    func keepExistingFindsAnEqualPrefixUnderALongerOne(keep: Bool) throws {
        var builder = PrefixTrieBuilder(width: 32, defaultValue: none)
        let wide = try #require(IPv4Address("10.0.0.0")).rawValue
        builder.insert(bits: UInt128(wide), length: 7, value: 1)
        builder.insert(bits: UInt128(wide), length: 8, value: 2)
        let returned = builder.insert(bits: UInt128(wide), length: 7, value: 3, keepExisting: keep)
        let trie = builder.build()
        defer { trie.deallocate() }
        let lookups = ["10.0.0.1", "11.0.0.1"].compactMap { IPv4Address($0) }.map { trie.lookup($0.rawValue) }
        do {
            #expect(returned == 1)
            #expect(lookups == [2, keep ? 1 : 3])
        }
        if !keep { #expect(lookups == [2, 3]) }
    }

    @Test("An empty trie is one node and answers the default everywhere")
    func emptyTrieIsOneNode() {
        let trie = PrefixTrieBuilder(width: 128, defaultValue: 5).build()
        defer { trie.deallocate() }
        #expect(trie.nodeCount == 1)
        #expect(trie.byteCount > 0)
        #expect([trie.lookup(UInt128(0)), trie.lookup(UInt128.max), trie.lookup(UInt128(1) << 127)] == [5, 5, 5])
    }
}
