import Foundation
import NetworkTypes
import PolicyModel
import Testing
@testable import VerdictEngine

/// The network-policy-api conformance cases for AdminNetworkPolicy and BaselineAdminNetworkPolicy as tables: per
/// case and address family, every probe's verdict reason (compiled engine) must be the expected one, and the
/// reference evaluator must agree on allow or deny.
@Suite("AdminNetworkPolicy conformance tables")
struct AdminPolicyConformanceTests {
    /// `Fixtures/admin-policies`, next to this file.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/admin-policies").path

    @Test("every probe gets the expected reason", arguments: ConformanceCase.all + ConformanceCase.v1alpha2, [AddressFamily.ipv4, .ipv6])
    func probesGetTheirReasons(_ testCase: ConformanceCase, family: AddressFamily) throws {
        let state = testCase.state(family: family)
        let snapshot = PolicyCompiler.compile(state)
        let reference = ReferenceEvaluator(state: state)
        var actual: [String] = []
        var expected: [String] = []
        var referenceAnswers: [String] = []
        for probe in testCase.probes {
            let flow = try probe.flow(family: family)
            actual.append("\(probe): \(snapshot.evaluate(flow).reason)")
            expected.append("\(probe): \(probe.expected)")
            referenceAnswers.append("\(probe): \(reference.isAllowed(flow) ? "allow" : "deny")")
        }
        #expect(actual == expected)
        #expect(referenceAnswers == testCase.probes.map { "\($0): \($0.expected.isAllowed ? "allow" : "deny")" })
    }

