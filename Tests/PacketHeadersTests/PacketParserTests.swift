import NetworkTypes
import PacketHeaders
import Testing
import TollgateTestSupport

/// Parses `bytes` into a whole-value result so tests can compare success and failure alike.
func parseResult(_ bytes: [UInt8]) -> Result<FlowKey, PacketParseError> {
    bytes.withUnsafeBytes { buffer in
        do throws(PacketParseError) {
            return .success(try PacketParser.parse(buffer))
        } catch {
            return .failure(error)
        }
    }
}

private let loopback4 = IPAddress.v4(IPv4Address(127, 0, 0, 1))
private let loopback6 = IPAddress.v6(IPv6Address(rawValue: 1))
private let a4 = IPAddress.v4(IPv4Address(10, 0, 0, 1))
private let b4 = IPAddress.v4(IPv4Address(10, 0, 0, 2))
private let a6 = IPAddress("fd00::1")!
private let b6 = IPAddress("fd00::2")!

/// Every valid fixture with the flow key it must parse to.
let validFixtures: [(name: String, bytes: [UInt8], key: FlowKey)] = [
    ("capturedIPv4TCPSyn", PacketFixtures.capturedIPv4TCPSyn,
     FlowKey(source: loopback4, destination: loopback4, transport: .tcp, sourcePort: 42106, destinationPort: 8080)),
    ("capturedIPv4TCPReset", PacketFixtures.capturedIPv4TCPReset,
     FlowKey(source: loopback4, destination: loopback4, transport: .tcp, sourcePort: 8080, destinationPort: 42106)),
    ("capturedIPv4UDP", PacketFixtures.capturedIPv4UDP,
     FlowKey(source: loopback4, destination: loopback4, transport: .udp, sourcePort: 52786, destinationPort: 5353)),
    ("capturedIPv4ICMPUnreachable", PacketFixtures.capturedIPv4ICMPUnreachable,
     FlowKey(source: loopback4, destination: loopback4, transport: .icmp, icmpType: 3)),
    ("capturedIPv6TCPSyn", PacketFixtures.capturedIPv6TCPSyn,
     FlowKey(source: loopback6, destination: loopback6, transport: .tcp, sourcePort: 46830, destinationPort: 8080)),
    ("capturedIPv6TCPReset", PacketFixtures.capturedIPv6TCPReset,
     FlowKey(source: loopback6, destination: loopback6, transport: .tcp, sourcePort: 8080, destinationPort: 46830)),
    ("capturedIPv6UDP", PacketFixtures.capturedIPv6UDP,
     FlowKey(source: loopback6, destination: loopback6, transport: .udp, sourcePort: 36178, destinationPort: 5353)),
    ("capturedIPv6ICMPUnreachable", PacketFixtures.capturedIPv6ICMPUnreachable,
     FlowKey(source: loopback6, destination: loopback6, transport: .icmpv6, icmpType: 1)),
    ("ipv4RouterAlertUDP", PacketFixtures.ipv4RouterAlertUDP,
     FlowKey(source: a4, destination: b4, transport: .udp, sourcePort: 1000, destinationPort: 53)),
    ("ipv4OptionsTCP", PacketFixtures.ipv4OptionsTCP,
     FlowKey(source: a4, destination: b4, transport: .tcp, sourcePort: 40000, destinationPort: 443)),
    ("ipv4SCTPInit", PacketFixtures.ipv4SCTPInit,
     FlowKey(source: a4, destination: b4, transport: .sctp, sourcePort: 5000, destinationPort: 36412)),
    ("ipv4ICMPEcho", PacketFixtures.ipv4ICMPEcho,
     FlowKey(source: a4, destination: b4, transport: .icmp, icmpType: 8)),
    ("ipv4FirstFragmentUDP", PacketFixtures.ipv4FirstFragmentUDP,
     FlowKey(source: a4, destination: b4, transport: .udp, sourcePort: 1000, destinationPort: 53)),
    ("ipv4GRE", PacketFixtures.ipv4GRE,
     FlowKey(source: a4, destination: b4, transport: IPProtocol(rawValue: 47))),
    ("ipv6HopByHopUDP", PacketFixtures.ipv6HopByHopUDP,
     FlowKey(source: a6, destination: b6, transport: .udp, sourcePort: 1000, destinationPort: 53)),
    ("ipv6RoutingTCP", PacketFixtures.ipv6RoutingTCP,
     FlowKey(source: a6, destination: b6, transport: .tcp, sourcePort: 40000, destinationPort: 443)),
    ("ipv6FirstFragmentUDP", PacketFixtures.ipv6FirstFragmentUDP,
     FlowKey(source: a6, destination: b6, transport: .udp, sourcePort: 1000, destinationPort: 53)),
    ("ipv6DestinationOptionsICMPv6", PacketFixtures.ipv6DestinationOptionsICMPv6,
     FlowKey(source: a6, destination: b6, transport: .icmpv6, icmpType: 135)),
    ("ipv6AuthenticationTCP", PacketFixtures.ipv6AuthenticationTCP,
     FlowKey(source: a6, destination: b6, transport: .tcp, sourcePort: 40000, destinationPort: 443)),
    ("ipv6LongChainSCTP", PacketFixtures.ipv6LongChainSCTP,
     FlowKey(source: a6, destination: b6, transport: .sctp, sourcePort: 5000, destinationPort: 36412)),
    ("ipv6NoNextHeader", PacketFixtures.ipv6NoNextHeader,
     FlowKey(source: a6, destination: b6, transport: IPProtocol(rawValue: 59))),
]

