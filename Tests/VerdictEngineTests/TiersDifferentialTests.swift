import Foundation
import NetworkTypes
import PolicyModel
import Testing
@testable import VerdictEngine

// Differential tests of the tiers: corner-case clusters with nodes, AdminNetworkPolicies, a
// BaselineAdminNetworkPolicy and ClusterNetworkPolicies of both tiers; the compiled engine against `ReferenceEvaluator` and `DifferentialOracle` (reason,
// deciding admin and baseline rules, the rules a verdict names). Rerun one seed with
//   TOLLGATE_TIERS_SEEDS=1 TOLLGATE_TIERS_FIRST_SEED=<seed> swift test --filter TiersDifferentialTests

/// The seeds of this suite's runs (`TOLLGATE_TIERS_FIRST_SEED`, `TOLLGATE_TIERS_SEEDS`).
private let scale = DifferentialScale(environmentPrefix: "TOLLGATE_TIERS")

@Suite("Tiers: differential, compiled engine against the reference evaluator")
struct TiersDifferentialTests {
    @Test("Corner-case clusters with admin and baseline policies: every query agrees", arguments: 0..<DifferentialScale.batchCount)
    func tieredClustersAgree(batch: Int) {
        scale.checkCornerClusters(batch: batch, tiers: true, label: "tiers")
    }

    /// A tier rule's peers become one bit of a 64-bit mask only for the first 63 distinct peer lists; later
    /// lists share the overflow bit and keep their peers in the program. Seventy filler policies, evaluated first
    /// (priority 0, names sorting before the generator's), take the 63 bits, so every admin and baseline rule of
    /// the corner-case cluster takes the overflow path. The fillers' peers are documentation addresses, which no pod
    /// or query uses; the reference evaluator and the oracle see the fillers too.
    @Test("More than 63 distinct admin peer lists: rules beyond the mask's bits still agree", arguments: 0..<2)
    func overflowingPeerListsAgree(batch: Int) {
        let fillers = (0..<70).map { index in
            AdminNetworkPolicy(
                name: "aa-filler-\(100 + index)", priority: 0, subject: .namespaces(.everything),
                ingress: [AdminPolicyRule(action: .deny, peers: [.networks([IPPrefix("203.0.113.\(index)/32")!])])],
                egress: [AdminPolicyRule(action: .deny, peers: [.networks([IPPrefix("198.51.100.\(index)/32")!])])])
        }
        var failures = 0
        var asked = 0
        for seed in stride(from: UInt64(1 + batch), through: 40, by: 2) {
            let cluster = CornerCaseCluster(seed: seed, queries: 1000, tiers: true)
            let corner = cluster.state
            let state = ClusterState(
                namespaces: corner.namespaces, pods: corner.pods, networkPolicies: corner.networkPolicies,
                adminPolicies: fillers + corner.adminPolicies, nodes: corner.nodes)
            var check = DifferentialCheck(label: "overflowing peer lists, corner seed \(seed)", state: state)
            for (index, flow) in cluster.queries.enumerated() {
                check.check(flow, explaining: index % DifferentialScale.explainEvery == 0)
            }
            asked += check.asked
            failures += check.mismatchCount
            for mismatch in check.mismatches { Issue.record(Comment(rawValue: mismatch)) }
        }
        #expect(failures == 0)
        #expect(asked == 20 * 1000)
    }

    /// The generator must produce the tier corners, or the differential test proves little.
    @Test("The tiered generator covers every reason and every kind of peer and port")
    func generatorCoversTheTiers() {
        var seen: Set<String> = []
        var verdicts: [VerdictReason: Int] = [:]
        for seed in UInt64(1)...60 {
            let cluster = CornerCaseCluster(seed: seed, queries: 600, tiers: true)
            let state = cluster.state
            if !state.priorityTies.isEmpty { seen.insert("priority tie") }
            if state.priorityTies.contains(where: { $0.hasPrefix("Admin-tier policies") }) {
                seen.insert("admin tie across kinds")
            }
            if state.priorityTies.contains(where: { $0.hasPrefix("Baseline-tier ClusterNetworkPolicies") }) {
                seen.insert("baseline tie")
            }
            let names = state.adminPolicies.map(\.name)
            if Set(names).count < names.count { seen.insert("one name, two kinds") }
            if state.pods.contains(where: { pod in
                pod.hostNetwork && state.nodes.contains { $0.name == pod.nodeName } && !pod.ips.isEmpty
            }) {
                seen.insert("host-network pod on a known node")
            }
            for policy in state.adminPolicies {
                switch policy.subject {
                case .namespaces: seen.insert("namespaces subject")
                case .pods: seen.insert("pods subject")
                }
                for rule in policy.ingress + policy.egress {
                    seen.insert("\(policy.tier.rawValue) \(rule.action.rawValue)")
                    if policy.kind == .clusterNetworkPolicy {
                        seen.insert("ClusterNetworkPolicy \(policy.tier.rawValue) \(rule.action.name(in: policy.kind))")
                    }
                    if rule.peers.isEmpty { seen.insert("rule without peers (domainNames only)") }
                    if rule.ports == nil { seen.insert("rule without ports") }
                    for port in rule.ports ?? [] {
                        switch port {
                        case .number: seen.insert("port number")
                        case .range: seen.insert("port range")
                        case .named: seen.insert("named port")
                        }
                    }
                    for peer in rule.peers {
                        switch peer {
                        case .namespaces: seen.insert("namespaces peer")
                        case .pods: seen.insert("pods peer")
                        case .nodes: seen.insert("nodes peer")
                        case .networks(let prefixes): seen.insert("networks peer \(prefixes[0].family)")
                        }
                    }
                }
            }
            let compiled = PolicyCompiler.compile(state)
            for flow in cluster.queries { verdicts[compiled.evaluate(flow).reason, default: 0] += 1 }
        }
        let expected: Set<String> = [
            "priority tie", "host-network pod on a known node", "namespaces subject", "pods subject", "Admin Allow",
            "Admin Deny", "Admin Pass", "Baseline Allow", "Baseline Deny", "rule without ports", "port number",
            "port range", "named port", "namespaces peer", "pods peer", "nodes peer", "networks peer IPv4",
            "networks peer IPv6", "Baseline Pass", "ClusterNetworkPolicy Admin Accept", "ClusterNetworkPolicy Admin Deny",
            "ClusterNetworkPolicy Admin Pass", "ClusterNetworkPolicy Baseline Accept", "ClusterNetworkPolicy Baseline Deny",
            "ClusterNetworkPolicy Baseline Pass", "admin tie across kinds", "baseline tie", "one name, two kinds",
            "rule without peers (domainNames only)",
        ]
        #expect(expected.subtracting(seen) == [])
        for reason in VerdictReason.allCases {
            #expect((verdicts[reason] ?? 0) > 100, "reason \(reason) occurred \(verdicts[reason] ?? 0) times")
        }
    }
}
