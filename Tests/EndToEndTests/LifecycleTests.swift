import Foundation
import Testing
import TollgateTestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEndTests {
    @Test("SIGKILL in fail-open mode lets new connections through (queue bypass); cleanup removes every rule")
    func killedFailOpenDaemonLetsTrafficFlow() throws {
        let scenario = try Self.baseScenario(tag: "e2e-kopen", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        let daemon = try scenario.startDaemon(scenario.options(queue: 600, port: 19601))
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
        #expect(daemon.kill9() == 128 + SIGKILL)
        // The rules stay; with nobody bound to the queue their bypass accepts every new connection.
        #expect(try scenario.tollgateRules().isEmpty == false)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
        let cleanup = try scenario.cleanup()
        #expect(cleanup.succeeded, "\(cleanup)")
        #expect(try scenario.tollgateRules() == [])
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
    }

    @Test("SIGKILL in fail-closed mode blocks new connections until tollgate cleanup removes the rules")
    func killedFailClosedDaemonBlocksUntilCleanup() throws {
        let scenario = try Self.baseScenario(tag: "e2e-kclosed", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        var options = scenario.options(queue: 610, port: 19611)
        options.failClosed = true
        let daemon = try scenario.startDaemon(options)
        #expect(try daemon.status().failureMode == "closed")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
        #expect(daemon.kill9() == 128 + SIGKILL)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [false, false, false, false])
        let cleanup = try scenario.cleanup()
        #expect(cleanup.succeeded, "\(cleanup)")
        #expect(try scenario.tollgateRules() == [])
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
    }

    @Test(
        "SIGTERM stops the daemon within one second",
        arguments: [100, 60_000])
    func sigtermStopsWithinOneSecond(pollIntervalMilliseconds: Int) throws {
        let scenario = try Self.baseScenario(tag: "e2e-term", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        var options = scenario.options(queue: pollIntervalMilliseconds == 100 ? 700 : 710, port: 19701)
        options.pollIntervalMilliseconds = pollIntervalMilliseconds
        let daemon = try scenario.startDaemon(options)
        // Some traffic first, so that the workers are busy with real packets, not idle.
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
        let sent = ContinuousClock.now
        daemon.send(SIGTERM)
        let status = daemon.waitForExit(timeout: .seconds(5))
        let elapsed = ContinuousClock.now - sent
        report("SIGTERM (poll \(pollIntervalMilliseconds) ms) -> exit \(status.map(String.init) ?? "none") after \(elapsed)")
        #expect(status != nil && elapsed < .seconds(1), "stopped after \(elapsed)")
        do {
            #expect(status == 0)
            #expect(daemon.log.contains("stopped; kernel rules left in place"))
        }
        // Rules stay in place after a stop (fail-open: the bypass lets traffic through).
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
    }

    @Test("A second daemon on a queue another process holds exits non-zero naming the queue")
    func queueAlreadyBoundIsRefused() throws {
        let scenario = try Self.baseScenario(tag: "e2e-busy", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        let first = try scenario.startDaemon(scenario.options(queue: 800, port: 19801))
        var options = scenario.options(queue: 800, port: 19802)
        options.workers = 1
        let second = try scenario.startDaemon(options, waitReady: false)
        let status = second.waitForExit(timeout: .seconds(15))
        #expect(status != nil && status != 0, "second daemon: status \(String(describing: status))")
        let log = second.log
        #expect(log.contains("queue") && log.contains("800"), "\(log)")
        report("second daemon on queue 800: exit \(status.map(String.init) ?? "none"), "
            + (log.split(separator: "\n").last { $0.contains("critical") }.map(String.init) ?? "no critical line"))
        // The first daemon is untouched and still enforces.
        #expect(first.get("/readyz").status == 200)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
    }

    @Test("A missing policy directory: fail-open traffic flows, not ready; enforcement begins when it appears")
    func missingPolicyDirectoryAppearsLater() throws {
        let scenario = try Scenario(tag: "e2e-nodir", files: [:], createDirectory: false)
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        let daemon = try scenario.startDaemon(scenario.options(queue: 900, port: 19901), waitReady: false)
        try daemon.wait(for: "rules installed") { () throws(TollgateProcess.Failure) in
            // Nothing answers until the endpoint is bound.
            (try? daemon.status())?.rulesInstalled ?? false
        }
        var status = try daemon.status()
        #expect(status.generation == 0 && !status.ready && status.sources.first?.readable == false, "\(status)")
        #expect(daemon.get("/readyz").status == 503)
        #expect(daemon.get("/healthz").status == 200)
        let before = try daemon.metrics().verdicts["accept/no_snapshot"] ?? 0
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, true, true])
        let after = try daemon.metrics().verdicts["accept/no_snapshot"] ?? 0
        #expect(after - before >= 4, "fail-open verdicts without a snapshot: \(after - before)")

        try scenario.directory.materialize(["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClient])
        try daemon.waitUntilReady(timeout: .seconds(5))
        status = try daemon.status()
        #expect(status.generation == 1 && status.policies == 1 && status.sources.first?.errors == [], "\(status)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
    }

    @Test("Restarting after SIGKILL adopts the rules: exactly one set, no duplicates")
    func restartAfterKillAdoptsRules() throws {
        let scenario = try Self.baseScenario(tag: "e2e-adopt", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        let options = scenario.options(queue: 1000, port: 20001)
        let first = try scenario.startDaemon(options)
        let rules = try scenario.tollgateRules()
        #expect(rules.filter { $0.contains("-j NFQUEUE") }.count == 2, "\(rules)")  // one per family
        #expect(rules.filter { $0.contains("-A POSTROUTING") }.count == 2, "\(rules)")
        #expect(rules.filter { $0.contains("-A INPUT") }.count == 2, "\(rules)")
        first.kill9()
        try scenario.startDaemon(options)
        #expect(try scenario.tollgateRules() == rules)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
    }
}

extension EndToEndTests {
    /// `--worker-priority` puts every worker thread under SCHED_RR at that priority, as the kernel reports it for
    /// each thread (`/proc/<pid>/task/<tid>/stat`: policy 2, real-time priority), and `/status` says so; with the
    /// default the workers stay under normal scheduling (policy 0).
    @Test("--worker-priority runs the workers under SCHED_RR; the default leaves them normal", arguments: [0, 7])
    func workerPriorityIsApplied(priority: Int) throws {
        let scenario = try Self.baseScenario(tag: "e2e-prio", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        var options = scenario.options(queue: UInt16(350 + priority), port: UInt16(19350 + priority))
        options.extraArguments = ["--worker-priority", "\(priority)"]
        let daemon = try scenario.startDaemon(options)
        let status = daemon.get("/status").body
        #expect(status.contains(priority == 0 ? "\"workerScheduling\" : \"normal\"" : "\"workerScheduling\" : \"SCHED_RR \(priority)\""), "\(status)")
        var workers: [(policy: Int, priority: Int)] = []
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/task") {
            let base = "/proc/\(daemon.pid)/task/\(task)"
            let name = (try? String(contentsOfFile: base + "/comm", encoding: .utf8)) ?? ""
            guard name.hasPrefix("tollgate-q"), let stat = try? String(contentsOfFile: base + "/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command name, 1-based from field 3: rt_priority is field 40, policy field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            workers.append((policy: Int(fields[41 - 3]) ?? -1, priority: Int(fields[40 - 3]) ?? -1))
        }
        #expect(workers.count == options.workers)
        for worker in workers {
            #expect(worker.policy == (priority == 0 ? 0 : 2) && worker.priority == priority, "\(workers)")
        }
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
    }
}
