/// An IP protocol number (the IPv4 Protocol field, RFC 791; the IPv6 Next Header of the upper layer, RFC 8200).
@frozen
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let sctp = IPProtocol(rawValue: 132)

    /// Whether the protocol carries ports that NetworkPolicy can name (TCP, UDP, SCTP).
    @inlinable
    public var hasPorts: Bool { self == .tcp || self == .udp || self == .sctp }

    public var description: String {
        switch self {
        case .icmp: return "ICMP"
        case .tcp: return "TCP"
        case .udp: return "UDP"
        case .icmpv6: return "ICMPv6"
        case .sctp: return "SCTP"
        default: return "proto-\(rawValue)"
        }
    }
}

/// What a verdict is asked about: the first packet of a connection, reduced to the fields policy can name.
@frozen
public struct FlowKey: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var transport: IPProtocol
    /// The source port for TCP, UDP and SCTP; zero otherwise.
    public var sourcePort: UInt16
    /// The destination port for TCP, UDP and SCTP; zero otherwise.
    public var destinationPort: UInt16
    /// The ICMP or ICMPv6 message type; zero otherwise.
    public var icmpType: UInt8

    @inlinable
    public init(
        source: IPAddress, destination: IPAddress, transport: IPProtocol,
        sourcePort: UInt16 = 0, destinationPort: UInt16 = 0, icmpType: UInt8 = 0
    ) {
        self.source = source
        self.destination = destination
        self.transport = transport
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
    }

    /// Whether this is IPv6 neighbour discovery (ICMPv6 types 133–137, RFC 4861), which must always pass.
    @inlinable
    public var isNeighbourDiscovery: Bool {
        transport == .icmpv6 && icmpType >= 133 && icmpType <= 137
    }
}
