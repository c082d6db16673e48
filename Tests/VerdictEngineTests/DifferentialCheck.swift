import Testing
import Foundation
import NetworkTypes
import PolicyModel
@testable import VerdictEngine

/// Compiles one cluster and asks every query of the compiled snapshot, of `ReferenceEvaluator` and of
/// `DifferentialOracle`; collects every disagreement with what is needed to reproduce it.
struct DifferentialCheck {
    /// How to name the cluster in a failure (`corner seed 17`).
    let label: String
    let state: ClusterState
    let snapshot: CompiledSnapshot
    let reference: ReferenceEvaluator
    let oracle: DifferentialOracle
    /// Queries asked, allowed (by the reference), and disagreeing.
    private(set) var asked = 0
    private(set) var allowed = 0
    private(set) var mismatches: [String] = []
    /// Disagreements beyond the first few are counted, not described.
    let describedLimit = 3
    private(set) var mismatchCount = 0

    /// Checks `snapshot` (by default, `state` compiled from scratch) against the oracles built from `state`.
    init(label: String, state: ClusterState, snapshot: CompiledSnapshot? = nil) {
        self.label = label
        self.state = state
        self.snapshot = snapshot ?? PolicyCompiler.compile(state)
        reference = ReferenceEvaluator(state: state)
        oracle = DifferentialOracle(state: state)
    }

    /// Checks one query; `explain` is compared only when `explaining` (it allocates, so it is sampled).
    mutating func check(_ flow: FlowKey, explaining: Bool) {
        asked += 1
        let verdict = snapshot.evaluate(flow)
        let expectedAllowed = reference.isAllowed(flow)
        if expectedAllowed { allowed += 1 }
        var problems: [String] = []
        if verdict.isAllowed != expectedAllowed {
            problems.append(
                "compiled engine says \(verdict.isAllowed ? "ALLOW" : "DENY") (\(verdict.reason)), reference evaluator says \(expectedAllowed ? "ALLOW" : "DENY")")
        }
        let expectation = oracle.expectation(for: flow)
        if expectation.reason.isAllowed != expectedAllowed {
            problems.append("the rule-level oracle disagrees with the reference evaluator (test bug)")
        }
        if verdict.reason != expectation.reason {
            problems.append("reason \(verdict.reason), expected \(expectation.reason)")
        }
        let explanation: Explanation? = explaining || !problems.isEmpty ? snapshot.explain(flow) : nil
        if let explanation {
            if explanation.verdict != verdict {
                problems.append("explain verdict \(explanation.verdict) differs from evaluate \(verdict)")
            }
            let actual = DifferentialExpectation(explanation)
            if actual != expectation {
                problems.append("explain reported \(describe(actual)), expected \(describe(expectation))")
            }
            // Per direction NetworkPolicy decided: at least one allowing rule when allowed, none when it denied.
            if verdict.isAllowed {
                for report in [explanation.egress, explanation.ingress].compactMap({ $0 })
                where report.decidingTier == .networkPolicy {
                    if report.allowingRules.isEmpty { problems.append("allowed, but \(report.pod) lists no allowing rule") }
                }
            } else if verdict.reason == .deniedByEgress || verdict.reason == .deniedByIngress {
                let denied = verdict.reason == .deniedByEgress ? explanation.egress : explanation.ingress
                if let denied, !denied.allowingRules.isEmpty {
                    problems.append("denied, but \(denied.pod) lists allowing rules \(denied.allowingRules)")
                }
            }
        }
        // The rules a verdict names: per direction decided, the admin or baseline rule that decided it or the first
        // NetworkPolicy rule that allowed it; the ingress direction is not decided after an egress denial.
        let egressFirst = DifferentialOracle.decidingRule(expectation.egress)
        let ingressFirst = expectation.reason.isEgressDenial ? nil : DifferentialOracle.decidingRule(expectation.ingress)
        if snapshot.origin(ofRule: verdict.egressRule) != egressFirst || (egressFirst == nil) != (verdict.egressRule == -1) {
            problems.append("egressRule \(verdict.egressRule) names \(String(describing: snapshot.origin(ofRule: verdict.egressRule))), expected \(String(describing: egressFirst))")
        }
        if snapshot.origin(ofRule: verdict.ingressRule) != ingressFirst || (ingressFirst == nil) != (verdict.ingressRule == -1) {
            problems.append("ingressRule \(verdict.ingressRule) names \(String(describing: snapshot.origin(ofRule: verdict.ingressRule))), expected \(String(describing: ingressFirst))")
        }
        for address in [flow.source, flow.destination] where snapshot.pod(owning: address)?.key != oracle.owner(of: address)?.key {
            problems.append("pod(owning: \(address)) is \(String(describing: snapshot.pod(owning: address)?.key)), expected \(String(describing: oracle.owner(of: address)?.key))")
        }
        guard !problems.isEmpty else { return }
        mismatchCount += 1
        guard mismatches.count < describedLimit else { return }
        let lines = (explanation ?? snapshot.explain(flow)).lines
        mismatches.append(
            """
            \(label): \(DifferentialCheck.describe(flow))
              \(problems.joined(separator: "\n  "))
            explain:
              \(lines.joined(separator: "\n  "))
            cluster:
            \(DifferentialCheck.describe(state))
            """)
    }

