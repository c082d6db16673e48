/// A `ports` entry of an admin-tier or baseline rule (`AdminNetworkPolicyPort`): exactly one of a port number, a
/// container port name, or an inclusive port range.
public enum AdminPolicyPort: Hashable, Sendable, CustomStringConvertible {
    /// `portNumber: {protocol, port}`.
    case number(TransportProtocol, UInt16)
    /// `namedPort`: the destination pod's container port of that name, with its own protocol.
    case named(String)
    /// `portRange: {protocol, start, end}`, inclusive.
    case range(TransportProtocol, UInt16, UInt16)

    public var description: String {
        switch self {
        case .number(let proto, let port): return "\(proto.rawValue)/\(port)"
        case .named(let name): return name
        case .range(let proto, let start, let end): return "\(proto.rawValue)/\(start)-\(end)"
        }
    }
}