    @Test("explain names the tier, policy and rule that decided", arguments: [AddressFamily.ipv4, .ipv6])
    func explainNamesTheDecidingRule(family: AddressFamily) throws {
        let testCase = try #require(ConformanceCase.all.first { $0.name.hasPrefix("AdminNetworkPolicyGress: Should support an 'allow-gress' policy across different protocols at") })
        let snapshot = PolicyCompiler.compile(testCase.state(family: family))
        let denied = try #require(testCase.probes.first { $0.expected == .deniedByAdminEgress })
        let explanation = snapshot.explain(try denied.flow(family: family))
        let egress = try #require(explanation.egress)
        #expect(egress.decidingTier == .admin)
        #expect(
            egress.adminRule
                == RuleOrigin(
                    policy: ObjectKey(kind: "AdminNetworkPolicy", namespace: "", name: "gress-rules"), direction: .egress,
                    index: 6, tier: .admin, action: .deny, name: "deny-to-hufflepuff-everything-else"))
        #expect(
            explanation.lines.contains(
                "egress: admin tier: denied by AdminNetworkPolicy gress-rules egress[6] \"deny-to-hufflepuff-everything-else\" (Deny)"))
        #expect(explanation.report.egress?.tier == "Admin")
        #expect(explanation.verdict.egressRule >= 0 && snapshot.origin(ofRule: explanation.verdict.egressRule) == egress.adminRule)
    }

    @Test("explain shows an admin Pass handing over to the baseline")
    func explainShowsPassThenBaseline() throws {
        let testCase = try #require(ConformanceCase.all.first { $0.name.contains("(NetworkPolicy deleted)") })
        let snapshot = PolicyCompiler.compile(testCase.state(family: .ipv4))
        let probe = try #require(testCase.probes.first)
        let explanation = snapshot.explain(try probe.flow(family: .ipv4))
        #expect(
            explanation.lines == [
                "DENY network-policy-conformance-slytherin/draco-malfoy-0 (10.244.2.10) -> network-policy-conformance-gryffindor/harry-potter-0 (10.244.1.10) TCP port 80",
                "reason: denied_baseline_ingress",
                "egress: network-policy-conformance-slytherin/draco-malfoy-0 is not isolated for egress: allowed",
                "ingress: admin tier: passed by AdminNetworkPolicy pass-example ingress[0] \"deny-all-ingress-from-slytherin\" (Pass) to NetworkPolicy",
                "ingress: network-policy-conformance-gryffindor/harry-potter-0 is not isolated by NetworkPolicy; baseline tier: denied by BaselineAdminNetworkPolicy default ingress[0] \"deny-all-ingress-from-slytherin\" (Deny)",
            ])
    }

    @Test("explain names ClusterNetworkPolicy rules with their v1alpha2 actions, and a baseline Pass")
    func explainShowsClusterNetworkPolicies() throws {
        let priority = try #require(ConformanceCase.v1alpha2.first { $0.name.contains("(priority 60 updated to 40)") })
        let snapshot = PolicyCompiler.compile(priority.state(family: .ipv4))
        let probe = try #require(priority.probes.first)
        #expect(
            snapshot.explain(try probe.flow(family: .ipv4)).lines == [
                "ALLOW network-policy-conformance-slytherin/draco-malfoy-0 (10.244.2.10) -> network-policy-conformance-gryffindor/harry-potter-0 (10.244.1.10) TCP port 80",
                "reason: allowed_by_baseline",
                "egress: network-policy-conformance-slytherin/draco-malfoy-0 is not isolated for egress: allowed",
                "ingress: admin tier: passed by ClusterNetworkPolicy old-priority-60-new-priority-40-example ingress[0] \"pass-all-ingress-from-slytherin\" (Pass) to NetworkPolicy",
                "ingress: network-policy-conformance-gryffindor/harry-potter-0 is not isolated by NetworkPolicy; baseline tier: allowed by ClusterNetworkPolicy default ingress[0] \"allow-all-ingress-from-slytherin\" (Accept)",
            ])
        let pass = try #require(ConformanceCase.v1alpha2.first { $0.name.contains("a baseline Pass hands over") })
        let passSnapshot = PolicyCompiler.compile(pass.state(family: .ipv4))
        let passProbe = try #require(pass.probes.first)
        let explanation = passSnapshot.explain(try passProbe.flow(family: .ipv4))
        #expect(
            explanation.lines == [
                "ALLOW network-policy-conformance-slytherin/draco-malfoy-0 (10.244.2.10) -> network-policy-conformance-gryffindor/harry-potter-0 (10.244.1.10) TCP port 80",
                "reason: not_isolated",
                "egress: network-policy-conformance-slytherin/draco-malfoy-0 is not isolated for egress: allowed",
                "ingress: network-policy-conformance-gryffindor/harry-potter-0 is not isolated by NetworkPolicy; baseline tier: passed by ClusterNetworkPolicy dev-passes ingress[0] \"pass-from-slytherin\" (Pass) to the default: allowed",
            ])
        #expect(explanation.ingress?.decidingTier == nil)
        #expect(explanation.verdict.ingressRule == -1)
    }

    @Test("the model cluster fixture decodes to the model")
    func clusterFixtureIsTheModel() {
        let loaded = ManifestLoader.load(fileAt: Self.fixtures + "/cluster.yaml")
        #expect(loaded.errors == [])
        let state = ClusterState(objects: loaded.objects)
        let model = ClusterState(
            namespaces: ConformanceModel.namespaceObjects, pods: ConformanceModel.podObjects,
            nodes: ConformanceModel.nodeObjects)
        #expect(state.namespaces == model.namespaces)
        #expect(state.pods == model.pods)
        #expect(state.nodes == model.nodes)
    }

    @Test("policy fixtures decode to the case's policies", arguments: (ConformanceCase.all + ConformanceCase.v1alpha2).filter { $0.fixture != nil })
    func policyFixturesAreTheCase(_ testCase: ConformanceCase) throws {
        let fixture = try #require(testCase.fixture)
        let loaded = ManifestLoader.load(fileAt: Self.fixtures + "/" + fixture)
        #expect(loaded.errors == [])
        let state = ClusterState(objects: loaded.objects)
        let expected = testCase.state(family: .ipv4)
        #expect(state.adminPolicies == expected.adminPolicies)
        #expect(state.networkPolicies == expected.networkPolicies)
    }
}
