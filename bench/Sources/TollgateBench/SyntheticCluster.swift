import NetworkTypes
import PolicyModel

/// Generates clusters that look like real ones: namespaces owned by teams, deployments whose replicas share
/// labels and named ports, dual-stack addresses, and policies mixing every NetworkPolicy feature (default deny,
/// pod and namespace selectors alone and together, matchExpressions, named ports, port ranges, ipBlock with
/// except, egress to DNS and to the internet). With `adminPolicies`, it adds a mixed workload of cluster-wide
/// policies (`SyntheticAdminPolicies`): AdminNetworkPolicies of every action and peer kind, one
/// BaselineAdminNetworkPolicy, and a Node per 250 pods.
public struct SyntheticCluster: Sendable {
    public let state: ClusterState
    /// Connections to ask about: pod to pod, outside to pod, pod to outside; TCP, UDP, SCTP and ICMP.
    public let queries: [FlowKey]

    public static let tiers = ["web", "api", "db", "cache", "worker"]
    public static let teams = (0..<10).map { "team-\($0)" }

    public init(
        pods podCount: Int, policies policyCount: Int, adminPolicies adminCount: Int = 0, queries queryCount: Int = 1 << 16,
        seed: UInt64
    ) {
        var random = SeededGenerator(seed: seed)
        let namespaceCount = max(3, podCount / 1000)
        var namespaces: [Namespace] = []
        for index in 0..<namespaceCount {
            namespaces.append(
                Namespace(
                    name: "ns-\(index)",
                    labels: [
                        "team": SyntheticCluster.teams[index % SyntheticCluster.teams.count],
                        "env": ["prod", "staging", "dev"][index % 3],
                    ]))
        }
        // Deployments of 1 to 19 replicas; addresses from 10.0.0.0/8 in node-sized /24 blocks, and a third of the
        // pods dual-stack in fd00::/64.
        var pods: [Pod] = []
        var apps: [[String]] = Array(repeating: [], count: namespaceCount)
        var deployment = 0
        while pods.count < podCount {
            let namespace = Int.random(in: 0..<namespaceCount, using: &random)
            let app = "app-\(deployment)"
            apps[namespace].append(app)
            let tier = SyntheticCluster.tiers[deployment % SyntheticCluster.tiers.count]
            var ports = [ContainerPort(name: "http", port: 8080), ContainerPort(name: "metrics", port: 9090)]
            if tier == "db" { ports.append(ContainerPort(name: "sql", port: 5432)) }
            if deployment % 7 == 0 { ports.append(ContainerPort(name: "dns", port: 53, protocol: .udp)) }
            let replicas = min(Int.random(in: 1...19, using: &random), podCount - pods.count)
            for replica in 0..<replicas {
                let index = pods.count
                let v4 = IPAddress.v4(IPv4Address(rawValue: 0x0A00_0000 | UInt32(index / 250) << 8 | UInt32(index % 250 + 2)))
                var ips = [v4]
                if index % 3 == 0 { ips.append(.v6(IPv6Address(rawValue: (UInt128(0xFD00) << 112) | UInt128(index + 2)))) }
                pods.append(
                    Pod(
                        namespace: "ns-\(namespace)", name: "\(app)-\(replica)",
                        labels: [
                            "app": app, "tier": tier, "version": "v\(deployment % 3 + 1)",
                            "pod-template-hash": String(UInt32(truncatingIfNeeded: deployment &* 2_654_435_761), radix: 16),
                        ],
                        nodeName: "node-\(index / 250)", containerPorts: ports, ips: ips))
            }
            deployment += 1
        }
        let blocks: [IPBlock] = [
            IPBlock(cidr: IPPrefix("0.0.0.0/0")!, except: [IPPrefix("169.254.169.254/32")!, IPPrefix("10.0.0.0/8")!]),
            IPBlock(cidr: IPPrefix("10.0.0.0/8")!, except: [IPPrefix("10.0.128.0/17")!]),
            IPBlock(cidr: IPPrefix("192.168.0.0/16")!),
            IPBlock(cidr: IPPrefix("172.16.0.0/12")!, except: [IPPrefix("172.16.1.0/24")!]),
            IPBlock(cidr: IPPrefix("fd00::/64")!, except: [IPPrefix("fd00::/100")!]),
            IPBlock(cidr: IPPrefix("2001:db8::/32")!),
        ]
        var policies: [NetworkPolicy] = []
        for index in 0..<policyCount {
            let namespace = index % namespaceCount
            let nsName = "ns-\(namespace)"
            let ownApps = apps[namespace]
            func someApp() -> String {
                ownApps.isEmpty ? "none" : ownApps[Int.random(in: 0..<ownApps.count, using: &random)]
            }
            let kind = Int.random(in: 0..<10, using: &random)
            let name = "policy-\(index)"
            switch kind {
            case 0:
                policies.append(NetworkPolicy(namespace: nsName, name: name, policyTypes: [.ingress]))
            case 1:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["app": someApp()]),
                        ingress: [
                            NetworkPolicyRule(
                                peers: [.selector(pods: LabelSelector(matchLabels: ["app": someApp()]), namespaces: nil)],
                                ports: [NetworkPolicyPort(port: .name("http"))])
                        ]))
            case 2:
                let team = SyntheticCluster.teams[Int.random(in: 0..<SyntheticCluster.teams.count, using: &random)]
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["tier": "api"]),
                        ingress: [
                            NetworkPolicyRule(
                                peers: [.selector(pods: nil, namespaces: LabelSelector(matchLabels: ["team": team]))],
                                ports: [NetworkPolicyPort(port: .number(8080)), NetworkPolicyPort(port: .number(9090))])
                        ]))
            case 3:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["tier": "db"]),
                        ingress: [
                            NetworkPolicyRule(
                                peers: [
                                    .selector(
                                        pods: LabelSelector(matchLabels: ["tier": "api"]),
                                        namespaces: LabelSelector(matchLabels: ["env": "prod"]))
                                ],
                                ports: [NetworkPolicyPort(port: .name("sql"))])
                        ]))
            case 4:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name,
                        podSelector: LabelSelector(matchExpressions: [
                            LabelSelectorRequirement(key: "tier", operator: .in, values: ["web", "api"]),
                            LabelSelectorRequirement(key: "version", operator: .notIn, values: ["v3"]),
                        ]),
                        ingress: [
                            NetworkPolicyRule(
                                peers: [.ipBlock(blocks[Int.random(in: 0..<blocks.count, using: &random)])],
                                ports: [NetworkPolicyPort(port: .number(8000), endPort: 8100)])
                        ]))
            case 5:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["app": someApp()]),
                        policyTypes: [.egress],
                        egress: [
                            NetworkPolicyRule(
                                peers: [.selector(pods: nil, namespaces: LabelSelector(matchLabels: ["team": "team-0"]))],
                                ports: [NetworkPolicyPort(protocol: .udp, port: .number(53)), NetworkPolicyPort(protocol: .tcp, port: .number(53))]),
                            NetworkPolicyRule(peers: [.ipBlock(blocks[0])], ports: [NetworkPolicyPort(port: .number(443))]),
                            NetworkPolicyRule(
                                peers: [.selector(pods: LabelSelector(matchLabels: ["tier": "db"]), namespaces: nil)],
                                ports: [NetworkPolicyPort(port: .name("sql"))]),
                        ]))
            case 6:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["tier": "cache"]),
                        ingress: [
                            NetworkPolicyRule(
                                peers: [
                                    .selector(pods: LabelSelector(matchExpressions: [
                                        LabelSelectorRequirement(key: "app", operator: .exists)
                                    ]), namespaces: nil),
                                    .ipBlock(blocks[Int.random(in: 0..<blocks.count, using: &random)]),
                                ],
                                ports: [NetworkPolicyPort(protocol: .tcp, port: nil), NetworkPolicyPort(protocol: .sctp, port: .number(9000))])
                        ]))
            case 7:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["app": someApp()]),
                        policyTypes: [.ingress, .egress],
                        ingress: [NetworkPolicyRule(peers: [.selector(pods: .everything, namespaces: nil)])],
                        egress: [NetworkPolicyRule(ports: [NetworkPolicyPort(port: .name("metrics"))])]))
            case 8:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name, podSelector: LabelSelector(matchLabels: ["tier": "worker"]),
                        ingress: [
                            NetworkPolicyRule(peers: [
                                .selector(pods: nil, namespaces: .everything)
                            ], ports: [NetworkPolicyPort(protocol: .udp, port: .name("dns"))])
                        ]))
            default:
                policies.append(
                    NetworkPolicy(
                        namespace: nsName, name: name,
                        podSelector: LabelSelector(matchExpressions: [
                            LabelSelectorRequirement(key: "legacy", operator: .doesNotExist)
                        ]), policyTypes: [.egress],
                        egress: [
                            NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: LabelSelector(matchLabels: ["env": "prod"]))]),
                            NetworkPolicyRule(peers: [.ipBlock(blocks[Int.random(in: 0..<blocks.count, using: &random)])]),
                        ]))
            }
        }
        // Cluster-wide policies come from their own generator, so that the rest of the cluster and the queries of
        // a seed are the same with and without them.
        let admin = SyntheticAdminPolicies(count: adminCount, nodes: (podCount + 249) / 250, seed: seed)
        state = ClusterState(
            namespaces: namespaces, pods: pods, networkPolicies: policies, adminPolicies: admin.policies, nodes: admin.nodes)

        // Queries.
        let outside: [IPAddress] = [
            IPAddress("192.168.7.9")!, IPAddress("172.16.1.5")!, IPAddress("172.20.0.1")!, IPAddress("8.8.8.8")!,
            IPAddress("169.254.169.254")!, IPAddress("10.0.200.1")!, IPAddress("2001:db8::5")!, IPAddress("fd00::1:0:0:9")!,
        ]
        let ports: [UInt16] = [80, 443, 8080, 8050, 9090, 5432, 53, 9000, 12345]
        var queries: [FlowKey] = []
        queries.reserveCapacity(queryCount)
        for _ in 0..<queryCount {
            let a = pods[Int.random(in: 0..<pods.count, using: &random)]
            let b = pods[Int.random(in: 0..<pods.count, using: &random)]
            let shape = Int.random(in: 0..<10, using: &random)
            var source = a.ips[0]
            var destination = b.ips[0]
            if shape == 0 {
                source = outside[Int.random(in: 0..<outside.count, using: &random)]
            } else if shape == 1 {
                destination = outside[Int.random(in: 0..<outside.count, using: &random)]
            } else if shape == 2, a.ips.count > 1, b.ips.count > 1 {
                source = a.ips[1]
                destination = b.ips[1]
            }
            if source.family != destination.family {
                destination = source.family == .ipv4 ? b.ips[0] : (b.ips.count > 1 ? b.ips[1] : source)
            }
            let protocolRoll = Int.random(in: 0..<100, using: &random)
            let transport: IPProtocol =
                protocolRoll < 80 ? .tcp : protocolRoll < 95 ? .udp : protocolRoll < 98 ? .sctp
                : (source.family == .ipv4 ? .icmp : .icmpv6)
            let port = transport.hasPorts ? ports[Int.random(in: 0..<ports.count, using: &random)] : 0
            queries.append(
                FlowKey(
                    source: source, destination: destination, transport: transport,
                    sourcePort: transport.hasPorts ? 40000 : 0, destinationPort: port,
                    icmpType: transport.hasPorts ? 0 : 8))
        }
        self.queries = queries
    }
}
