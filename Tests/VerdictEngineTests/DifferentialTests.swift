import Foundation
import NetworkTypes
import PolicyModel
import TollgateBench
import Testing
@testable import VerdictEngine

// Differential tests: the compiled engine against `ReferenceEvaluator` (allow or deny) and against
// `DifferentialOracle` (reason, isolating policies, every allowing rule, the rules a verdict names, address
// owners), over clusters generated from seeds. A failure prints the seed, the query, what each side said, the
// `explain` lines and the whole cluster; rerun one seed with
//   TOLLGATE_DIFFERENTIAL_SEEDS=1 TOLLGATE_DIFFERENTIAL_FIRST_SEED=<seed> swift test --filter DifferentialTests
// and widen the search with a larger TOLLGATE_DIFFERENTIAL_SEEDS (default 300).

/// The seeds of this suite's runs (`TOLLGATE_DIFFERENTIAL_FIRST_SEED`, `TOLLGATE_DIFFERENTIAL_SEEDS`).
private let scale = DifferentialScale(environmentPrefix: "TOLLGATE_DIFFERENTIAL")

@Suite("Differential: compiled engine against the reference evaluator")
struct DifferentialTests {
    @Test("Corner-case clusters: every query agrees", arguments: 0..<DifferentialScale.batchCount)
    func cornerCaseClustersAgree(batch: Int) {
        scale.checkCornerClusters(batch: batch, tiers: false, label: "corner")
    }

    /// Realistic clusters (`SyntheticCluster`): larger, with deployments, many policies and dual-stack pods.
    @Test("Synthetic clusters: every query agrees", arguments: [101, 202, 303, 404] as [UInt64])
    func syntheticClustersAgree(seed: UInt64) {
        let cluster = SyntheticCluster(pods: 400, policies: 60, queries: 3000, seed: seed)
        var check = DifferentialCheck(label: "synthetic seed \(seed)", state: cluster.state)
        for (index, flow) in cluster.queries.enumerated() {
            check.check(flow, explaining: index % DifferentialScale.explainEvery == 0)
        }
        // Pod-to-pod queries in a real-looking cluster are not all one answer; if they were, the test would be weak.
        #expect(check.allowed > 0 && check.allowed < check.asked, "allowed \(check.allowed) of \(check.asked)")
        for mismatch in check.mismatches { Issue.record(Comment(rawValue: mismatch.prefix(4000).description)) }
        #expect(check.mismatchCount == 0)
    }

