public import NetworkTypes

/// One connection tracking entry, reduced to what revocation needs: the original direction's tuple, the reply
/// direction's source (where destination NAT sent the connection), and what the kernel needs to delete exactly
/// this entry.
///
/// Addresses and ports are in host order. The wire formats behind them are the IPv4 and IPv6 headers (RFC 791,
/// RFC 8200) and the TCP, UDP and SCTP headers (RFC 9293, RFC 768, RFC 9260).
public struct ConntrackEntry: Hashable, Sendable {
    /// The source of the connection's first packet (original direction).
    public var source: IPAddress
    /// The destination of the first packet as it arrived, before destination NAT (original direction).
    public var destination: IPAddress
    /// The transport protocol (`ATTR_L4PROTO`).
    public var transport: IPProtocol
    /// The original direction's source port (TCP, UDP, SCTP); zero otherwise.
    public var sourcePort: UInt16
    /// The original direction's destination port (TCP, UDP, SCTP); zero otherwise.
    public var destinationPort: UInt16
    /// The reply direction's source: the endpoint that actually answers, after destination NAT. Equal to
    /// ``destination`` when no NAT applies.
    public var replySource: IPAddress
    /// The reply direction's source port (TCP, UDP, SCTP); equal to ``destinationPort`` without NAT.
    public var replySourcePort: UInt16
    /// The ICMP or ICMPv6 type of the original direction; zero for other protocols.
    public var icmpType: UInt8
    /// The ICMP or ICMPv6 code of the original direction; zero for other protocols.
    public var icmpCode: UInt8
    /// The ICMP or ICMPv6 echo identifier; zero for other protocols.
    public var icmpIdentifier: UInt16
    /// The conntrack zone (`ATTR_ZONE`); zero by default.
    public var zone: UInt16
    /// The kernel's id of the entry (`ATTR_ID`), when reported: a delete carrying it removes only this entry,
    /// never a newer one that reuses the tuple.
    public var id: UInt32?

    /// Creates an entry; the reply source defaults to the original destination (no NAT).
    public init(
        source: IPAddress, destination: IPAddress, transport: IPProtocol, sourcePort: UInt16 = 0,
        destinationPort: UInt16 = 0, replySource: IPAddress? = nil, replySourcePort: UInt16? = nil,
        icmpType: UInt8 = 0, icmpCode: UInt8 = 0, icmpIdentifier: UInt16 = 0, zone: UInt16 = 0, id: UInt32? = nil
    ) {
        self.source = source
        self.destination = destination
        self.transport = transport
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.replySource = replySource ?? destination
        self.replySourcePort = replySourcePort ?? destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
        self.icmpIdentifier = icmpIdentifier
        self.zone = zone
        self.id = id
    }

    /// The address family of the entry.
    public var family: AddressFamily { source.family }

    /// Whether this is a tombstone ``ConntrackTable/block(_:lifetime:)`` left for a revoked connection: its reply
    /// direction comes from the unspecified address (`0.0.0.0` or `::`), which no packet carries.
    public var isTombstone: Bool { replySource.bits == 0 }

    /// The flow the datapath judged when the connection's first packet was queued. Tollgate's rules sit after
    /// destination NAT (mangle POSTROUTING), so the judged destination is the reply direction's source, and the
    /// judged destination port the reply direction's source port (a tombstone's own destination).
    public var judgedFlow: FlowKey {
        FlowKey(
            source: source, destination: isTombstone ? destination : replySource, transport: transport,
            sourcePort: sourcePort,
            destinationPort: transport.hasPorts ? (isTombstone ? destinationPort : replySourcePort) : 0,
            icmpType: transport == .icmp || transport == .icmpv6 ? icmpType : 0)
    }
}

extension ConntrackEntry: CustomStringConvertible {
    /// `TCP 10.244.1.10:40000 -> 10.244.1.11:8080` (with `(via …)` when NAT changed the destination).
    public var description: String {
        let ports = transport.hasPorts
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            guard ports else { return "\(address)" }
            return address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
        }
        var text = "\(transport) \(endpoint(source, sourcePort)) -> \(endpoint(replySource, replySourcePort))"
        if replySource != destination || replySourcePort != destinationPort {
            text += " (via \(endpoint(destination, destinationPort)))"
        }
        return text
    }
}
