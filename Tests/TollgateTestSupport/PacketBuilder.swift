import NetworkTypes

/// Builds IPv4 and IPv6 packets with TCP, UDP, SCTP, ICMP and ICMPv6 payloads for tests, with correct lengths and
/// checksums, as the bytes a raw socket sends or NFQUEUE delivers (network header first, no link-layer header).
///
/// Test support only: it allocates freely. Wire layouts: IPv4 RFC 791, IPv6 RFC 8200, TCP RFC 9293, UDP RFC 768,
/// SCTP RFC 9260, ICMP RFC 792, ICMPv6 RFC 4443, the Internet checksum RFC 1071.
public enum PacketBuilder {
    /// TCP control bits (RFC 9293 section 3.1; ECE and CWR from RFC 3168).
    public struct TCPFlags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let fin = TCPFlags(rawValue: 0x01)
        public static let syn = TCPFlags(rawValue: 0x02)
        public static let rst = TCPFlags(rawValue: 0x04)
        public static let psh = TCPFlags(rawValue: 0x08)
        public static let ack = TCPFlags(rawValue: 0x10)
        public static let urg = TCPFlags(rawValue: 0x20)
        public static let ece = TCPFlags(rawValue: 0x40)
        public static let cwr = TCPFlags(rawValue: 0x80)
    }

    /// The upper-layer part of a packet; checksums are filled in when the packet is built.
    public enum Transport: Hashable, Sendable {
        /// A TCP segment (RFC 9293) with a 20-byte header and no options.
        case tcp(sourcePort: UInt16, destinationPort: UInt16, flags: TCPFlags = .syn, sequence: UInt32 = 1,
            payload: [UInt8] = [])
        /// A UDP datagram (RFC 768).
        case udp(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8] = [])
        /// An SCTP packet (RFC 9260 section 3): common header and chunks (see ``sctpInitChunk(initiateTag:advertisedReceiverWindow:outboundStreams:inboundStreams:initialTSN:)``).
        case sctp(sourcePort: UInt16, destinationPort: UInt16, verificationTag: UInt32 = 0, chunks: [[UInt8]])
        /// An ICMP message (RFC 792): type, code, checksum, then `rest` (the 4-byte rest of header and any data).
        case icmp(type: UInt8, code: UInt8 = 0, rest: [UInt8] = [0, 0, 0, 0])
        /// An ICMPv6 message (RFC 4443 section 2.1): type, code, checksum, then `body`.
        case icmpv6(type: UInt8, code: UInt8 = 0, body: [UInt8] = [0, 0, 0, 0])
        /// Any other protocol: the bytes are copied as they are.
        case raw(IPProtocol, [UInt8])

        /// The IP protocol number this transport is carried under.
        public var ipProtocol: IPProtocol {
            switch self {
            case .tcp: return .tcp
            case .udp: return .udp
            case .sctp: return .sctp
            case .icmp: return .icmp
            case .icmpv6: return .icmpv6
            case .raw(let p, _): return p
            }
        }
    }

    /// An IPv6 extension header (RFC 8200 section 4; AH from RFC 4302). Next Header fields are chained when built.
    public enum IPv6ExtensionHeader: Hashable, Sendable {
        /// Hop-by-Hop Options (next header 0); `options` is padded with PadN to a multiple of 8 octets.
        case hopByHop(options: [UInt8] = [])
        /// Routing (next header 43); `data` follows the 4 fixed octets and is padded to a multiple of 8.
        case routing(type: UInt8 = 4, segmentsLeft: UInt8 = 0, data: [UInt8] = [0, 0, 0, 0])
        /// Fragment (next header 44): `offset` in 8-octet units (13 bits).
        case fragment(offset: UInt16 = 0, moreFragments: Bool = false, identification: UInt32 = 0x1234_5678)
        /// Destination Options (next header 60); `options` is padded with PadN to a multiple of 8 octets.
        case destinationOptions(options: [UInt8] = [])
        /// Authentication Header (next header 51): 12 fixed octets then the ICV, padded to a multiple of 8.
        case authentication(spi: UInt32 = 0x100, sequence: UInt32 = 1, icv: [UInt8] = [UInt8](repeating: 0xAB, count: 12))

        /// The Next Header value that announces this header.
        public var number: UInt8 {
            switch self {
            case .hopByHop: return 0
            case .routing: return 43
            case .fragment: return 44
            case .destinationOptions: return 60
            case .authentication: return 51
            }
        }

        /// The header's bytes with `next` as its Next Header field.
        func bytes(next: UInt8) -> [UInt8] {
            switch self {
            case .hopByHop(let options), .destinationOptions(let options):
                var body = options
                PacketBuilder.padOptions(&body, headerFixed: 2)
                return [next, UInt8((2 + body.count) / 8 - 1)] + body
            case .routing(let type, let segmentsLeft, let data):
                var body = data
                while (4 + body.count) % 8 != 0 { body.append(0) }
                return [next, UInt8((4 + body.count) / 8 - 1), type, segmentsLeft] + body
            case .fragment(let offset, let more, let identification):
                let field = (offset & 0x1FFF) << 3 | (more ? 1 : 0)
                return [next, 0] + PacketBuilder.be16(field) + PacketBuilder.be32(identification)
            case .authentication(let spi, let sequence, let icv):
                var value = icv
                while (12 + value.count) % 8 != 0 { value.append(0) }
                let total = 12 + value.count
                return [next, UInt8(total / 4 - 2), 0, 0] + PacketBuilder.be32(spi) + PacketBuilder.be32(sequence) + value
            }
        }
    }

    // MARK: - Network layer

    /// An IPv4 packet (RFC 791) with a correct header checksum and Total Length.
    ///
    /// `options` are padded with End of Option List to a multiple of 4 octets (IHL counts 32-bit words).
    public static func ipv4(
        source: IPv4Address, destination: IPv4Address, _ transport: Transport, options: [UInt8] = [],
        identification: UInt16 = 0x1234, ttl: UInt8 = 64, dontFragment: Bool = true,
        moreFragments: Bool = false, fragmentOffset: UInt16 = 0
    ) -> [UInt8] {
        var opts = options
        while opts.count % 4 != 0 { opts.append(0) }
        let payload = transportBytes(transport, source: .v4(source), destination: .v4(destination))
        let headerLength = 20 + opts.count
        let flags: UInt16 = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF)
        var header: [UInt8] = [UInt8(0x40 | headerLength / 4), 0]
        header += be16(UInt16(headerLength + payload.count)) + be16(identification) + be16(flags)
        header += [ttl, transport.ipProtocol.rawValue, 0, 0]
        header += be32(source.rawValue) + be32(destination.rawValue) + opts
        let checksum = internetChecksum(header)
        header[10] = UInt8(checksum >> 8)
        header[11] = UInt8(checksum & 0xFF)
        return header + payload
    }

    /// An IPv6 packet (RFC 8200) with `extensionHeaders` chained in order before the transport.
    ///
    /// Upper-layer checksums use the final destination as given (no Routing header rewriting, RFC 8200 section 8.1).
    public static func ipv6(
        source: IPv6Address, destination: IPv6Address, _ transport: Transport,
        extensionHeaders: [IPv6ExtensionHeader] = [], hopLimit: UInt8 = 64, flowLabel: UInt32 = 0
    ) -> [UInt8] {
        let payload = transportBytes(transport, source: .v6(source), destination: .v6(destination))
        var chain: [UInt8] = []
        for (index, header) in extensionHeaders.enumerated() {
            let next = index + 1 < extensionHeaders.count
                ? extensionHeaders[index + 1].number : transport.ipProtocol.rawValue
            chain += header.bytes(next: next)
        }
        let first = extensionHeaders.first?.number ?? transport.ipProtocol.rawValue
        var header: [UInt8] = be32(0x6000_0000 | (flowLabel & 0xF_FFFF))
        header += be16(UInt16(chain.count + payload.count)) + [first, hopLimit]
        header += be128(source.rawValue) + be128(destination.rawValue)
        return header + chain + payload
    }

    /// A packet of either family; `source` and `destination` must be of the same family.
    public static func packet(source: IPAddress, destination: IPAddress, _ transport: Transport) -> [UInt8] {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)): return ipv4(source: s, destination: d, transport)
        case (.v6(let s), .v6(let d)): return ipv6(source: s, destination: d, transport)
        default: preconditionFailure("PacketBuilder.packet: \(source) and \(destination) differ in family")
        }
    }

    // MARK: - Transport layer

    /// The upper-layer bytes of `transport` with the checksum computed for the given addresses.
    public static func transportBytes(_ transport: Transport, source: IPAddress, destination: IPAddress) -> [UInt8] {
        switch transport {
        case .tcp(let sp, let dp, let flags, let sequence, let payload):
            var segment = be16(sp) + be16(dp) + be32(sequence) + be32(0)
            segment += [0x50, flags.rawValue] + be16(65535) + [0, 0, 0, 0] + payload
            setChecksum(&segment, at: 16, pseudoHeader(source, destination, .tcp, segment.count))
            return segment
        case .udp(let sp, let dp, let payload):
            var datagram = be16(sp) + be16(dp) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
            setChecksum(&datagram, at: 6, pseudoHeader(source, destination, .udp, datagram.count))
            // RFC 768: a computed zero is sent as all ones.
            if datagram[6] == 0 && datagram[7] == 0 { datagram[6] = 0xFF; datagram[7] = 0xFF }
            return datagram
        case .sctp(let sp, let dp, let tag, let chunks):
            return sctpPacket(sourcePort: sp, destinationPort: dp, verificationTag: tag, chunks: chunks)
        case .icmp(let type, let code, let rest):
            var message = [type, code, 0, 0] + rest
            setChecksum(&message, at: 2, [])
            return message
        case .icmpv6(let type, let code, let body):
            var message = [type, code, 0, 0] + body
            setChecksum(&message, at: 2, pseudoHeader(source, destination, .icmpv6, message.count))
            return message
        case .raw(_, let bytes):
            return bytes
        }
    }

    /// An SCTP packet (RFC 9260 section 3): the common header and `chunks`, with the CRC32c checksum (appendix A).
    ///
    /// This is what a raw `IPPROTO_SCTP` socket sends (the kernel adds the IP header).
    public static func sctpPacket(
        sourcePort: UInt16, destinationPort: UInt16, verificationTag: UInt32 = 0, chunks: [[UInt8]]
    ) -> [UInt8] {
        var packet = be16(sourcePort) + be16(destinationPort) + be32(verificationTag) + [0, 0, 0, 0]
        for chunk in chunks {
            packet += chunk
            while packet.count % 4 != 0 { packet.append(0) }
        }
        let crc = crc32c(packet)
        // The CRC32c is stored least significant byte first (RFC 9260 appendix A).
        packet[8] = UInt8(crc & 0xFF)
        packet[9] = UInt8(crc >> 8 & 0xFF)
        packet[10] = UInt8(crc >> 16 & 0xFF)
        packet[11] = UInt8(crc >> 24)
        return packet
    }

    /// An SCTP INIT chunk (RFC 9260 section 3.3.2) with no optional parameters. Its packet's verification tag is 0.
    public static func sctpInitChunk(
        initiateTag: UInt32, advertisedReceiverWindow: UInt32 = 106_496, outboundStreams: UInt16 = 10,
        inboundStreams: UInt16 = 65535, initialTSN: UInt32 = 1
    ) -> [UInt8] {
        [1, 0] + be16(20) + be32(initiateTag) + be32(advertisedReceiverWindow)
            + be16(outboundStreams) + be16(inboundStreams) + be32(initialTSN)
    }

    // MARK: - Checksums

    /// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
    public static func internetChecksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// CRC32c (Castagnoli, reflected polynomial 0x82F63B78) as SCTP uses it (RFC 9260 appendix A).
    public static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    /// The pseudo-header for upper-layer checksums: RFC 9293 section 3.1 (IPv4), RFC 8200 section 8.1 (IPv6).
    static func pseudoHeader(_ source: IPAddress, _ destination: IPAddress, _ proto: IPProtocol, _ length: Int)
        -> [UInt8]
    {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            return be32(s.rawValue) + be32(d.rawValue) + [0, proto.rawValue] + be16(UInt16(length))
        case (.v6(let s), .v6(let d)):
            return be128(s.rawValue) + be128(d.rawValue) + be32(UInt32(length)) + [0, 0, 0, proto.rawValue]
        default:
            preconditionFailure("PacketBuilder: \(source) and \(destination) differ in family")
        }
    }

    static func setChecksum(_ bytes: inout [UInt8], at offset: Int, _ pseudo: [UInt8]) {
        let checksum = internetChecksum(pseudo + bytes)
        bytes[offset] = UInt8(checksum >> 8)
        bytes[offset + 1] = UInt8(checksum & 0xFF)
    }

    /// Pads Hop-by-Hop or Destination options so the header is a multiple of 8 octets (Pad1 or PadN, RFC 8200 4.2).
    static func padOptions(_ body: inout [UInt8], headerFixed: Int) {
        let missing = (8 - (headerFixed + body.count) % 8) % 8
        if missing == 1 {
            body.append(0)
        } else if missing > 1 {
            body += [1, UInt8(missing - 2)] + [UInt8](repeating: 0, count: missing - 2)
        }
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func be128(_ v: UInt128) -> [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: v >> (120 - 8 * $0)) } }
}
