import NetworkTypes
import PolicyModel
import TollgateBench

/// A small random cluster, named by its seed, built to hit the corners of NetworkPolicy rather than to look real
/// (`SyntheticCluster` does that): a label alphabet of three keys and three values so that selectors collide, every
/// `matchExpressions` operator, empty selectors, pod and namespace selectors in one peer and as two peers, nested
/// and overlapping `ipBlock` exceptions in both families, blocks that cover pod addresses or equal them (/32,
/// /128), named ports that a destination has, lacks, or has for another protocol, port ranges, protocol-only
/// ports, rules without ports, every `policyTypes` combination (including none and `[]`), host-network, finished
/// and address-less pods, pods sharing an address, dual-stack pods, and addresses outside every pod.
///
/// The objects are what the manifest loader accepts (it rejects, for example, exceptions outside the CIDR), so a
/// disagreement is a bug of the engine, not of its input.
struct CornerCaseCluster: Sendable {
    let seed: UInt64
    let state: ClusterState
    /// Connections to ask about: mostly pod and block-boundary addresses, TCP/UDP/SCTP/ICMP and others.
    let queries: [FlowKey]

    static let labelKeys = ["a", "b", "c"]
    static let labelValues = ["1", "2", ""]
    static let namespaceNames = ["n0", "n1", "n2", "n3"]
    /// Pod addresses come from these small pools, so pods often share one.
    static let podAddressesV4: [IPAddress] = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
        "10.0.1.1", "10.0.1.2"].map { IPAddress($0)! }
    static let podAddressesV6: [IPAddress] = ["fd00::1", "fd00::2", "fd00::3", "fd00::4", "fd00::5", "fd00::6",
        "fd00:0:0:1::1", "fd00:0:0:1::2"].map { IPAddress($0)! }
    static let outsideV4: [IPAddress] = ["10.0.0.7", "10.0.0.200", "10.0.2.1", "192.0.2.1", "8.8.8.8", "0.0.0.0",
        "255.255.255.255", "10.255.255.255", "11.0.0.0", "9.255.255.255"].map { IPAddress($0)! }
    static let outsideV6: [IPAddress] = ["fd00::7", "fd00::ffff", "fd01::1", "2001:db8::1", "::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00:0:0:1::ffff",
        "::ffff:10.0.0.1"].map { IPAddress($0)! }
    static let blockCIDRsV4: [IPPrefix] = ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.0/29",
        "10.0.0.4/30", "10.0.0.0/31", "10.0.1.0/24", "192.0.2.0/24", "10.0.0.0/7"].map { IPPrefix($0)! }
    static let blockCIDRsV6: [IPPrefix] = ["::/0", "fd00::/8", "fd00::/16", "fd00::/64", "fd00::/125", "fd00::4/126",
        "fd00::/127", "fd00:0:0:1::/64", "2001:db8::/32", "fc00::/7"].map { IPPrefix($0)! }
    /// Container ports: one name on several numbers and protocols, an unnamed port, SCTP.
    static let containerPorts: [ContainerPort] = [
        ContainerPort(name: "http", port: 80), ContainerPort(name: "http", port: 8080),
        ContainerPort(name: "http", port: 8080, protocol: .udp), ContainerPort(name: "dns", port: 53, protocol: .udp),
        ContainerPort(name: "dns", port: 5353), ContainerPort(name: "metrics", port: 9090),
        ContainerPort(name: nil, port: 22), ContainerPort(name: "s", port: 7000, protocol: .sctp),
        ContainerPort(name: "http", port: 81, protocol: .sctp),
    ]
    static let portNames = ["http", "dns", "metrics", "s", "absent"]
    static let portNumbers: [UInt16] = [1, 22, 53, 80, 81, 443, 5353, 7000, 8080, 9090, 65535]

    /// Node addresses: their own, and one that a pod also claims.
    static let nodeAddresses: [IPAddress] = ["10.0.3.1", "10.0.3.2", "fd00:0:0:3::1", "fd00:0:0:3::2", "10.0.0.6"]
        .map { IPAddress($0)! }
    /// Admin priorities from a small pool, so that ties happen.
    static let priorities = [0, 1, 1, 5, 1000]

    /// With `tiers`, the cluster also gets nodes, AdminNetworkPolicies and often a BaselineAdminNetworkPolicy
    /// (drawn after everything else, so the NetworkPolicy-only clusters of a seed stay the same).
    init(seed: UInt64, queries queryCount: Int, tiers: Bool = false) {
        self.seed = seed
        var draw = CornerCaseDraw(random: SeededGenerator(seed: seed))
        var namespaces: [Namespace] = []
        for name in Self.namespaceNames where draw.chance(70) {
            namespaces.append(Namespace(name: name, labels: draw.labels()))
        }
        var pods: [Pod] = []
        for index in 0..<draw.int(0...10) {
            pods.append(draw.pod(name: "p\(index)"))
        }
        var policies: [NetworkPolicy] = []
        for index in 0..<draw.int(0...6) {
            policies.append(draw.policy(name: "np\(index)"))
        }
        var nodes: [ClusterNode] = []
        var adminPolicies: [AdminNetworkPolicy] = []
        if tiers {
            // Pods run on "node", so host-network pods take its addresses.
            for index in 0..<draw.int(0...3) { nodes.append(draw.node(name: index == 0 ? "node" : "node\(index)")) }
            for index in 0..<draw.int(0...4) { adminPolicies.append(draw.adminPolicy(name: "anp\(index)", baseline: false)) }
            if draw.chance(60) { adminPolicies.append(draw.adminPolicy(name: "default", baseline: true)) }
            // ClusterNetworkPolicies (v1alpha2) of either tier, sometimes named like an AdminNetworkPolicy so that
            // ties fall back to the kind.
            for index in 0..<draw.int(0...3) {
                adminPolicies.append(draw.clusterPolicy(name: draw.chance(25) ? "anp\(index)" : "cnp\(index)"))
            }
        }
        state = ClusterState(
            namespaces: namespaces, pods: pods, networkPolicies: policies, adminPolicies: adminPolicies, nodes: nodes)
        queries = draw.queries(queryCount, state: state)
    }
}

