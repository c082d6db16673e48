import NetworkTypes
import PolicyModel

/// A question about a connection as people write it: `namespace/pod` or an address at each end, a protocol and
/// a port.
public struct ConnectionQuery: Sendable, Hashable {
    public var from: String
    public var to: String
    public var port: UInt16?
    public var `protocol`: String

    public init(from: String, to: String, port: UInt16?, protocol: String) {
        self.from = from
        self.to = to
        self.port = port
        self.protocol = `protocol`
    }
}

/// Why a query could not be turned into a connection.
public struct ConnectionQueryError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension ClusterState {
    /// Resolves a query to the flow the engine decides. A pod stands for its primary address, or for its address
    /// of the other end's family when the other end is an address.
    public func flow(for query: ConnectionQuery) throws(ConnectionQueryError) -> FlowKey {
        let transport: IPProtocol
        switch query.protocol.uppercased() {
        case "TCP": transport = .tcp
        case "UDP": transport = .udp
        case "SCTP": transport = .sctp
        case "ICMP": transport = .icmp
        case "ICMPV6": transport = .icmpv6
        default:
            throw ConnectionQueryError(message: "unknown protocol \"\(query.protocol)\"; expected TCP, UDP, SCTP or ICMP")
        }
        if transport.hasPorts {
            guard let port = query.port else {
                throw ConnectionQueryError(message: "a port is required for \(transport)")
            }
            guard port > 0 else { throw ConnectionQueryError(message: "port must be between 1 and 65535") }
        }
        enum End {
            case address(IPAddress)
            case pod(Pod)
        }
        func resolve(_ text: String) throws(ConnectionQueryError) -> End {
            if let address = IPAddress(text) { return .address(address) }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ConnectionQueryError(message: "\"\(text)\" is neither an IP address nor namespace/pod")
            }
            guard let pod = pod(namespace: String(parts[0]), name: String(parts[1])) else {
                throw ConnectionQueryError(message: "no pod \(text) in the loaded manifests")
            }
            guard pod.isEndpoint else {
                let why =
                    pod.hostNetwork ? "uses the host network" : pod.ips.isEmpty ? "has no IP address" : "has finished"
                throw ConnectionQueryError(message: "pod \(text) \(why), so policy does not apply to its address")
            }
            return .pod(pod)
        }
        let from = try resolve(query.from)
        let to = try resolve(query.to)
        func address(_ end: End, other: End) throws(ConnectionQueryError) -> IPAddress {
            switch (end, other) {
            case (.address(let a), _):
                return a
            case (.pod(let pod), .address(let a)):
                guard let ip = pod.ip(of: a.family) else {
                    throw ConnectionQueryError(
                        message: "pod \(pod.namespace)/\(pod.name) has no \(a.family) address to reach \(a)")
                }
                return ip
            case (.pod(let pod), .pod(let otherPod)):
                // Both pods: the primary addresses, or IPv4 ... the first family they share.
                if let primary = pod.primaryIP, otherPod.ip(of: primary.family) != nil { return primary }
                if let shared = pod.ips.first(where: { otherPod.ip(of: $0.family) != nil }) { return shared }
                throw ConnectionQueryError(
                    message: "pods \(pod.namespace)/\(pod.name) and \(otherPod.namespace)/\(otherPod.name) share no address family")
            }
        }
        let source = try address(from, other: to)
        var destination = try address(to, other: from)
        if case .pod(let pod) = to, destination.family != source.family, let same = pod.ip(of: source.family) {
            destination = same
        }
        guard source.family == destination.family else {
            throw ConnectionQueryError(message: "\(source) and \(destination) are of different address families")
        }
        var flowTransport = transport
        if transport == .icmp && source.family == .ipv6 { flowTransport = .icmpv6 }
        return FlowKey(
            source: source, destination: destination, transport: flowTransport,
            destinationPort: flowTransport.hasPorts ? query.port ?? 0 : 0, icmpType: flowTransport.hasPorts ? 0 : 8)
    }
}
