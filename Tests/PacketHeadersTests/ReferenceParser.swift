import NetworkTypes
import PacketHeaders

/// A slow, obviously-bounded restatement of the parsing rules over `[UInt8]`, written from the RFCs for
/// differential tests of ``PacketParser``: every byte read goes through `byte(_:)`, which returns nil past the end.
enum ReferenceParser {
    static func parse(_ packet: [UInt8]) -> Result<FlowKey, PacketParseError> {
        var end = packet.count
        func byte(_ i: Int) -> Int? { i >= 0 && i < end ? Int(packet[i]) : nil }
        func word(_ i: Int) -> Int? {
            guard let h = byte(i), let l = byte(i + 1) else { return nil }
            return h << 8 | l
        }
        func address(_ from: Int, _ count: Int) -> UInt128? {
            var value: UInt128 = 0
            for i in from..<(from + count) {
                guard let b = byte(i) else { return nil }
                value = value << 8 | UInt128(b)
            }
            return value
        }
        func transport(_ p: Int, _ at: Int, _ s: IPAddress, _ d: IPAddress) -> Result<FlowKey, PacketParseError> {
            let proto = IPProtocol(rawValue: UInt8(p))
            if [6, 17, 132].contains(p) {
                guard let sp = word(at), let dp = word(at + 2) else { return .failure(.truncatedTransportHeader(proto)) }
                return .success(FlowKey(source: s, destination: d, transport: proto,
                    sourcePort: UInt16(sp), destinationPort: UInt16(dp)))
            }
            if p == 1 || p == 58 {
                guard let t = byte(at) else { return .failure(.truncatedTransportHeader(proto)) }
                return .success(FlowKey(source: s, destination: d, transport: proto, icmpType: UInt8(t)))
            }
            return .success(FlowKey(source: s, destination: d, transport: proto))
        }
        guard let first = byte(0) else { return .failure(.emptyPacket) }
        if first >> 4 == 4 {
            guard end >= 20, let total = word(2), let frag = word(6), let p = byte(9),
                let s = address(12, 4), let d = address(16, 4)
            else { return .failure(.truncatedIPv4Header) }
            let ihl = first & 0xF
            if ihl < 5 { return .failure(.badIPv4HeaderLength(UInt8(ihl))) }
            if ihl * 4 > end { return .failure(.truncatedIPv4Header) }
            if total != 0 {
                if total < ihl * 4 { return .failure(.badIPv4TotalLength(UInt16(total))) }
                end = min(end, total)
            }
            if frag & 0x1FFF != 0 { return .failure(.nonFirstFragment) }
            return transport(p, ihl * 4, .v4(IPv4Address(rawValue: UInt32(s))), .v4(IPv4Address(rawValue: UInt32(d))))
        }
        if first >> 4 == 6 {
            guard end >= 40, let length = word(4), let n = byte(6), let s = address(8, 16), let d = address(24, 16)
            else { return .failure(.truncatedIPv6Header) }
            if length != 0 { end = min(end, 40 + length) }
            let src = IPAddress.v6(IPv6Address(rawValue: s))
            let dst = IPAddress.v6(IPv6Address(rawValue: d))
            var next = n
            var at = 40
            var count = 0
            while true {
                if next == 59 { return .success(FlowKey(source: src, destination: dst, transport: IPProtocol(rawValue: 59))) }
                guard [0, 43, 44, 51, 60].contains(next) else { return transport(next, at, src, dst) }
                let kind = IPProtocol(rawValue: UInt8(next))
                guard let nh = byte(at) else { return .failure(.truncatedExtensionHeader(kind)) }
                count += 1
                switch next {
                case 44:
                    guard let field = word(at + 2) else { return .failure(.truncatedExtensionHeader(kind)) }
                    if count > PacketParser.maximumExtensionHeaders { return .failure(.tooManyExtensionHeaders) }
                    if field >> 3 != 0 { return .failure(.nonFirstFragment) }
                    at += 8
                case 51:
                    guard let len = byte(at + 1) else { return .failure(.truncatedExtensionHeader(kind)) }
                    if count > PacketParser.maximumExtensionHeaders { return .failure(.tooManyExtensionHeaders) }
                    at += (len + 2) * 4
                default:
                    guard let len = byte(at + 1) else { return .failure(.truncatedExtensionHeader(kind)) }
                    if count > PacketParser.maximumExtensionHeaders { return .failure(.tooManyExtensionHeaders) }
                    at += (len + 1) * 8
                }
                next = nh
            }
        }
        return .failure(.unsupportedVersion(UInt8(first >> 4)))
    }
}