/// The random choices behind a `CornerCaseCluster`.
private struct CornerCaseDraw {
    var random: SeededGenerator

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func labels() -> [String: String] {
        var result: [String: String] = [:]
        for key in CornerCaseCluster.labelKeys where chance(50) { result[key] = pick(CornerCaseCluster.labelValues) }
        return result
    }

    mutating func pod(name: String) -> Pod {
        // Pods may live in a namespace no manifest declares.
        let namespace = chance(90) ? pick(CornerCaseCluster.namespaceNames) : "n4"
        let phaseRoll = int(0...99)
        let phase: PodPhase? =
            phaseRoll < 60 ? .running : phaseRoll < 70 ? nil : phaseRoll < 80 ? .pending : phaseRoll < 85 ? .unknown
            : phaseRoll < 93 ? .succeeded : .failed
        var ips: [IPAddress] = []
        let familyRoll = int(0...99)
        let v4 = pick(CornerCaseCluster.podAddressesV4)
        let v6 = pick(CornerCaseCluster.podAddressesV6)
        if familyRoll < 45 {
            ips = [v4]
        } else if familyRoll < 60 {
            ips = [v6]
        } else if familyRoll < 75 {
            ips = [v4, v6]
        } else if familyRoll < 90 {
            ips = [v6, v4]
        }
        var ports: [ContainerPort] = []
        for port in CornerCaseCluster.containerPorts where chance(30) { ports.append(port) }
        if chance(20) { ports.shuffle(using: &random) }
        return Pod(
            namespace: namespace, name: name, labels: labels(), nodeName: "node", hostNetwork: chance(8),
            containerPorts: ports, phase: phase, ips: ips)
    }

    mutating func selector(namespaceNames: Bool = false) -> LabelSelector {
        if chance(25) { return .everything }
        var matchLabels: [String: String] = [:]
        for _ in 0..<int(0...2) { matchLabels[pick(CornerCaseCluster.labelKeys)] = pick(CornerCaseCluster.labelValues) }
        var expressions: [LabelSelectorRequirement] = []
        for _ in 0..<int(0...2) {
            let op = pick(LabelSelectorRequirement.Operator.allCases)
            if namespaceNames && chance(30) {
                expressions.append(
                    LabelSelectorRequirement(
                        key: Namespace.nameLabel, operator: op,
                        values: op == .in || op == .notIn ? [pick(CornerCaseCluster.namespaceNames), "n4"] : []))
                continue
            }
            var values: [String] = []
            if op == .in || op == .notIn {
                for _ in 0..<int(0...2) { values.append(pick(CornerCaseCluster.labelValues)) }
            }
            expressions.append(LabelSelectorRequirement(key: pick(CornerCaseCluster.labelKeys), operator: op, values: values))
        }
        return LabelSelector(matchLabels: matchLabels, matchExpressions: expressions)
    }

