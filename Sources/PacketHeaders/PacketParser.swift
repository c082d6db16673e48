import NetworkTypes

/// Reduces the first bytes of a queued packet to the ``NetworkTypes/FlowKey`` that policy decides on.
///
/// The input is what NFQUEUE delivers: the network header first (no link-layer header), possibly cut at the queue's
/// copy range. Only the fields a verdict needs are read: addresses, the transport protocol after any IPv6 extension
/// headers, the ports (the first four bytes of TCP, RFC 9293 section 3.1; UDP, RFC 768; SCTP, RFC 9260 section 3.1)
/// and the ICMP type (RFC 792; ICMPv6, RFC 4443 section 2.1). Payload past the transport ports is never needed.
///
/// Parsing allocates nothing, takes no locks and never reads outside `packet`; every short read becomes a
/// ``PacketParseError``.
public enum PacketParser {
    /// The longest IPv6 extension-header chain that is walked before giving up (RFC 8200 section 4.1 names six
    /// kinds; eight leaves room for repeated Destination Options and AH).
    public static let maximumExtensionHeaders = 8

    /// Parses an IPv4 or IPv6 packet, chosen by its version nibble, into a flow key.
    ///
    /// - Parameter packet: the packet bytes starting with the IP header; they may end anywhere.
    /// - Returns: the flow key; ports are zero for protocols without ports, and the ICMP type is zero otherwise.
    /// - Throws: ``PacketParseError`` when the bytes are too short, malformed, or a non-first fragment.
    @inlinable
    public static func parse(_ packet: UnsafeRawBufferPointer) throws(PacketParseError) -> FlowKey {
        let bytes = PacketBytes(packet)
        guard let first = bytes.u8(at: 0) else { throw .emptyPacket }
        switch first >> 4 {
        case 4: return try parseIPv4(bytes)
        case 6: return try parseIPv6(bytes)
        default: throw .unsupportedVersion(first >> 4)
        }
    }

    /// IPv4 (RFC 791 section 3.1): IHL, Total Length, fragment offset, protocol, addresses; options are skipped.
    @inlinable
    static func parseIPv4(_ input: PacketBytes) throws(PacketParseError) -> FlowKey {
        var bytes = input
        guard let versionAndIHL = bytes.u8(at: 0), let totalLength = bytes.u16(at: 2),
            let fragment = bytes.u16(at: 6), let proto = bytes.u8(at: 9),
            let source = bytes.u32(at: 12), let destination = bytes.u32(at: 16)
        else { throw .truncatedIPv4Header }
        let ihl = versionAndIHL & 0x0F
        guard ihl >= 5 else { throw .badIPv4HeaderLength(ihl) }
        let headerLength = Int(ihl) * 4
        guard headerLength <= bytes.end else { throw .truncatedIPv4Header }
        // A Total Length of zero is what GSO super-packets above 64 KiB carry (BIG TCP); trust the buffer then.
        if totalLength != 0 {
            guard Int(totalLength) >= headerLength else { throw .badIPv4TotalLength(totalLength) }
            bytes.limit(to: Int(totalLength))
        }
        // Fragment Offset is the low 13 bits; a non-zero offset means the transport header is elsewhere.
        guard fragment & 0x1FFF == 0 else { throw .nonFirstFragment }
        return try transportKey(
            bytes, at: headerLength, transport: IPProtocol(rawValue: proto),
            source: .v4(IPv4Address(rawValue: source)), destination: .v4(IPv4Address(rawValue: destination)))
    }

    /// IPv6 (RFC 8200 sections 3 and 4): the fixed header, then the extension-header chain up to the upper layer.
    @inlinable
    static func parseIPv6(_ input: PacketBytes) throws(PacketParseError) -> FlowKey {
        var bytes = input
        guard let payloadLength = bytes.u16(at: 4), let firstNext = bytes.u8(at: 6),
            let source = bytes.u128(at: 8), let destination = bytes.u128(at: 24)
        else { throw .truncatedIPv6Header }
        // Payload Length zero means a jumbogram (RFC 2675); otherwise bytes past it are link padding.
        if payloadLength != 0 { bytes.limit(to: 40 + Int(payloadLength)) }
        let sourceAddress = IPAddress.v6(IPv6Address(rawValue: source))
        let destinationAddress = IPAddress.v6(IPv6Address(rawValue: destination))
        var next = firstNext
        var offset = 40
        var walked = 0
        while true {
            switch next {
            case 0, 43, 60:
                // Hop-by-Hop Options, Routing, Destination Options: Hdr Ext Len in 8-octet units, not counting
                // the first 8 octets (RFC 8200 sections 4.3, 4.4, 4.6).
                guard let header = bytes.u8(at: offset), let length = bytes.u8(at: offset + 1) else {
                    throw .truncatedExtensionHeader(IPProtocol(rawValue: next))
                }
                walked += 1
                guard walked <= maximumExtensionHeaders else { throw .tooManyExtensionHeaders }
                offset += (Int(length) + 1) * 8
                next = header
            case 44:
                // Fragment (RFC 8200 section 4.5): fixed 8 octets; Fragment Offset is the top 13 bits of octets 2-3.
                guard let header = bytes.u8(at: offset), let offsetAndFlags = bytes.u16(at: offset + 2) else {
                    throw .truncatedExtensionHeader(IPProtocol(rawValue: next))
                }
                walked += 1
                guard walked <= maximumExtensionHeaders else { throw .tooManyExtensionHeaders }
                guard offsetAndFlags >> 3 == 0 else { throw .nonFirstFragment }
                offset += 8
                next = header
            case 51:
                // Authentication Header (RFC 4302 section 2.2): Payload Len in 4-octet units, minus 2.
                guard let header = bytes.u8(at: offset), let length = bytes.u8(at: offset + 1) else {
                    throw .truncatedExtensionHeader(IPProtocol(rawValue: next))
                }
                walked += 1
                guard walked <= maximumExtensionHeaders else { throw .tooManyExtensionHeaders }
                offset += (Int(length) + 2) * 4
                next = header
            case 59:
                // No Next Header (RFC 8200 section 4.7): nothing follows.
                return FlowKey(source: sourceAddress, destination: destinationAddress, transport: IPProtocol(rawValue: 59))
            default:
                return try transportKey(
                    bytes, at: offset, transport: IPProtocol(rawValue: next),
                    source: sourceAddress, destination: destinationAddress)
            }
        }
    }

    /// Reads the ports (TCP, UDP, SCTP) or the type (ICMP, ICMPv6) at `offset`; other protocols carry neither.
    @inlinable
    static func transportKey(
        _ bytes: PacketBytes, at offset: Int, transport: IPProtocol, source: IPAddress, destination: IPAddress
    ) throws(PacketParseError) -> FlowKey {
        switch transport {
        case .tcp, .udp, .sctp:
            guard let sourcePort = bytes.u16(at: offset), let destinationPort = bytes.u16(at: offset + 2) else {
                throw .truncatedTransportHeader(transport)
            }
            return FlowKey(
                source: source, destination: destination, transport: transport,
                sourcePort: sourcePort, destinationPort: destinationPort)
        case .icmp, .icmpv6:
            guard let type = bytes.u8(at: offset) else { throw .truncatedTransportHeader(transport) }
            return FlowKey(source: source, destination: destination, transport: transport, icmpType: type)
        default:
            return FlowKey(source: source, destination: destination, transport: transport)
        }
    }
}