    /// The generator must actually produce the corners it promises, or the differential test proves little.
    @Test("The corner-case generator covers every corner")
    func generatorCoversTheCorners() {
        var seen: Set<String> = []
        var verdicts: [VerdictReason: Int] = [:]
        for seed in UInt64(1)...60 {
            let cluster = CornerCaseCluster(seed: seed, queries: 300)
            let state = cluster.state
            var owners: [IPAddress: Int] = [:]
            for pod in state.pods {
                if pod.hostNetwork { seen.insert("host-network pod") }
                if pod.phase == .succeeded || pod.phase == .failed { seen.insert("finished pod") }
                if pod.ips.isEmpty { seen.insert("pod without address") }
                if Set(pod.ips.map(\.family)).count == 2 { seen.insert("dual-stack pod") }
                if pod.isEndpoint {
                    for ip in pod.ips {
                        owners[ip, default: 0] += 1
                        if owners[ip] == 2 { seen.insert("two endpoints share an address") }
                    }
                }
            }
            if state.namespaces.contains(where: { $0.labels.count == 1 }) && !state.pods.isEmpty {
                seen.insert("namespace with only its name label")
            }
            for policy in state.networkPolicies {
                if policy.podSelector.isEmpty { seen.insert("empty podSelector") }
                if policy.policyTypes == [.egress] { seen.insert("policyTypes [Egress]") }
                if policy.policyTypes == [.ingress, .egress] && policy.ingress.isEmpty && policy.egress.isEmpty {
                    seen.insert("policyTypes [Ingress, Egress] without rules")
                }
                if policy.policyTypes.isEmpty { seen.insert("policyTypes []") }
                for requirement in policy.podSelector.matchExpressions { seen.insert("operator \(requirement.operator.rawValue)") }
                for rule in policy.ingress + policy.egress {
                    if rule.ports.isEmpty { seen.insert("rule without ports") }
                    if rule.peers.isEmpty { seen.insert("rule without peers") }
                    if rule.peers.count > 1 { seen.insert("rule with several peers") }
                    for port in rule.ports {
                        switch (port.port, port.endPort) {
                        case (nil, _): seen.insert("protocol-only port")
                        case (.name?, _): seen.insert("named port")
                        case (.number?, nil): seen.insert("port number")
                        case (.number?, _?): seen.insert("port range")
                        }
                    }
                    for peer in rule.peers {
                        switch peer {
                        case .selector(_?, nil): seen.insert("podSelector peer")
                        case .selector(nil, _?): seen.insert("namespaceSelector peer")
                        case .selector(_?, _?): seen.insert("podSelector and namespaceSelector in one peer")
                        case .selector(nil, nil): seen.insert("empty peer")
                        case .ipBlock(let block):
                            seen.insert("ipBlock \(block.cidr.family)")
                            if block.except.count > 1 { seen.insert("ipBlock with several excepts \(block.cidr.family)") }
                            for (i, a) in block.except.enumerated() {
                                for b in block.except[(i + 1)...] where a.overlaps(b) {
                                    seen.insert("overlapping excepts \(block.cidr.family)")
                                }
                            }
                            if block.cidr.length == block.cidr.family.bitWidth, owners[block.cidr.address] != nil {
                                seen.insert("host ipBlock equal to a pod address \(block.cidr.family)")
                            }
                            if owners.keys.contains(where: { block.contains($0) }) { seen.insert("ipBlock covering a pod") }
                        }
                    }
                }
            }
            let compiled = PolicyCompiler.compile(state)
            for flow in cluster.queries {
                let verdict = compiled.evaluate(flow)
                verdicts[verdict.reason, default: 0] += 1
                if compiled.pod(owning: flow.source) == nil && compiled.pod(owning: flow.destination) == nil {
                    seen.insert("query between two non-pod addresses")
                }
                if flow.transport == .icmp || flow.transport == .icmpv6 { seen.insert("ICMP query") }
            }
        }
        let expected: Set<String> = [
            "host-network pod", "finished pod", "pod without address", "dual-stack pod", "two endpoints share an address",
            "namespace with only its name label", "empty podSelector", "policyTypes [Egress]",
            "policyTypes [Ingress, Egress] without rules", "policyTypes []", "operator In", "operator NotIn",
            "operator Exists", "operator DoesNotExist", "rule without ports", "rule without peers",
            "rule with several peers", "protocol-only port", "named port", "port number", "port range",
            "podSelector peer", "namespaceSelector peer", "podSelector and namespaceSelector in one peer",
            "ipBlock IPv4", "ipBlock IPv6", "ipBlock with several excepts IPv4", "ipBlock with several excepts IPv6",
            "overlapping excepts IPv4", "overlapping excepts IPv6", "host ipBlock equal to a pod address IPv4",
            "host ipBlock equal to a pod address IPv6", "ipBlock covering a pod", "query between two non-pod addresses",
            "ICMP query",
        ]
        #expect(expected.subtracting(seen) == [])
        // Every NetworkPolicy reason occurs, in a fair share (the tier reasons: `TiersDifferentialTests`).
        for reason in [VerdictReason.notIsolated, .allowedByPolicy, .deniedByEgress, .deniedByIngress] {
            #expect((verdicts[reason] ?? 0) > 300, "reason \(reason) occurred \(verdicts[reason] ?? 0) times")
        }
    }
}