    /// A CIDR with 0 to 3 exceptions strictly inside it, often around pod addresses, often nested or overlapping.
    mutating func ipBlock() -> IPBlock {
        let family: AddressFamily = chance(60) ? .ipv4 : .ipv6
        let width = family.bitWidth
        let pool = family == .ipv4 ? CornerCaseCluster.podAddressesV4 : CornerCaseCluster.podAddressesV6
        let cidr: IPPrefix
        let cidrRoll = int(0...99)
        if cidrRoll < 20 {
            cidr = IPPrefix(host: pick(pool))  // exactly a pod's address
        } else if cidrRoll < 30 {
            cidr = IPPrefix(address: pick(pool), length: int(0...width))!
        } else {
            cidr = pick(family == .ipv4 ? CornerCaseCluster.blockCIDRsV4 : CornerCaseCluster.blockCIDRsV6)
        }
        var excepts: [IPPrefix] = []
        if cidr.length < width {
            for _ in 0..<int(0...3) {
                let length = chance(40) ? width : int((cidr.length + 1)...width)
                let hostMask = ~IPPrefix.mask(length: cidr.length, family: family)
                    & (width == 128 ? ~UInt128(0) : UInt128(UInt32.max))
                var inside: IPAddress
                let insideRoll = int(0...99)
                if insideRoll < 60, let pod = pool.filter({ cidr.contains($0) }).randomElement(using: &random) {
                    inside = pod
                } else if insideRoll < 75, let previous = excepts.last {
                    inside = previous.address  // nested in or around the previous exception
                } else {
                    let noise = UInt128(random.next()) << 64 | UInt128(random.next())
                    inside = IPAddress(family: family, bits: cidr.address.bits | noise & hostMask)
                }
                excepts.append(IPPrefix(address: inside, length: length)!)
            }
        }
        return IPBlock(cidr: cidr, except: excepts)
    }

    mutating func peer() -> NetworkPolicyPeer {
        let roll = int(0...99)
        if roll < 30 { return .selector(pods: selector(), namespaces: nil) }
        if roll < 50 { return .selector(pods: nil, namespaces: selector(namespaceNames: true)) }
        if roll < 65 { return .selector(pods: selector(), namespaces: selector(namespaceNames: true)) }
        return .ipBlock(ipBlock())
    }

    mutating func port() -> NetworkPolicyPort {
        let transport: TransportProtocol = chance(50) ? .tcp : pick([.udp, .sctp])
        let roll = int(0...99)
        if roll < 20 { return NetworkPolicyPort(protocol: transport) }
        if roll < 60 { return NetworkPolicyPort(protocol: transport, port: .number(pick(CornerCaseCluster.portNumbers))) }
        if roll < 75 {
            let start = pick(CornerCaseCluster.portNumbers)
            let end = chance(20) ? 65535 : UInt16(min(65535, Int(start) + int(0...50)))
            return NetworkPolicyPort(protocol: transport, port: .number(start), endPort: end)
        }
        return NetworkPolicyPort(protocol: transport, port: .name(pick(CornerCaseCluster.portNames)))
    }

    mutating func rules() -> [NetworkPolicyRule] {
        var result: [NetworkPolicyRule] = []
        for _ in 0..<int(0...3) {
            if chance(10) {
                result.append(NetworkPolicyRule())
                continue
            }
            var peers: [NetworkPolicyPeer] = []
            if chance(75) { for _ in 0..<int(1...3) { peers.append(peer()) } }
            var ports: [NetworkPolicyPort] = []
            if chance(60) { for _ in 0..<int(1...3) { ports.append(port()) } }
            result.append(NetworkPolicyRule(peers: peers, ports: ports))
        }
        return result
    }

    mutating func policy(name: String) -> NetworkPolicy {
        let typesRoll = int(0...99)
        let types: PolicyTypes? =
            typesRoll < 40 ? nil : typesRoll < 55 ? [.ingress] : typesRoll < 70 ? [.egress]
            : typesRoll < 90 ? [.ingress, .egress] : []
        // Rules of a direction the types leave out are generated too: they must be ignored.
        let ingress = types == nil || types!.contains(.ingress) || chance(20) ? rules() : []
        let egress = types == nil || types!.contains(.egress) || chance(20) ? rules() : []
        return NetworkPolicy(
            namespace: pick(CornerCaseCluster.namespaceNames), name: name, podSelector: selector(),
            policyTypes: types, ingress: ingress, egress: egress)
    }

    mutating func node(name: String) -> ClusterNode {
        var addresses: [IPAddress] = []
        for _ in 0..<int(0...2) { addresses.append(pick(CornerCaseCluster.nodeAddresses)) }
        return ClusterNode(name: name, labels: labels(), addresses: addresses)
    }

