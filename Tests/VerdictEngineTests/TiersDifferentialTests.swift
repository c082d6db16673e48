import Foundation
import NetworkTypes
import PolicyModel
import Testing
@testable import VerdictEngine

// Differential tests of the tiers: corner-case clusters with nodes, AdminNetworkPolicies and a
// BaselineAdminNetworkPolicy; the compiled engine against `ReferenceEvaluator` and `DifferentialOracle` (reason,
// deciding admin and baseline rules, the rules a verdict names). Rerun one seed with
//   TOLLGATE_TIERS_SEEDS=1 TOLLGATE_TIERS_FIRST_SEED=<seed> swift test --filter TiersDifferentialTests

private enum TiersScale {
    static let firstSeed = UInt64(ProcessInfo.processInfo.environment["TOLLGATE_TIERS_FIRST_SEED"] ?? "") ?? 1
    static let seedCount = UInt64(ProcessInfo.processInfo.environment["TOLLGATE_TIERS_SEEDS"] ?? "") ?? 300
    static let queriesPerCluster = 2000
    static let explainEvery = 4
    static let batchCount = 10

    static func seeds(ofBatch batch: Int) -> [UInt64] {
        stride(from: firstSeed + UInt64(batch), to: firstSeed + seedCount, by: batchCount).map { $0 }
    }
}

@Suite("Tiers: differential, compiled engine against the reference evaluator")
struct TiersDifferentialTests {
    @Test("Corner-case clusters with admin and baseline policies: every query agrees", arguments: 0..<TiersScale.batchCount)
    func tieredClustersAgree(batch: Int) {
        var asked = 0
        var failures = 0
        for seed in TiersScale.seeds(ofBatch: batch) {
            let cluster = CornerCaseCluster(seed: seed, queries: TiersScale.queriesPerCluster, tiers: true)
            var check = DifferentialCheck(label: "tiers seed \(seed)", state: cluster.state)
            for (index, flow) in cluster.queries.enumerated() {
                check.check(flow, explaining: index % TiersScale.explainEvery == 0)
            }
            asked += check.asked
            failures += check.mismatchCount
            for mismatch in check.mismatches { Issue.record(Comment(rawValue: mismatch)) }
            if check.mismatchCount > check.mismatches.count {
                Issue.record("tiers seed \(seed): \(check.mismatchCount - check.mismatches.count) more disagreements")
            }
        }
        #expect(failures == 0)
        #expect(asked == TiersScale.seeds(ofBatch: batch).count * TiersScale.queriesPerCluster)
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
            "networks peer IPv6",
        ]
        #expect(expected.subtracting(seen) == [])
        for reason in VerdictReason.allCases {
            #expect((verdicts[reason] ?? 0) > 100, "reason \(reason) occurred \(verdicts[reason] ?? 0) times")
        }
    }
}
