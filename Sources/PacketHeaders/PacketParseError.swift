import NetworkTypes

/// Why a queued packet could not be reduced to a ``NetworkTypes/FlowKey``.
///
/// Every case is a property of the bytes the kernel delivered, never of the parser's state; the caller turns any of
/// them into the configured failure verdict.
public enum PacketParseError: Error, Hashable, Sendable {
    /// The buffer held no bytes at all.
    case emptyPacket
    /// The version nibble (RFC 791 section 3.1, RFC 8200 section 3) was neither 4 nor 6.
    case unsupportedVersion(UInt8)
    /// Fewer bytes than the IPv4 header (20 bytes, or IHL × 4 with options) were present.
    case truncatedIPv4Header
    /// The IPv4 Internet Header Length was below its minimum of 5 words (RFC 791 section 3.1).
    case badIPv4HeaderLength(UInt8)
    /// The IPv4 Total Length was smaller than the header it must contain (RFC 791 section 3.1).
    case badIPv4TotalLength(UInt16)
    /// Fewer than the 40 bytes of the fixed IPv6 header were present (RFC 8200 section 3).
    case truncatedIPv6Header
    /// An IPv6 extension header (RFC 8200 section 4; AH, RFC 4302) was cut before its length fields.
    case truncatedExtensionHeader(IPProtocol)
    /// The IPv6 header chain was longer than ``PacketParser/maximumExtensionHeaders``.
    case tooManyExtensionHeaders
    /// A fragment other than the first (offset ≠ 0): it carries no transport header (RFC 791, RFC 8200 section 4.5).
    case nonFirstFragment
    /// The transport header ended before the ports (TCP, UDP, SCTP) or the type (ICMP, ICMPv6).
    case truncatedTransportHeader(IPProtocol)
}

extension PacketParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptyPacket: return "empty packet"
        case .unsupportedVersion(let v): return "IP version \(v) is neither 4 nor 6"
        case .truncatedIPv4Header: return "truncated IPv4 header"
        case .badIPv4HeaderLength(let ihl): return "IPv4 header length \(ihl) words is below 5"
        case .badIPv4TotalLength(let total): return "IPv4 total length \(total) is shorter than its header"
        case .truncatedIPv6Header: return "truncated IPv6 header"
        case .truncatedExtensionHeader(let p): return "truncated IPv6 extension header (next header \(p.rawValue))"
        case .tooManyExtensionHeaders:
            return "more than \(PacketParser.maximumExtensionHeaders) IPv6 extension headers"
        case .nonFirstFragment: return "non-first fragment carries no transport header"
        case .truncatedTransportHeader(let p): return "truncated \(p) header"
        }
    }
}