    mutating func adminPolicy(name: String, baseline: Bool) -> AdminNetworkPolicy {
        // The baseline applies only where no NetworkPolicy isolates: give it a wide subject often.
        let subject: AdminPolicySubject =
            baseline && chance(50)
            ? .namespaces(.everything)
            : chance(50)
            ? .namespaces(selector(namespaceNames: true))
            : .pods(namespaces: selector(namespaceNames: true), pods: selector())
        var ingress: [AdminPolicyRule] = []
        var egress: [AdminPolicyRule] = []
        for index in 0..<int(0...3) { ingress.append(adminRule(name: "in\(index)", ingress: true, baseline: baseline)) }
        for index in 0..<int(0...3) { egress.append(adminRule(name: "out\(index)", ingress: false, baseline: baseline)) }
        return AdminNetworkPolicy(
            kind: baseline ? .baselineAdminNetworkPolicy : .adminNetworkPolicy, name: name,
            priority: baseline ? 0 : pick(CornerCaseCluster.priorities), subject: subject, ingress: ingress,
            egress: egress)
    }

    /// A ClusterNetworkPolicy of a random tier and priority (from the pool the AdminNetworkPolicies use), with
    /// Accept, Deny and Pass in both tiers; now and then an egress rule whose only peers were `domainNames`, which
    /// the loader keeps as a rule without peers (it matches nothing).
    mutating func clusterPolicy(name: String) -> AdminNetworkPolicy {
        let tier: PolicyTier = chance(50) ? .admin : .baseline
        let subject: AdminPolicySubject =
            chance(50)
            ? .namespaces(selector(namespaceNames: true))
            : .pods(namespaces: selector(namespaceNames: true), pods: selector())
        var ingress: [AdminPolicyRule] = []
        var egress: [AdminPolicyRule] = []
        for index in 0..<int(0...3) { ingress.append(adminRule(name: "in\(index)", ingress: true, baseline: false)) }
        for index in 0..<int(0...3) {
            let rule = adminRule(name: "out\(index)", ingress: false, baseline: false)
            egress.append(
                chance(10) ? AdminPolicyRule(name: rule.name, action: .allow, peers: [], ports: rule.ports) : rule)
        }
        return AdminNetworkPolicy(
            kind: .clusterNetworkPolicy, name: name, tier: tier, priority: pick(CornerCaseCluster.priorities),
            subject: subject, ingress: ingress, egress: egress)
    }

    /// A rule the loader accepts: 1 to 3 peers (nodes and networks for egress only), ports or none, and no named
    /// port beside a nodes or networks peer.
    mutating func adminRule(name: String, ingress: Bool, baseline: Bool) -> AdminPolicyRule {
        let action: AdminPolicyAction = baseline ? pick([.allow, .deny]) : pick([.allow, .deny, .pass])
        var peers: [AdminPolicyPeer] = []
        for _ in 0..<int(1...3) {
            let roll = int(0...(ingress ? 59 : 99))
            if roll < 30 {
                peers.append(.namespaces(selector(namespaceNames: true)))
            } else if roll < 60 {
                peers.append(.pods(namespaces: selector(namespaceNames: true), pods: selector()))
            } else if roll < 75 {
                peers.append(.nodes(selector()))
            } else {
                var prefixes: [IPPrefix] = []
                for _ in 0..<int(1...2) { prefixes.append(ipBlock().cidr) }
                peers.append(.networks(prefixes))
            }
        }
        let addressPeers = peers.contains {
            switch $0 {
            case .nodes, .networks: return true
            default: return false
            }
        }
        var ports: [AdminPolicyPort]?
        if chance(55) {
            var list: [AdminPolicyPort] = []
            for _ in 0..<int(1...3) {
                let transport: TransportProtocol = chance(50) ? .tcp : pick([.udp, .sctp])
                let roll = int(0...99)
                if roll < 45 {
                    list.append(.number(transport, pick(CornerCaseCluster.portNumbers)))
                } else if roll < 75 || addressPeers {
                    let start = pick(CornerCaseCluster.portNumbers.dropLast())
                    list.append(.range(transport, start, UInt16(min(65535, Int(start) + int(1...60)))))
                } else {
                    list.append(.named(pick(CornerCaseCluster.portNames)))
                }
            }
            ports = list
        }
        return AdminPolicyRule(name: name, action: action, peers: peers, ports: ports)
    }

