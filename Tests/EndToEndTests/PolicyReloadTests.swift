import Foundation
import Testing
import TollgateTestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEndTests {
    /// A base scenario with TCP 8080 probe servers on the server pod, and a daemon started with `options`.
    static func baseScenario(tag: String, policy: String) throws -> Scenario {
        let scenario = try Scenario(tag: tag, files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": policy])
        do {
            try scenario.serve("server", port: 8080, transport: .tcp)
        } catch {
            scenario.close()
            throw error
        }
        return scenario
    }

    /// Client and intruder to the server's TCP 8080, IPv4 and IPv6.
    static let clientAndIntruderProbes = [
        Probe("client", "server", 8080), Probe("client", "server", 8080, v: 6),
        Probe("intruder", "server", 8080), Probe("intruder", "server", 8080, v: 6),
    ]

    @Test("A policy change applies to new connections; file-write-to-generation latency is measured")
    func policyChangeTakesEffectForNewConnections() throws {
        let scenario = try Self.baseScenario(tag: "e2e-chg", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        let daemon = try scenario.startDaemon(scenario.options(queue: 300, port: 19301))
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])

        var latencies: [Duration] = []
        for (policy, expected) in [
            (Manifests.serverFromClientAndOther, [true, true, true, true]),
            (Manifests.serverDenyAll, [false, false, false, false]),
            (Manifests.serverFromClient, [true, true, false, false]),
        ] {
            let generation = try daemon.status().generation
            let written = ContinuousClock.now
            try scenario.directory.write("policy.yaml", policy)
            let status = try daemon.waitForGeneration(atLeast: generation + 1)
            latencies.append(ContinuousClock.now - written)
            #expect(status.generation == generation + 1 && status.sources.first?.errors == [], "\(status)")
            #expect(try scenario.reachability(Self.clientAndIntruderProbes) == expected)
        }
        report(
            "policy change latency (file written -> /status generation seen, 100 ms poll): "
                + latencies.map { "\($0.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 0))))" }
                .joined(separator: ", "))
        #expect(latencies.allSatisfy { $0 < .seconds(2) })
    }

    /// Waits for a reload after a write and returns its status.
    static func reloaded(_ daemon: TollgateProcess, after generation: UInt64) throws -> TollgateProcess.Status {
        try daemon.waitForGeneration(atLeast: generation + 1)
    }

    @Test(
        "A bad file leaves enforcement as it was, /status names it, and fixing it applies it",
        arguments: [
            ("syntax", "kind: [\n"),
            (
                "semantics",
                Manifests.ingressPolicy(
                    name: "server-ingress", target: "server",
                    rules: ["{from: [{ipBlock: {cidr: 10.244.3.0/33}}], ports: [{protocol: TCP, port: 70000}]}"])
            ),
        ])
    func badFileKeepsLastGoodEnforcement(kind: String, bad: String) throws {
        let scenario = try Self.baseScenario(tag: "e2e-bad-\(kind.prefix(3))", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        let daemon = try scenario.startDaemon(scenario.options(queue: kind == "syntax" ? 500 : 510, port: 19501))
        let file = scenario.directory.path + "/policy.yaml"

        // An existing file turns bad: its last good objects stay in force.
        try scenario.directory.write("policy.yaml", bad)
        var status = try Self.reloaded(daemon, after: 1)
        #expect(status.sources.first?.errors.count ?? 0 >= 1)
        #expect(status.sources.first?.errors.allSatisfy { $0.hasPrefix(file) } == true, "\(status.sources)")
        #expect(status.sources.first?.filesKeptFromLastGood == [file])
        #expect(status.policies == 1)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])

        // A new bad file contributes nothing; the other file's last good objects still apply.
        try scenario.directory.write("extra.yaml", bad)
        status = try Self.reloaded(daemon, after: status.generation)
        let extra = scenario.directory.path + "/extra.yaml"
        #expect(Set(status.sources.first?.filesKeptFromLastGood ?? []) == [file, extra])
        #expect(status.sources.first?.errors.contains { $0.hasPrefix(extra) } == true, "\(status.sources)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])

        // Fixing both applies the new policy.
        try scenario.directory.delete("extra.yaml")
        try scenario.directory.write("policy.yaml", Manifests.serverFromClientAndOther)
        try daemon.wait(for: "a clean reload") { () throws(TollgateProcess.Failure) in
            let current = try daemon.status()
            return current.sources.first?.errors == [] && current.generation > status.generation
        }
        status = try daemon.status()
        #expect(status.sources.first?.filesKeptFromLastGood == [] && status.policies == 1, "\(status)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
    }
}
