import NetworkTypes

/// The transport protocols NetworkPolicy names.
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// The IP protocol number.
    public var ipProtocol: IPProtocol {
        switch self {
        case .tcp: return .tcp
        case .udp: return .udp
        case .sctp: return .sctp
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(ipProtocol.rawValue) }

    public init?(ipProtocol: IPProtocol) {
        switch ipProtocol {
        case .tcp: self = .tcp
        case .udp: self = .udp
        case .sctp: self = .sctp
        default: return nil
        }
    }
}

/// Identifies an object: kind, namespace (empty for cluster-scoped kinds) and name.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let kind: String
    public let namespace: String
    public let name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.kind, lhs.namespace, lhs.name) < (rhs.kind, rhs.namespace, rhs.name)
    }

    /// `Kind namespace/name`, or `Kind name` for cluster-scoped objects.
    public var description: String {
        namespace.isEmpty ? "\(kind) \(name)" : "\(kind) \(namespace)/\(name)"
    }
}

/// Whether denials in a namespace are enforced or only audited (logged and counted, but let through), set with
/// the namespace annotation `tollgate.io/enforcement: audit`.
public enum EnforcementMode: String, Hashable, Sendable {
    case enforce
    case audit

    /// The namespace annotation that selects the mode.
    public static let annotation = "tollgate.io/enforcement"
}

/// A Kubernetes Namespace: its name, labels and enforcement mode. The labels always include
/// `kubernetes.io/metadata.name=<name>`, as the API server sets it.
public struct Namespace: Hashable, Sendable {
    public static let nameLabel = "kubernetes.io/metadata.name"

    public let name: String
    public let labels: Labels
    public let enforcement: EnforcementMode

    public init(name: String, labels: [String: String] = [:], enforcement: EnforcementMode = .enforce) {
        self.name = name
        var all = labels
        all[Namespace.nameLabel] = name
        self.labels = Labels(all)
        self.enforcement = enforcement
    }

    public var key: ObjectKey { ObjectKey(kind: "Namespace", namespace: "", name: name) }
}

/// A port a container declares (`spec.containers[].ports[]`), the target of named ports.
public struct ContainerPort: Hashable, Sendable {
    public let name: String?
    public let port: UInt16
    public let `protocol`: TransportProtocol

    public init(name: String?, port: UInt16, protocol: TransportProtocol = .tcp) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }
}

/// The lifecycle phase of a pod (`status.phase`).
public enum PodPhase: String, Hashable, Sendable {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
}

/// The fields of a Pod that policy needs.
public struct Pod: Hashable, Sendable {
    public let namespace: String
    public let name: String
    public let labels: Labels
    public let nodeName: String?
    public let hostNetwork: Bool
    public let containerPorts: [ContainerPort]
    /// A hash of `containerPorts`, computed once: compiles group pods by labels and ports.
    public let containerPortsHash: Int
    public let phase: PodPhase?
    /// `status.podIPs` (with `status.podIP` first when present), without duplicates.
    public let ips: [IPAddress]

    public init(
        namespace: String, name: String, labels: [String: String] = [:], nodeName: String? = nil,
        hostNetwork: Bool = false, containerPorts: [ContainerPort] = [], phase: PodPhase? = .running,
        ips: [IPAddress] = []
    ) {
        self.init(
            namespace: namespace, name: name, labels: Labels(labels), nodeName: nodeName, hostNetwork: hostNetwork,
            containerPorts: containerPorts, phase: phase, ips: ips)
    }

    public init(
        namespace: String, name: String, labels: Labels, nodeName: String?, hostNetwork: Bool,
        containerPorts: [ContainerPort], phase: PodPhase?, ips: [IPAddress]
    ) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.containerPorts = containerPorts
        var hasher = Hasher()
        hasher.combine(containerPorts)
        containerPortsHash = hasher.finalize()
        self.phase = phase
        var seen = Set<IPAddress>()
        self.ips = ips.filter { seen.insert($0).inserted }
    }

    /// Whether the pod owns its addresses for policy: not host-network, has an address, and is not finished
    /// (a Succeeded or Failed pod's address may already belong to another pod).
    public var isEndpoint: Bool {
        !hostNetwork && !ips.isEmpty && phase != .succeeded && phase != .failed
    }

    /// The primary address (`status.podIP`).
    public var primaryIP: IPAddress? { ips.first }

    /// The pod's address of `family`, if it has one.
    public func ip(of family: AddressFamily) -> IPAddress? { ips.first { $0.family == family } }

    public var key: ObjectKey { ObjectKey(kind: "Pod", namespace: namespace, name: name) }

    /// Resolves a named port against this pod's container ports for `protocol`.
    public func resolve(portName: String, protocol: TransportProtocol) -> UInt16? {
        containerPorts.first { $0.name == portName && $0.protocol == `protocol` }?.port
    }
}

