import Foundation
import NetworkTypes
import PolicyModel
import Testing
import VerdictEngine

/// The upstream Kubernetes e2e NetworkPolicy suite, run against the compiled engine and the reference evaluator.
@Suite("Upstream e2e NetworkPolicy suite")
struct UpstreamE2ETests {
    /// `Fixtures/upstream-e2e`, next to this file.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/upstream-e2e").path

    /// Probes every ordered pair of distinct model pods and returns the truth tables of both engines.
    static func observe(_ state: ClusterState, probe: UpstreamCase.Probe, family: AddressFamily)
        -> (compiled: Reachability, reference: Reachability)
    {
        let snapshot = PolicyCompiler.compile(state)
        let reference = ReferenceEvaluator(state: state)
        var compiled = Reachability()
        var oracle = Reachability()
        let pods = UpstreamModel.pods
        for (i, source) in pods.enumerated() {
            for (j, destination) in pods.enumerated() where i != j {
                let flow = FlowKey(
                    source: UpstreamModel.address(of: source, family: family),
                    destination: UpstreamModel.address(of: destination, family: family),
                    transport: probe.protocol.ipProtocol, sourcePort: 40_000, destinationPort: probe.port)
                compiled.set(from: i, to: j, snapshot.evaluate(flow).isAllowed)
                oracle.set(from: i, to: j, reference.isAllowed(flow))
            }
        }
        return (compiled, oracle)
    }

    @Test("truth tables match upstream's", arguments: UpstreamCase.all, [AddressFamily.ipv4, .ipv6])
    func truthTablesMatchUpstream(_ testCase: UpstreamCase, family: AddressFamily) throws {
        for (index, step) in testCase.steps.enumerated() {
            let state = try step.state(family: family)
            for probe in step.probes {
                let observed = Self.observe(state, probe: probe, family: family)
                let context = "step \(index + 1), \(probe.protocol.rawValue)/\(probe.port) over \(family)"
                #expect(observed.compiled.table == probe.expected.table, "compiled engine, \(context)")
                #expect(observed.reference.table == probe.expected.table, "reference evaluator, \(context)")
            }
        }
    }

    @Test("the model cluster fixture decodes to the model")
    func clusterFixtureDecodesToTheModel() throws {
        let loaded = ManifestLoader.load(fileAt: Self.fixtures + "/cluster.yaml")
        #expect(loaded.errors == [])
        #expect(loaded.notes == [])
        let state = ClusterState(objects: loaded.objects)
        let model = ClusterState(namespaces: UpstreamModel.namespaces(), pods: UpstreamModel.podObjects())
        #expect(state.namespaces == model.namespaces)
        #expect(state.pods == model.pods)
        #expect(state.networkPolicies == [])
    }

    @Test(
        "policy fixtures decode to the case's policies and give the same truth tables",
        arguments: UpstreamCase.all.filter { $0.fixture != nil })
    func policyFixturesMatchTheCase(_ testCase: UpstreamCase) throws {
        let fixture = try #require(testCase.fixture)
        let first = try #require(testCase.steps.first)
        let cluster = ManifestLoader.load(fileAt: Self.fixtures + "/cluster.yaml")
        let loaded = ManifestLoader.load(fileAt: Self.fixtures + "/" + fixture)
        #expect(cluster.errors == [])
        #expect(loaded.errors == [])
        #expect(loaded.notes == [])
        let policies = loaded.objects.compactMap { object -> NetworkPolicy? in
            if case .networkPolicy(let policy) = object { return policy }
            return nil
        }
        #expect(policies.count == loaded.objects.count, "only NetworkPolicies in \(fixture)")
        let expected = try first.policies(UpstreamAddressing(family: .ipv4))
        #expect(
            policies.sorted { $0.name < $1.name } == expected.sorted { $0.name < $1.name })

        let state = ClusterState(objects: cluster.objects + loaded.objects)
        for probe in first.probes {
            let observed = Self.observe(state, probe: probe, family: .ipv4)
            #expect(observed.compiled.table == probe.expected.table, "\(probe.protocol.rawValue)/\(probe.port)")
            #expect(observed.reference.table == probe.expected.table, "\(probe.protocol.rawValue)/\(probe.port)")
        }
    }

    @Test("the catalogue carries the upstream suite")
    func catalogueCarriesTheUpstreamSuite() {
        let upstream = UpstreamCase.all.filter { $0.origin != .tollgate }
        #expect(upstream.count >= 45)
        // Every name is unique within its context, so every row is one upstream `It`.
        let keys = UpstreamCase.all.map(\.testDescription)
        #expect(Set(keys).count == keys.count)
    }
}
