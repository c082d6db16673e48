import NetworkTypes
import Testing

/// `IPPrefix.subtracting(_:)`: prefix sets with holes, as the kernel rules need for peer addresses minus local ones.
struct IPPrefixSubtractionTests {
    static func prefixes(_ texts: [String]) -> [IPPrefix] { texts.compactMap { IPPrefix($0) } }

    @Test(arguments: [
        ("10.0.0.0/30", ["10.0.0.1/32"], ["10.0.0.0/32", "10.0.0.2/31"]),
        ("10.0.0.0/24", ["10.0.0.0/24"], []),
        ("10.0.0.0/24", ["10.0.0.0/8"], []),
        ("10.0.0.0/24", ["10.1.0.0/16"], ["10.0.0.0/24"]),
        ("10.0.0.0/24", [], ["10.0.0.0/24"]),
        ("10.0.0.0/24", ["fd00::/8"], ["10.0.0.0/24"]),
        ("10.0.0.0/29", ["10.0.0.0/32", "10.0.0.7/32"], ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]),
        ("10.0.0.5/32", ["10.0.0.5/32"], []),
        ("fd00::/126", ["fd00::2/128"], ["fd00::/127", "fd00::3/128"]),
        ("0.0.0.0/0", ["128.0.0.0/1"], ["0.0.0.0/1"]),
    ])
    func subtractionLeavesExactlyTheRest(whole: String, excluded: [String], expected: [String]) throws {
        let prefix = try #require(IPPrefix(whole))
        #expect(Self.prefixes(excluded).count == excluded.count)
        #expect(prefix.subtracting(Self.prefixes(excluded)) == Self.prefixes(expected))
    }

    /// Every address of a small prefix is in the result exactly once when it is in no excluded prefix, else never.
    @Test func subtractionAgreesWithAddressByAddressCheck() throws {
        let whole = try #require(IPPrefix("192.168.7.0/26"))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let excluded = (0..<Int.random(in: 0...4, using: &generator)).compactMap { _ in
                IPPrefix(
                    address: .v4(IPv4Address(rawValue: 0xC0A8_0700 | UInt32.random(in: 0..<128, using: &generator))),
                    length: Int.random(in: 24...32, using: &generator))
            }
            let rest = whole.subtracting(excluded)
            for offset in 0..<UInt32(64) {
                let address = IPAddress.v4(IPv4Address(rawValue: 0xC0A8_0700 + offset))
                let inRest = rest.filter { $0.contains(address) }.count
                let isExcluded = excluded.contains { $0.contains(address) }
                #expect(inRest == (isExcluded ? 0 : 1), "\(address) minus \(excluded): \(rest)")
            }
        }
    }
}