/// The directions a NetworkPolicy isolates (`spec.policyTypes`).
public struct PolicyTypes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ingress = PolicyTypes(rawValue: 1)
    public static let egress = PolicyTypes(rawValue: 2)
}

/// The port part of a NetworkPolicy port entry: a number or a container port name.
public enum PortSelector: Hashable, Sendable, CustomStringConvertible {
    case number(UInt16)
    case name(String)

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .name(let s): return s
        }
    }
}

/// One `ports` entry of a NetworkPolicy rule.
public struct NetworkPolicyPort: Hashable, Sendable, CustomStringConvertible {
    public let `protocol`: TransportProtocol
    /// Nil means every port of the protocol.
    public let port: PortSelector?
    /// The last port of a range starting at `port` (which is then a number).
    public let endPort: UInt16?

    public init(protocol: TransportProtocol = .tcp, port: PortSelector? = nil, endPort: UInt16? = nil) {
        self.protocol = `protocol`
        self.port = port
        self.endPort = endPort
    }

    public var description: String {
        switch (port, endPort) {
        case (nil, _): return "\(`protocol`.rawValue)/*"
        case (.some(let p), nil): return "\(`protocol`.rawValue)/\(p)"
        case (.some(let p), .some(let e)): return "\(`protocol`.rawValue)/\(p)-\(e)"
        }
    }
}

/// An `ipBlock` peer: a CIDR with holes.
public struct IPBlock: Hashable, Sendable, CustomStringConvertible {
    public let cidr: IPPrefix
    public let except: [IPPrefix]

    public init(cidr: IPPrefix, except: [IPPrefix] = []) {
        self.cidr = cidr
        self.except = except
    }

    /// Whether `address` is inside the CIDR and outside every exception.
    public func contains(_ address: IPAddress) -> Bool {
        cidr.contains(address) && !except.contains { $0.contains(address) }
    }

    public var description: String {
        except.isEmpty ? cidr.description : "\(cidr) except \(except.map(\.description).joined(separator: ","))"
    }
}

/// One entry of a rule's `from` or `to` list.
public enum NetworkPolicyPeer: Hashable, Sendable, CustomStringConvertible {
    /// `podSelector` and/or `namespaceSelector`. A nil namespace selector means the policy's own namespace;
    /// a nil pod selector means every pod of the selected namespaces.
    case selector(pods: LabelSelector?, namespaces: LabelSelector?)
    case ipBlock(IPBlock)

    public var description: String {
        switch self {
        case .selector(let pods, let namespaces):
            switch (pods, namespaces) {
            case (let p?, nil): return "pods(\(p)) in own namespace"
            case (nil, let n?): return "namespaces(\(n))"
            case (let p?, let n?): return "pods(\(p)) in namespaces(\(n))"
            case (nil, nil): return "nothing"
            }
        case .ipBlock(let block): return "ipBlock(\(block))"
        }
    }
}

/// One ingress or egress rule: traffic from/to any of `peers` on any of `ports`.
/// An empty peer list matches every peer; an empty port list matches every port and protocol.
public struct NetworkPolicyRule: Hashable, Sendable {
    public let peers: [NetworkPolicyPeer]
    public let ports: [NetworkPolicyPort]

    public init(peers: [NetworkPolicyPeer] = [], ports: [NetworkPolicyPort] = []) {
        self.peers = peers
        self.ports = ports
    }
}

/// A networking.k8s.io/v1 NetworkPolicy, defaulted as the API server does.
public struct NetworkPolicy: Hashable, Sendable {
    public let namespace: String
    public let name: String
    public let podSelector: LabelSelector
    public let policyTypes: PolicyTypes
    public let ingress: [NetworkPolicyRule]
    public let egress: [NetworkPolicyRule]

    /// `policyTypes` nil applies the API server's default: Ingress, plus Egress when there are egress rules.
    public init(
        namespace: String, name: String, podSelector: LabelSelector = .everything, policyTypes: PolicyTypes? = nil,
        ingress: [NetworkPolicyRule] = [], egress: [NetworkPolicyRule] = []
    ) {
        self.namespace = namespace
        self.name = name
        self.podSelector = podSelector
        self.policyTypes = policyTypes ?? (egress.isEmpty ? [.ingress] : [.ingress, .egress])
        self.ingress = ingress
        self.egress = egress
    }

    public var key: ObjectKey { ObjectKey(kind: "NetworkPolicy", namespace: namespace, name: name) }
}
