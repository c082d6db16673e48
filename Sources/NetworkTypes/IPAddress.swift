/// The two Internet address families.
@frozen
public enum AddressFamily: UInt8, Hashable, Sendable, CustomStringConvertible {
    case ipv4 = 4
    case ipv6 = 6

    /// The number of bits in an address of this family.
    @inlinable
    public var bitWidth: Int { self == .ipv4 ? 32 : 128 }

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

/// An IPv4 or IPv6 address.
@frozen
public enum IPAddress: Hashable, Comparable, Sendable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family's text form.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    @inlinable
    public var family: AddressFamily {
        switch self {
        case .v4: return .ipv4
        case .v6: return .ipv6
        }
    }

    /// The address as a number of its family's width, widened to 128 bits (IPv4 in the low 32 bits).
    @inlinable
    public var bits: UInt128 {
        switch self {
        case .v4(let a): return UInt128(a.rawValue)
        case .v6(let a): return a.rawValue
        }
    }

    /// Builds an address of `family` from `bits` (IPv4 from the low 32 bits).
    @inlinable
    public init(family: AddressFamily, bits: UInt128) {
        switch family {
        case .ipv4: self = .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: bits)))
        case .ipv6: self = .v6(IPv6Address(rawValue: bits))
        }
    }

    @inlinable
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .ipv4 }
        return lhs.bits < rhs.bits
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }
}
