import NetworkTypes
import PolicyModel

/// The cluster-wide policies of a `SyntheticCluster`: `count` AdminNetworkPolicies mixing what operators write
/// (deny from dev to prod, DNS for everyone, no metadata service, a team's database behind a Pass, node ports,
/// monitoring by named port) with every action and peer kind, priorities spread over 0...1000, and, when
/// `count > 0`, the BaselineAdminNetworkPolicy and one Node per 250 pods (addresses in 100.64.0.0/10).
public struct SyntheticAdminPolicies: Sendable {
    /// The AdminNetworkPolicies, then the BaselineAdminNetworkPolicy.
    public let policies: [AdminNetworkPolicy]
    /// `node-<i>` with address 100.64.0.<i+1> (and beyond), labelled with its host name and a zone.
    public let nodes: [ClusterNode]

    /// Generates `count` admin policies for a cluster of `nodeCount` nodes; nothing when `count` is 0.
    public init(count: Int, nodes nodeCount: Int, seed: UInt64) {
        guard count > 0 else {
            policies = []
            nodes = []
            return
        }
        var random = SeededGenerator(seed: seed ^ 0xA5A5_5A5A_0F0F_F0F0)
        nodes = (0..<nodeCount).map { index in
            ClusterNode(
                name: "node-\(index)", labels: ["kubernetes.io/hostname": "node-\(index)", "zone": "z\(index % 3)"],
                addresses: [.v4(IPv4Address(rawValue: 0x6440_0000 | UInt32(index + 1)))])
        }
        func namespaces(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }
        func team() -> String { SyntheticCluster.teams[Int.random(in: 0..<SyntheticCluster.teams.count, using: &random)] }
        let metadata = IPPrefix("169.254.169.254/32")!
        var result: [AdminNetworkPolicy] = []
        for index in 0..<count {
            let priority = count <= 1001 ? index * 1000 / max(1, count - 1) : index % 1001
            let name = "anp-\(index)"
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority, subject: .namespaces(namespaces(["env": "prod"])),
                        ingress: [AdminPolicyRule(name: "no-dev", action: .deny, peers: [.namespaces(namespaces(["env": "dev"]))])],
                        egress: [
                            AdminPolicyRule(
                                name: "dns", action: .allow, peers: [.namespaces(namespaces(["team": "team-0"]))],
                                ports: [.number(.udp, 53), .number(.tcp, 53)])
                        ]))
            case 1:
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority, subject: .namespaces(.everything),
                        egress: [AdminPolicyRule(name: "no-metadata", action: .deny, peers: [.networks([metadata])])]))
            case 2:
                let owner = team()
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority,
                        subject: .pods(namespaces: namespaces(["team": owner]), pods: LabelSelector(matchLabels: ["tier": "db"])),
                        ingress: [
                            AdminPolicyRule(name: "own-team", action: .pass, peers: [.namespaces(namespaces(["team": owner]))]),
                            AdminPolicyRule(name: "nobody-else", action: .deny, peers: [.namespaces(.everything)]),
                        ]))
            case 3:
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority, subject: .namespaces(namespaces(["team": team()])),
                        egress: [
                            AdminPolicyRule(
                                name: "kubelet", action: .allow, peers: [.nodes(LabelSelector(matchLabels: ["zone": "z\(index % 3)"]))],
                                ports: [.number(.tcp, 10250)]),
                            AdminPolicyRule(
                                name: "no-node-ports", action: .deny, peers: [.nodes(.everything), .networks([IPPrefix("0.0.0.0/0")!])],
                                ports: [.range(.tcp, 30000, 32767)]),
                        ]))
            case 4:
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority, subject: .namespaces(namespaces(["env": "staging"])),
                        ingress: [
                            AdminPolicyRule(
                                name: "monitoring", action: .allow, peers: [.namespaces(namespaces(["team": "team-9"]))],
                                ports: [.named("metrics")])
                        ]))
            default:
                result.append(
                    AdminNetworkPolicy(
                        name: name, priority: priority,
                        subject: .pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["tier": "web"])),
                        ingress: [
                            AdminPolicyRule(
                                name: "web-from-api", action: .pass,
                                peers: [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["tier": "api"]))],
                                ports: [.range(.tcp, 8000, 8100)])
                        ]))
            }
        }
        result.append(
            AdminNetworkPolicy(
                kind: .baselineAdminNetworkPolicy, name: "default", subject: .namespaces(.everything),
                ingress: [
                    AdminPolicyRule(name: "same-env-dev", action: .allow, peers: [.namespaces(namespaces(["env": "dev"]))]),
                    AdminPolicyRule(name: "default-deny-from-dev", action: .deny, peers: [.namespaces(namespaces(["env": "dev"]))]),
                ],
                egress: [AdminPolicyRule(name: "cluster", action: .allow, peers: [.namespaces(.everything)])]))
        policies = result
    }
}
