/// An address prefix in CIDR notation (`10.0.0.0/8`, `fd00::/64`). The address is always masked to the length.
@frozen
public struct IPPrefix: Hashable, Comparable, Sendable {
    /// The first address of the prefix; host bits are zero.
    public let address: IPAddress
    /// The prefix length in bits, 0...32 for IPv4 and 0...128 for IPv6.
    public let length: Int

    /// Creates a prefix, clearing the host bits of `address`. Returns nil when `length` is out of range.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.family.bitWidth else { return nil }
        self.address = IPAddress(
            family: address.family,
            bits: address.bits & IPPrefix.mask(length: length, family: address.family)
        )
        self.length = length
    }

    /// The prefix holding exactly one address.
    public init(host: IPAddress) {
        address = host
        length = host.family.bitWidth
    }

    /// Parses `address/length`. Host bits set in the address are cleared, as the Kubernetes API server does.
    /// A bare address is not a prefix.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]),
            !parts[1].isEmpty, parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let length = Int(parts[1])
        else { return nil }
        self.init(address: address, length: length)
    }

    /// Whether the text named host bits that the prefix length clears (`10.0.0.1/8`).
    public static func hasHostBits(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPAddress(parts[0]), let prefix = IPPrefix(text) else { return false }
        return prefix.address != address
    }

    public var family: AddressFamily { address.family }

    /// The network mask of `length` bits for `family`, as a 128-bit number of the family's width.
    @inlinable
    public static func mask(length: Int, family: AddressFamily) -> UInt128 {
        let width = family.bitWidth
        if length == 0 { return 0 }
        let all: UInt128 = width == 128 ? ~0 : (UInt128(1) << width) - 1
        return all & ~((UInt128(1) << (width - length)) - 1) & all
    }

    /// Whether `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.family == family
            && other.bits & IPPrefix.mask(length: length, family: family) == address.bits
    }

    /// Whether every address of `other` lies inside this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.length >= length && contains(other.address)
    }

    /// Whether the two prefixes share any address.
    public func overlaps(_ other: IPPrefix) -> Bool {
        contains(other) || other.contains(self)
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        if lhs.address != rhs.address { return lhs.address < rhs.address }
        return lhs.length < rhs.length
    }
}

extension IPPrefix: CustomStringConvertible {
    public var description: String { "\(address)/\(length)" }
}

extension IPPrefix {
    /// The two prefixes one bit longer that together make up this one; nil for a single address.
    public var halves: (low: IPPrefix, high: IPPrefix)? {
        guard length < family.bitWidth,
            let low = IPPrefix(address: address, length: length + 1),
            let high = IPPrefix(
                address: IPAddress(family: family, bits: address.bits | (UInt128(1) << (family.bitWidth - length - 1))),
                length: length + 1)
        else { return nil }
        return (low, high)
    }

    /// The smallest set of prefixes that covers this prefix's addresses except those in `excluded` (prefixes of
    /// the other family are ignored), in ascending order. `10.0.0.0/30` minus `10.0.0.1/32` is `10.0.0.0/32` and
    /// `10.0.0.2/31`.
    public func subtracting(_ excluded: [IPPrefix]) -> [IPPrefix] {
        let relevant = excluded.filter { $0.family == family && $0.overlaps(self) }
        if relevant.contains(where: { $0.contains(self) }) { return [] }
        guard !relevant.isEmpty, let (low, high) = halves else { return [self] }
        // Each step halves the prefix on the side of an excluded prefix: at most bit-width steps per exclusion.
        return low.subtracting(relevant) + high.subtracting(relevant)
    }
}