/// Returns `bytes` with `value` written at `offset`.
private func patched(_ bytes: [UInt8], _ offset: Int, _ values: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy.replaceSubrange(offset..<(offset + values.count), with: values)
    return copy
}

/// Malformed inputs and the error each must give.
let malformedFixtures: [(name: String, bytes: [UInt8], error: PacketParseError)] = [
    ("empty", [], .emptyPacket),
    ("version 5", patched(PacketFixtures.capturedIPv4UDP, 0, [0x55]), .unsupportedVersion(5)),
    ("version 0", [0x00], .unsupportedVersion(0)),
    ("IHL 4", patched(PacketFixtures.capturedIPv4UDP, 0, [0x44]), .badIPv4HeaderLength(4)),
    ("IHL 0", patched(PacketFixtures.capturedIPv4UDP, 0, [0x40]), .badIPv4HeaderLength(0)),
    ("IHL 15 past the buffer", patched(PacketFixtures.capturedIPv4UDP, 0, [0x4F]), .truncatedIPv4Header),
    ("IPv4 header cut at 19", Array(PacketFixtures.capturedIPv4UDP.prefix(19)), .truncatedIPv4Header),
    ("options cut", Array(PacketFixtures.ipv4OptionsTCP.prefix(24)), .truncatedIPv4Header),
    ("total length below header", patched(PacketFixtures.capturedIPv4UDP, 2, [0x00, 0x10]), .badIPv4TotalLength(16)),
    ("total length ends before ports", patched(PacketFixtures.capturedIPv4UDP, 2, [0x00, 0x16]),
     .truncatedTransportHeader(.udp)),
    ("IPv4 non-first fragment", patched(PacketFixtures.capturedIPv4UDP, 6, [0x20, 0x01]), .nonFirstFragment),
    ("IPv4 last fragment", patched(PacketFixtures.capturedIPv4UDP, 6, [0x00, 0xB9]), .nonFirstFragment),
    ("UDP cut at 3 bytes", Array(PacketFixtures.capturedIPv4UDP.prefix(23)), .truncatedTransportHeader(.udp)),
    ("ICMP with no bytes", Array(PacketFixtures.ipv4ICMPEcho.prefix(20)), .truncatedTransportHeader(.icmp)),
    ("IPv6 header cut at 39", Array(PacketFixtures.capturedIPv6UDP.prefix(39)), .truncatedIPv6Header),
    ("IPv6 payload length ends before ports", patched(PacketFixtures.capturedIPv6UDP, 4, [0x00, 0x02]),
     .truncatedTransportHeader(.udp)),
    ("Hop-by-Hop cut", Array(PacketFixtures.ipv6HopByHopUDP.prefix(41)), .truncatedExtensionHeader(IPProtocol(rawValue: 0))),
    ("AH cut", Array(PacketFixtures.ipv6AuthenticationTCP.prefix(40)), .truncatedExtensionHeader(IPProtocol(rawValue: 51))),
    ("fragment header cut", Array(PacketFixtures.ipv6FirstFragmentUDP.prefix(43)),
     .truncatedExtensionHeader(IPProtocol(rawValue: 44))),
    ("IPv6 non-first fragment", patched(PacketFixtures.ipv6FirstFragmentUDP, 42, [0x00, 0x18]), .nonFirstFragment),
    ("nine extension headers",
     PacketBuilder.ipv6(
        source: IPv6Address(rawValue: 1), destination: IPv6Address(rawValue: 2), .udp(sourcePort: 1, destinationPort: 2),
        extensionHeaders: Array(repeating: .destinationOptions(), count: 9)),
     .tooManyExtensionHeaders),
]

