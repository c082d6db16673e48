import NetworkTypes
import PacketHeaders
import Testing
import TollgateTestSupport

private let a4 = IPv4Address(10, 0, 0, 1)
private let b4 = IPv4Address(10, 0, 0, 2)
private let a6 = IPv6Address("fd00::1")!
private let b6 = IPv6Address("fd00::2")!
private let sctpInit = PacketBuilder.sctpInitChunk(initiateTag: 0xDEAD_BEEF)

/// The builder's output for each hand-built fixture, which the independent Python layout must match byte for byte.
let builderCases: [(name: String, built: [UInt8], fixture: [UInt8])] = [
    ("ipv4RouterAlertUDP",
     PacketBuilder.ipv4(source: a4, destination: b4, .udp(sourcePort: 1000, destinationPort: 53), options: [0x94, 4, 0, 0]),
     PacketFixtures.ipv4RouterAlertUDP),
    ("ipv4OptionsTCP",
     PacketBuilder.ipv4(source: a4, destination: b4, .tcp(sourcePort: 40000, destinationPort: 443),
        options: [1, 1, 1, 0x83, 7, 4, 192, 0, 2, 1, 0, 0]),
     PacketFixtures.ipv4OptionsTCP),
    ("ipv4SCTPInit",
     PacketBuilder.ipv4(source: a4, destination: b4, .sctp(sourcePort: 5000, destinationPort: 36412, chunks: [sctpInit])),
     PacketFixtures.ipv4SCTPInit),
    ("ipv4ICMPEcho",
     PacketBuilder.ipv4(source: a4, destination: b4, .icmp(type: 8, rest: [0x12, 0x34, 0, 1] + Array("ping".utf8))),
     PacketFixtures.ipv4ICMPEcho),
    ("ipv4FirstFragmentUDP",
     PacketBuilder.ipv4(source: a4, destination: b4,
        .udp(sourcePort: 1000, destinationPort: 53, payload: Array(repeating: UInt8(ascii: "x"), count: 8)),
        dontFragment: false, moreFragments: true),
     PacketFixtures.ipv4FirstFragmentUDP),
    ("ipv4GRE",
     PacketBuilder.ipv4(source: a4, destination: b4, .raw(IPProtocol(rawValue: 47), [0, 0, 8, 0])),
     PacketFixtures.ipv4GRE),
    ("ipv6HopByHopUDP",
     PacketBuilder.ipv6(source: a6, destination: b6, .udp(sourcePort: 1000, destinationPort: 53),
        extensionHeaders: [.hopByHop()]),
     PacketFixtures.ipv6HopByHopUDP),
    ("ipv6RoutingTCP",
     PacketBuilder.ipv6(source: a6, destination: b6, .tcp(sourcePort: 40000, destinationPort: 443),
        extensionHeaders: [.routing(type: 4, segmentsLeft: 0, data: Array(repeating: 0, count: 20))]),
     PacketFixtures.ipv6RoutingTCP),
    ("ipv6FirstFragmentUDP",
     PacketBuilder.ipv6(source: a6, destination: b6,
        .udp(sourcePort: 1000, destinationPort: 53, payload: Array(repeating: UInt8(ascii: "y"), count: 8)),
        extensionHeaders: [.fragment(offset: 0, moreFragments: true, identification: 0x1234_5678)]),
     PacketFixtures.ipv6FirstFragmentUDP),
    ("ipv6DestinationOptionsICMPv6",
     PacketBuilder.ipv6(source: a6, destination: b6,
        .icmpv6(type: 135, body: [0, 0, 0, 0] + (0..<16).map { UInt8(truncatingIfNeeded: b6.rawValue >> (120 - 8 * $0)) }),
        extensionHeaders: [.destinationOptions()]),
     PacketFixtures.ipv6DestinationOptionsICMPv6),
    ("ipv6AuthenticationTCP",
     PacketBuilder.ipv6(source: a6, destination: b6, .tcp(sourcePort: 40000, destinationPort: 443),
        extensionHeaders: [.authentication()]),
     PacketFixtures.ipv6AuthenticationTCP),
    ("ipv6LongChainSCTP",
     PacketBuilder.ipv6(source: a6, destination: b6, .sctp(sourcePort: 5000, destinationPort: 36412, chunks: [sctpInit]),
        extensionHeaders: [.hopByHop(), .destinationOptions(), .routing(), .fragment(identification: 7),
            .authentication(), .destinationOptions()]),
     PacketFixtures.ipv6LongChainSCTP),
    ("ipv6NoNextHeader",
     PacketBuilder.ipv6(source: a6, destination: b6, .raw(IPProtocol(rawValue: 59), []),
        extensionHeaders: [.destinationOptions()]),
     PacketFixtures.ipv6NoNextHeader),
]

