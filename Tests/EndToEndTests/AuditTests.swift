import Foundation
import Testing
import TollgateTestSupport

extension EndToEndTests {
    @Test("Global audit mode: a connection the policy denies still connects, and is counted and logged as audited")
    func globalAuditLetsDenialsThrough() throws {
        let scenario = try Scenario(
            tag: "e2e-audit", files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClient])
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        var options = scenario.options(queue: 900, port: 19901)
        options.extraArguments = ["--audit"]
        let daemon = try scenario.startDaemon(options)
        #expect(try scenario.reachability([Probe("client", "server", 8080), Probe("intruder", "server", 8080)]) == [true, true])
        try daemon.wait(for: "the audited denial in the log") { () throws(TollgateProcess.Failure) in
            daemon.log.contains("audited (allowed) denial of TCP other/intruder -> app/server:8080 by ingress policy")
        }
        let metrics = try daemon.metrics()
        #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "audit", "reason": "denied_ingress"]) >= 1)
        #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop"]) == 0)
        #expect(daemon.log.contains("isolated-by=app/server-ingress"))
    }

    @Test("Namespace audit mode: denials by that namespace's policies pass; other namespaces stay enforced")
    func namespaceAuditIsPerNamespace() throws {
        // Namespace app is in audit mode: its server's ingress denial is audited. Namespace other enforces an
        // egress deny-all for the intruder, so the intruder's own policy still drops its connections.
        let cluster = Manifests.baseCluster.replacingOccurrences(
            of: "metadata: {name: app, labels: {team: app}}",
            with: "metadata: {name: app, labels: {team: app}, annotations: {tollgate.io/enforcement: audit}}")
        #expect(cluster != Manifests.baseCluster)
        let intruderEgress = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: intruder-egress, namespace: other}
            spec: {podSelector: {}, policyTypes: [Egress]}
            """
        let scenario = try Scenario(
            tag: "e2e-nsaudit", files: ["cluster.yaml": cluster, "policy.yaml": Manifests.serverFromClient])
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        try scenario.serve("client", port: 8080, transport: .tcp)
        let daemon = try scenario.startDaemon(scenario.options(queue: 910, port: 19911))
        #expect(try scenario.reachability([Probe("intruder", "server", 8080)]) == [true])
        try scenario.directory.write("intruder.yaml", intruderEgress)
        _ = try daemon.waitForGeneration(atLeast: 2)
        #expect(try scenario.reachability([Probe("intruder", "server", 8080), Probe("server", "client", 8080)]) == [false, true])
        let metrics = try daemon.metrics()
        #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "audit", "reason": "denied_ingress"]) >= 1)
        #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_egress"]) >= 1)
    }

    @Test("Denied-connection log lines are rate-limited; every denial is still counted")
    func denialLogIsRateLimited() throws {
        let scenario = try Scenario(
            tag: "e2e-denylog", files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverDenyAll])
        defer { scenario.close() }
        var options = scenario.options(queue: 920, port: 19921)
        options.extraArguments = ["--deny-log-rate", "1"]
        let daemon = try scenario.startDaemon(options)
        // 30 UDP datagrams, each from a new socket: 30 new connections, 30 denials in well under a second.
        let sender = """
            import socket
            for i in range(30):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(b"x", ("10.244.1.11", 5353))
                s.close()
            """
        _ = try scenario.namespace("client").run(["python3", "-c", sender])
        try daemon.wait(for: "30 denials counted") { () throws(TollgateProcess.Failure) in
            (try? daemon.metrics().total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_ingress"])) ?? 0 >= 30
        }
        usleep(300_000)
        let lines = daemon.log.split(separator: "\n").filter { $0.contains("denied UDP app/client -> app/server:5353") }
        report("deny log at 1 line/s: \(lines.count) lines for 30 denials")
        // A burst of two lines, plus at most one more per second elapsed.
        #expect((1...4).contains(lines.count))
    }
}