    private func describe(_ value: DifferentialExpectation) -> String {
        func direction(_ report: DirectionReport?) -> String {
            guard let report else { return "-" }
            let rules = report.allowingRules.map { "\($0.policy.name).\($0.direction.rawValue.lowercased())[\($0.index)]" }
            return "\(report.pod) isolated=\(report.isolated) by \(report.isolatingPolicies.map(\.name)) allowing \(rules)"
                + " admin=\(report.adminRule?.description ?? "-") baseline=\(report.baselineRule?.description ?? "-")"
        }
        return "{\(value.reason); egress: \(direction(value.egress)); ingress: \(direction(value.ingress))}"
    }

    /// `TCP 10.0.0.1:40000 -> 10.0.0.2:80`, `ICMP 10.0.0.1 -> 10.0.0.2 type 8`.
    static func describe(_ flow: FlowKey) -> String {
        if flow.transport.hasPorts {
            return "\(flow.transport) \(flow.source) port \(flow.sourcePort) -> \(flow.destination) port \(flow.destinationPort)"
        }
        return "\(flow.transport) \(flow.source) -> \(flow.destination) type \(flow.icmpType)"
    }

    /// Every object of a small cluster, one line each.
    static func describe(_ state: ClusterState) -> String {
        var lines: [String] = []
        for namespace in state.namespaces { lines.append("  namespace \(namespace.name) {\(namespace.labels)}") }
        for pod in state.pods {
            var flags: [String] = []
            if pod.hostNetwork { flags.append("hostNetwork") }
            flags.append("phase=\(pod.phase?.rawValue ?? "nil")")
            let ports = pod.containerPorts.map { "\($0.name ?? "-")=\($0.port)/\($0.protocol.rawValue)" }
            lines.append(
                "  pod \(pod.namespace)/\(pod.name) {\(pod.labels)} ips=\(pod.ips) ports=\(ports) \(flags.joined(separator: " "))")
        }
        for policy in state.networkPolicies {
            var types: [String] = []
            if policy.policyTypes.contains(.ingress) { types.append("Ingress") }
            if policy.policyTypes.contains(.egress) { types.append("Egress") }
            lines.append("  policy \(policy.namespace)/\(policy.name) select(\(policy.podSelector)) types=\(types)")
            for (name, rules) in [("ingress", policy.ingress), ("egress", policy.egress)] {
                for (index, rule) in rules.enumerated() {
                    lines.append(
                        "    \(name)[\(index)] peers=\(rule.peers.map(\.description)) ports=\(rule.ports.map(\.description))")
                }
            }
        }
        for node in state.nodes { lines.append("  node \(node.name) {\(node.labels)} addresses=\(node.addresses)") }
        for policy in state.adminPolicies {
            lines.append("  \(policy.kind.rawValue) \(policy.name) priority=\(policy.priority) subject=\(policy.subject)")
            for (name, rules) in [("ingress", policy.ingress), ("egress", policy.egress)] {
                for (index, rule) in rules.enumerated() {
                    lines.append(
                        "    \(name)[\(index)] \(rule.action.rawValue) peers=\(rule.peers.map(\.description)) ports=\(rule.ports.map { $0.map(\.description) } ?? ["*"])")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// The seeds and query counts of a differential run: `<prefix>_FIRST_SEED` and `<prefix>_SEEDS` from the
/// environment, or 1 and 300.
struct DifferentialScale: Sendable {
    static let queriesPerCluster = 2000
    /// Every `explainEvery`-th query is also explained and compared rule by rule.
    static let explainEvery = 4
    /// The seeds are split into this many test cases, which run in parallel.
    static let batchCount = 10

    let firstSeed: UInt64
    let seedCount: UInt64

    init(environmentPrefix prefix: String) {
        let environment = ProcessInfo.processInfo.environment
        firstSeed = UInt64(environment["\(prefix)_FIRST_SEED"] ?? "") ?? 1
        seedCount = UInt64(environment["\(prefix)_SEEDS"] ?? "") ?? 300
    }

    func seeds(ofBatch batch: Int) -> [UInt64] {
        stride(from: firstSeed + UInt64(batch), to: firstSeed + seedCount, by: Self.batchCount).map { $0 }
    }

    /// Checks every query of the corner-case clusters of `batch` (with admin and baseline tiers when `tiers`),
    /// recording every disagreement as an issue, and expects none and every query asked.
    func checkCornerClusters(batch: Int, tiers: Bool, label: String) {
        var asked = 0
        var failures = 0
        for seed in seeds(ofBatch: batch) {
            let cluster = CornerCaseCluster(seed: seed, queries: Self.queriesPerCluster, tiers: tiers)
            var check = DifferentialCheck(label: "\(label) seed \(seed)", state: cluster.state)
            for (index, flow) in cluster.queries.enumerated() {
                check.check(flow, explaining: index % Self.explainEvery == 0)
            }
            asked += check.asked
            failures += check.mismatchCount
            for mismatch in check.mismatches { Issue.record(Comment(rawValue: mismatch)) }
            if check.mismatchCount > check.mismatches.count {
                Issue.record("\(label) seed \(seed): \(check.mismatchCount - check.mismatches.count) more disagreements")
            }
        }
        #expect(failures == 0)
        #expect(asked == seeds(ofBatch: batch).count * Self.queriesPerCluster)
    }
}