@Suite struct PacketBuilderTests {
    @Test(arguments: builderCases.indices)
    func builderMatchesTheIndependentRFCLayout(_ index: Int) {
        let c = builderCases[index]
        #expect(c.built == c.fixture, "\(c.name)")
    }

    @Test func crc32cMatchesTheCastagnoliCheckValue() {
        // The standard check value of CRC-32C over the ASCII digits "123456789" (RFC 3720 appendix B.4 family).
        #expect(PacketBuilder.crc32c(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func internetChecksumOfTheRFC1071Example() {
        // RFC 1071 section 3 example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
        #expect(PacketBuilder.internetChecksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == 0x220D)
    }

    @Test func builtIPv4HeaderEqualsTheKernelsCapturedHeader() {
        // Same fields as the captured loopback UDP datagram: the kernel's header (with its checksum) must come out.
        let built = PacketBuilder.ipv4(
            source: IPv4Address(127, 0, 0, 1), destination: IPv4Address(127, 0, 0, 1),
            .udp(sourcePort: 52786, destinationPort: 5353, payload: Array("hello".utf8)), identification: 0xD9BB)
        #expect(Array(built.prefix(20)) == Array(PacketFixtures.capturedIPv4UDP.prefix(20)))
        #expect(built.count == PacketFixtures.capturedIPv4UDP.count)
    }

    @Test(arguments: [
        PacketBuilder.Transport.tcp(sourcePort: 1, destinationPort: 2, payload: [1, 2, 3]),
        .udp(sourcePort: 3, destinationPort: 4, payload: [9]),
        .icmpv6(type: 128, body: [0, 1, 0, 1, 0xAA]),
    ])
    func upperLayerChecksumsVerifyToZero(_ transport: PacketBuilder.Transport) {
        let v6 = PacketBuilder.ipv6(source: a6, destination: b6, transport)
        let upper = Array(v6.dropFirst(40))
        var pseudo = Array(v6[8..<40])
        pseudo += [0, 0, UInt8(upper.count >> 8), UInt8(upper.count & 0xFF), 0, 0, 0, transport.ipProtocol.rawValue]
        #expect(PacketBuilder.internetChecksum(pseudo + upper) == 0)
        let v4 = PacketBuilder.ipv4(source: a4, destination: b4, transport)
        #expect(PacketBuilder.internetChecksum(Array(v4.prefix(20))) == 0)
    }

    @Test(arguments: [UInt16(0), 3, 0x1FFF])
    func builtFragmentsParseAsTheirOffsetSays(_ offset: UInt16) {
        let bytes = PacketBuilder.ipv6(source: a6, destination: b6, .udp(sourcePort: 5, destinationPort: 6),
            extensionHeaders: [.fragment(offset: offset, moreFragments: true)])
        let expected: Result<FlowKey, PacketParseError> = offset == 0
            ? .success(FlowKey(source: .v6(a6), destination: .v6(b6), transport: .udp, sourcePort: 5, destinationPort: 6))
            : .failure(.nonFirstFragment)
        #expect(parseResult(bytes) == expected)
    }
}
