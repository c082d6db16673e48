import NetworkTypes
import PolicyModel
import Testing
@testable import VerdictEngine

/// Compile-time properties of the tiers: no cost without cluster-wide policies, identities grouped by the
/// policies that select them, ties reported, the JSON report naming the deciding tier.
@Suite("Tiers: compiling cluster-wide policies")
struct TiersCompileTests {
    static let namespaces = [Namespace(name: "a", labels: ["env": "prod"]), Namespace(name: "b", labels: ["env": "dev"])]
    static let pods = [
        Pod(namespace: "a", name: "web", labels: ["app": "web"], ips: [IPAddress("10.0.0.1")!]),
        Pod(namespace: "a", name: "db", labels: ["app": "db"], ips: [IPAddress("10.0.0.2")!]),
        Pod(namespace: "b", name: "web", labels: ["app": "web"], ips: [IPAddress("10.0.1.1")!]),
    ]
    static let denyDev = AdminNetworkPolicy(
        name: "deny-dev", priority: 5, subject: .namespaces(LabelSelector(matchLabels: ["env": "prod"])),
        ingress: [AdminPolicyRule(name: "no-dev", action: .deny, peers: [.namespaces(LabelSelector(matchLabels: ["env": "dev"]))])])

    @Test("without cluster-wide policies the tier tables are empty, so verdicts take the NetworkPolicy-only path")
    func noTierTablesWithoutPolicies() {
        let snapshot = PolicyCompiler.compile(ClusterState(namespaces: Self.namespaces, pods: Self.pods))
        #expect(!snapshot.tables.tiered)
        #expect(snapshot.tables.explainTiers.count == 0)
        #expect(snapshot.statistics.adminPolicies == 0)
    }

    @Test("identities selected by the same policies share their programs")
    func identitiesShareTierPrograms() throws {
        let state = ClusterState(namespaces: Self.namespaces, pods: Self.pods, adminPolicies: [Self.denyDev])
        let snapshot = PolicyCompiler.compile(state)
        #expect(snapshot.statistics.adminPolicies == 1)
        #expect(snapshot.tables.tiered)
        #expect(snapshot.tables.explainTiers.count == snapshot.statistics.identities)
        let infos = (0..<snapshot.tables.explainTiers.count).map { snapshot.tables.explainTiers[$0] }
        // a/web and a/db (prod) share one admin ingress program; b/web has none.
        let ingress = infos.map(\.adminIngress)
        #expect(ingress.filter { $0 >= 0 }.count == 2 && Set(ingress.filter { $0 >= 0 }).count == 1)
        #expect(ingress.filter { $0 < 0 }.count == 1)
        #expect(infos.allSatisfy { $0.adminEgress < 0 && $0.baselineIngress < 0 && $0.baselineEgress < 0 })
        // The same holds for the tiered programs the verdict runs: one shared ingress program, no egress one.
        let identities = (0..<snapshot.tables.identities.count).map { snapshot.tables.identities[$0] }
        let tiered = identities.map(\.ingress)
        #expect(tiered.filter { $0 >= 0 }.count == 2 && Set(tiered.filter { $0 >= 0 }).count == 1)
        #expect(identities.allSatisfy { $0.egress < 0 })
        let flow = FlowKey(
            source: try #require(IPAddress("10.0.1.1")), destination: try #require(IPAddress("10.0.0.2")), transport: .tcp,
            sourcePort: 40000, destinationPort: 5432)
        #expect(snapshot.evaluate(flow).reason == .deniedByAdminIngress)
    }

    @Test("ties in priority are compile diagnostics")
    func tiesAreDiagnostics() {
        let twin = AdminNetworkPolicy(name: "allow-dev", priority: 5, subject: Self.denyDev.subject)
        let snapshot = PolicyCompiler.compile(
            ClusterState(namespaces: Self.namespaces, pods: Self.pods, adminPolicies: [Self.denyDev, twin]))
        #expect(
            snapshot.diagnostics == [
                "AdminNetworkPolicies allow-dev, deny-dev share priority 5; the API leaves their order undefined, Tollgate evaluates them by name"
            ])
    }

    @Test("the JSON report names the deciding tier and rule")
    func reportNamesTier() throws {
        let snapshot = PolicyCompiler.compile(
            ClusterState(namespaces: Self.namespaces, pods: Self.pods, adminPolicies: [Self.denyDev]))
        let flow = FlowKey(
            source: try #require(IPAddress("10.0.1.1")), destination: try #require(IPAddress("10.0.0.1")), transport: .tcp,
            sourcePort: 40000, destinationPort: 80)
        let report = snapshot.explain(flow).report
        #expect(report.reason == "denied_admin_ingress")
        #expect(
            report.ingress
                == ExplanationReport.Direction(
                    pod: "a/web", isolated: false, isolatingPolicies: [], allowingRules: [], tier: "Admin",
                    adminRule: "AdminNetworkPolicy deny-dev ingress[0] \"no-dev\" (Deny)", baselineRule: nil))
        #expect(report.reasons == ["egress: b/web is not isolated", "ingress: denied by AdminNetworkPolicy deny-dev ingress[0] \"no-dev\" (Deny)"])
    }
}
