import Foundation
import Testing
import TollgateTestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEndTests {
    /// Load for ~30 s while the policy directory is rewritten every 100 ms between two policy sets that both
    /// allow client -> server:8080 (so any failed allowed connection is a wrong verdict) and both deny
    /// intruder -> server:8080. The long test of the suite (about 40 s).
    @Test("Churn: sustained connections under policy rewrites every 100 ms give no wrong verdict", .timeLimit(.minutes(2)))
    func churnUnderPolicyRewrites() throws {
        let seconds = 30.0
        let scenario = try Scenario(
            tag: "e2e-churn", files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClient])
        defer { scenario.close() }
        let server = try scenario.namespace("server").start(["python3", "-c", Scripts.greetingServer(port: 8080)])
        defer { server.terminate() }
        let daemon = try scenario.startDaemon(scenario.options(queue: 1100, port: 21101))
        try daemon.wait(for: "the greeting server to listen") { () throws(TollgateProcess.Failure) in
            let sockets = try? scenario.namespace("server").execute(["ss", "-Hltn", "sport", "=", ":8080"])
            return sockets.map { !$0.standardOutput.isEmpty } ?? false
        }
        let startGeneration = try daemon.status().generation

        // Clients: the allowed one as fast as it can; the denied one with a short timeout, all the time.
        let allowedLog = scenario.directory.logPath("allowed.out")
        let deniedLog = scenario.directory.logPath("denied.out")
        let allowed = try scenario.namespace("client").start(
            [
                "python3", "-c",
                Scripts.connectionLoop(address: "10.244.1.11", port: 8080, seconds: seconds, timeout: 3, pause: 0),
            ], logPath: allowedLog)
        let denied = try scenario.namespace("intruder").start(
            [
                "python3", "-c",
                Scripts.connectionLoop(address: "10.244.1.11", port: 8080, seconds: seconds, timeout: 0.2, pause: 0),
            ], logPath: deniedLog)
        defer {
            allowed.terminate()
            denied.terminate()
        }

        // Rewrite the policy every 100 ms, alternating selector+named port and ipBlock+numeric port.
        let started = ContinuousClock.now
        var rewrites = 0
        var rssAtFive: Int? = nil
        while ContinuousClock.now - started < .seconds(seconds) {
            try scenario.directory.write(
                "policy.yaml", rewrites % 2 == 0 ? Manifests.serverFromClientByAddress : Manifests.serverFromClient)
            rewrites += 1
            if rssAtFive == nil && ContinuousClock.now - started >= .seconds(5) { rssAtFive = daemon.residentKilobytes() }
            usleep(100_000)
        }
        // The clients stop on their own after `seconds` and print their counts.
        let deadline = ContinuousClock.now + .seconds(10)
        while (allowed.isRunning || denied.isRunning) && ContinuousClock.now < deadline { usleep(20_000) }
        let allowedStatus = allowed.terminate()
        let deniedStatus = denied.terminate()
        let rssAtEnd = daemon.residentKilobytes()
        let status = try daemon.status()
        let metrics = try daemon.metrics()

        func counts(_ path: String) -> [Int] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let last = text.split(separator: "\n").last { $0.first?.isNumber == true } ?? ""
            return last.split(separator: " ").compactMap { Int($0) }
        }
        let allowedCounts = counts(allowedLog)
        let deniedCounts = counts(deniedLog)
        let generations = status.generation - startGeneration
        report(
            "churn \(Int(seconds)) s: allowed ok/failed \(allowedCounts), denied ok/failed \(deniedCounts), "
                + "\(rewrites) rewrites, \(generations) generations, packets queued "
                + "\(Int(metrics.total("tollgate_packets_total"))), RSS \(rssAtFive.map(String.init) ?? "?") kB at 5 s -> "
                + "\(rssAtEnd.map(String.init) ?? "?") kB at end")
        #expect(allowedStatus == 0 && deniedStatus == 0, "client exits \(allowedStatus) \(deniedStatus)")
        #expect(allowedCounts.count == 2 && allowedCounts[0] > 1000 && allowedCounts[1] == 0, "\((try? String(contentsOfFile: allowedLog, encoding: .utf8)) ?? "")")
        #expect(deniedCounts.count == 2 && deniedCounts[0] == 0 && deniedCounts[1] > 10, "\(deniedCounts)")
        #expect(metrics.total("tollgate_queue_dropped_total") == 0)
        #expect(metrics.total("tollgate_queue_user_dropped_total") == 0)
        #expect(metrics.samples.contains { $0.name == "tollgate_queue_dropped_total" }, "kernel queue counters missing")
        #expect(generations >= 100, "only \(generations) generations for \(rewrites) rewrites")
        #expect(status.sources.first?.errors == [])
        if let rssAtFive, let rssAtEnd {
            #expect(Double(rssAtEnd) < Double(rssAtFive) * 1.2, "RSS \(rssAtFive) kB -> \(rssAtEnd) kB")
        } else {
            Issue.record("RSS unreadable: \(String(describing: rssAtFive)) \(String(describing: rssAtEnd))")
        }
    }
}