    /// Every address a query may use, per family: pod addresses (of all pods, endpoints or not), addresses outside
    /// every pod, and the first and last address of every block CIDR and exception and their neighbours.
    func addressUniverse(_ state: ClusterState) -> [AddressFamily: [IPAddress]] {
        var result: [AddressFamily: Set<IPAddress>] = [
            .ipv4: Set(CornerCaseCluster.outsideV4), .ipv6: Set(CornerCaseCluster.outsideV6),
        ]
        for pod in state.pods {
            for ip in pod.ips { result[ip.family, default: []].insert(ip) }
        }
        for policy in state.networkPolicies {
            for rule in policy.ingress + policy.egress {
                for case .ipBlock(let block) in rule.peers {
                    for prefix in [block.cidr] + block.except {
                        let family = prefix.family
                        let all: UInt128 = family == .ipv4 ? UInt128(UInt32.max) : ~0
                        let first = prefix.address.bits
                        let last = first | (~IPPrefix.mask(length: prefix.length, family: family) & all)
                        for bits in [first, last, (first &- 1) & all, (last &+ 1) & all] {
                            result[family, default: []].insert(IPAddress(family: family, bits: bits))
                        }
                    }
                }
            }
        }
        if !state.nodes.isEmpty || !state.adminPolicies.isEmpty {
            for address in CornerCaseCluster.nodeAddresses { result[address.family, default: []].insert(address) }
        }
        for policy in state.adminPolicies {
            for rule in policy.egress {
                for case .networks(let prefixes) in rule.peers {
                    for prefix in prefixes {
                        let family = prefix.family
                        let all: UInt128 = family == .ipv4 ? UInt128(UInt32.max) : ~0
                        let first = prefix.address.bits
                        let last = first | (~IPPrefix.mask(length: prefix.length, family: family) & all)
                        for bits in [first, last, (first &- 1) & all, (last &+ 1) & all] {
                            result[family, default: []].insert(IPAddress(family: family, bits: bits))
                        }
                    }
                }
            }
        }
        return result.mapValues { $0.sorted() }
    }

    mutating func queries(_ count: Int, state: ClusterState) -> [FlowKey] {
        let universe = addressUniverse(state)
        var ports = Set(CornerCaseCluster.portNumbers)
        for port in CornerCaseCluster.containerPorts { ports.insert(port.port) }
        for policy in state.networkPolicies {
            for rule in policy.ingress + policy.egress {
                for port in rule.ports {
                    guard case .number(let start) = port.port else { continue }
                    let end = port.endPort ?? start
                    for candidate in [Int(start) - 1, Int(start), Int(end), Int(end) + 1] where (1...65535).contains(candidate) {
                        ports.insert(UInt16(candidate))
                    }
                }
            }
        }
        for policy in state.adminPolicies {
            for rule in policy.ingress + policy.egress {
                for port in rule.ports ?? [] {
                    let bounds: [UInt16]
                    switch port {
                    case .number(_, let number): bounds = [number, number]
                    case .range(_, let start, let end): bounds = [start, end]
                    case .named: bounds = []
                    }
                    for candidate in bounds.flatMap({ [Int($0) - 1, Int($0), Int($0) + 1] }) where (1...65535).contains(candidate) {
                        ports.insert(UInt16(candidate))
                    }
                }
            }
        }
        let portList = ports.sorted()
        let endpointAddresses = Dictionary(grouping: state.pods.filter(\.isEndpoint).flatMap(\.ips), by: \.family)
        var result: [FlowKey] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let family: AddressFamily = chance(65) ? .ipv4 : .ipv6
            let addresses = universe[family] ?? []
            let podAddresses = endpointAddresses[family] ?? []
            // Half the ends are pod addresses, so that isolated pods are asked about often.
            let source = chance(50) && !podAddresses.isEmpty ? pick(podAddresses) : pick(addresses)
            let destination = chance(50) && !podAddresses.isEmpty ? pick(podAddresses) : pick(addresses)
            let roll = int(0...99)
            let transport: IPProtocol =
                roll < 45 ? .tcp : roll < 65 ? .udp : roll < 80 ? .sctp : roll < 95 ? (family == .ipv4 ? .icmp : .icmpv6)
                : pick([IPProtocol(rawValue: 47), .icmp, .icmpv6, IPProtocol(rawValue: 0)])
            if transport.hasPorts {
                let port = chance(90) ? pick(portList) : UInt16(int(0...65535))
                result.append(
                    FlowKey(
                        source: source, destination: destination, transport: transport,
                        sourcePort: UInt16(int(1024...65535)), destinationPort: port))
            } else {
                result.append(
                    FlowKey(
                        source: source, destination: destination, transport: transport,
                        icmpType: chance(80) ? 8 : UInt8(int(0...255))))
            }
        }
        return result
    }
}