@Suite struct PacketParserTests {
    @Test(arguments: validFixtures.indices)
    func validFixtureParsesToItsWholeFlowKey(_ index: Int) {
        let fixture = validFixtures[index]
        #expect(parseResult(fixture.bytes) == .success(fixture.key), "\(fixture.name)")
    }

    @Test(arguments: malformedFixtures.indices)
    func malformedPacketGivesItsError(_ index: Int) {
        let fixture = malformedFixtures[index]
        #expect(parseResult(fixture.bytes) == .failure(fixture.error), "\(fixture.name)")
    }

    @Test func eightExtensionHeadersAreStillWalked() {
        let bytes = PacketBuilder.ipv6(
            source: IPv6Address(rawValue: 1), destination: IPv6Address(rawValue: 2),
            .udp(sourcePort: 7, destinationPort: 9), extensionHeaders: Array(repeating: .destinationOptions(), count: 8))
        let expected = FlowKey(
            source: .v6(IPv6Address(rawValue: 1)), destination: .v6(IPv6Address(rawValue: 2)), transport: .udp,
            sourcePort: 7, destinationPort: 9)
        #expect(parseResult(bytes) == .success(expected))
    }

    /// Every prefix of a valid packet parses to an error or to the full key, and once a prefix holds the ports
    /// every longer one does too: a copy range that cuts anywhere never traps and never invents a key.
    @Test(arguments: validFixtures.indices)
    func everyTruncationThrowsOrGivesTheWholeKey(_ index: Int) {
        let fixture = validFixtures[index]
        var firstSuccess: Int?
        for length in 0...fixture.bytes.count {
            let result = parseResult(Array(fixture.bytes.prefix(length)))
            switch result {
            case .success(let key):
                #expect(key == fixture.key, "\(fixture.name) cut at \(length)")
                if firstSuccess == nil { firstSuccess = length }
            case .failure(let error):
                #expect(firstSuccess == nil, "\(fixture.name) cut at \(length) failed with \(error) after succeeding")
            }
        }
        #expect(firstSuccess != nil, "\(fixture.name) never parsed")
    }

    /// Random bytes and random mutations of valid packets must agree with the slow reference parser.
    @Test func randomBytesAgreeWithTheReferenceParser() {
        var random = SplitMix64(seed: 0x5EED_7011_6A7E)
        for iteration in 0..<200_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                let length = Int(random.next() % 161)
                bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if !bytes.isEmpty && iteration % 4 == 0 { bytes[0] = (random.next() % 2 == 0 ? 0x40 : 0x60) | bytes[0] & 0x0F }
            } else {
                let base = validFixtures[Int(random.next() % UInt64(validFixtures.count))].bytes
                bytes = base
                for _ in 0..<(1 + random.next() % 4) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                }
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            }
            let actual = parseResult(bytes)
            let expected = ReferenceParser.parse(bytes)
            if actual != expected {
                Issue.record("input \(bytes): parser \(actual), reference \(expected)")
                return
            }
        }
    }
}

/// A deterministic generator so a failing random case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
