import Foundation
import LinuxSupport
import Testing
import TollgateTestSupport

/// Revocation of established connections: a long TCP connection from the client pod to the server pod's echo
/// server, then a policy change. A tightened policy cuts it within a second; a loosened one, `--no-revoke` and
/// audit mode cut nothing.
extension EndToEndTests {
    /// The part of `/status` revocation adds.
    struct RevocationStatus: Decodable, Equatable {
        struct Counters: Decodable, Equatable {
            var enabled: Bool
            var scans: Int
            var revoked: Int
            var wouldRevoke: Int
            var tombstones: Int
            var lifted: Int
            var errors: Int
        }

        var generation: UInt64
        var revocation: Counters
    }

    /// `/status` with the revocation counters.
    static func revocationStatus(_ daemon: TollgateProcess) throws -> RevocationStatus {
        let (code, body) = daemon.get("/status")
        #expect(code == 200)
        return try JSONDecoder().decode(RevocationStatus.self, from: Data(body.utf8))
    }

    /// A TCP client that sends a line every 100 ms on one connection and waits for its echo (500 ms at most).
    /// Prints `connected`, then `ok <t>` per echoed line (`t`: CLOCK_MONOTONIC seconds when the line was sent),
    /// and ends with `done` after `lines` lines, or `cut <t> <error>` for the first line that got no echo.
    static func revocationClient(address: String, port: UInt16, lines: Int) -> String {
        """
        import socket, sys, time
        now = lambda: time.clock_gettime(time.CLOCK_MONOTONIC)
        c = socket.create_connection(("\(address)", \(port)), timeout=5)
        c.settimeout(0.5)
        print("connected", flush=True)
        for i in range(\(lines)):
            line = b"line %04d\\n" % i
            sent = now()
            try:
                c.sendall(line)
                got = b""
                while len(got) < len(line):
                    chunk = c.recv(4096)
                    if not chunk:
                        raise OSError("closed by the peer")
                    got += chunk
            except OSError as e:
                print("cut %.6f %s" % (sent, e), flush=True)
                sys.exit(0)
            print("ok %.6f" % sent, flush=True)
            time.sleep(0.1)
        print("done", flush=True)
        """
    }

    /// The client's output as lines, split into words.
    static func clientLines(_ path: String) -> [[String]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    /// The outcome of one long connection across a policy change.
    struct LongConnectionRun {
        /// `connected`, `ok` per echoed line, then `done` or `cut` (first word of each line).
        var kinds: [String]
        /// Seconds from the policy write to the first line that got no echo (nil: not cut).
        var cutAfter: Double?
        /// The daemon's revocation counters at the end.
        var status: RevocationStatus
    }

    /// Runs the client (`lines` lines) from the client pod to the server over IPv`family`, writes `policy` once
    /// five lines were echoed, and waits for the client to finish.
    static func longConnectionAcrossChange(
        tag: String, queue: UInt16, port: UInt16, family: Int, lines: Int, policy: String, extraArguments: [String] = []
    ) throws -> LongConnectionRun {
        let scenario = try Scenario(
            tag: tag, files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClient])
        defer { scenario.close() }
        let server = try scenario.namespace("server").start(["python3", "-c", Scripts.echoServer(port: 8080)])
        defer { server.terminate() }
        var options = scenario.options(queue: queue, port: port)
        options.pollIntervalMilliseconds = 0
        options.extraArguments = extraArguments
        let daemon = try scenario.startDaemon(options)
        try daemon.wait(for: "the echo server to listen") { () throws(TollgateProcess.Failure) in
            let sockets = try? scenario.namespace("server").execute(["ss", "-Hltn", "sport", "=", ":8080"])
            return sockets.map { !$0.standardOutput.isEmpty } ?? false
        }
        let output = scenario.directory.logPath("client.log")
        let client = try scenario.namespace("client").start(
            ["python3", "-u", "-c", revocationClient(address: try scenario.address("server", family: family), port: 8080, lines: lines)],
            logPath: output)
        defer { client.terminate() }
        try daemon.wait(for: "five echoed lines", timeout: .seconds(10)) { () throws(TollgateProcess.Failure) in
            clientLines(output).filter { $0.first == "ok" }.count >= 5
        }
        let before = try revocationStatus(daemon)
        let written = Double(MonotonicClock.nanoseconds()) / 1e9
        try scenario.directory.write("policy.yaml", policy)
        try daemon.waitForGeneration(atLeast: before.generation + 1, timeout: .seconds(3))
        try daemon.wait(for: "the client to finish", timeout: .seconds(Double(lines) * 0.2 + 5)) {
            () throws(TollgateProcess.Failure) in
            clientLines(output).last.map { $0.first == "done" || $0.first == "cut" } ?? false
        }
        let words = clientLines(output)
        let cut = words.first { $0.first == "cut" }.flatMap { $0.count >= 2 ? Double($0[1]) : nil }
        return LongConnectionRun(
            kinds: words.compactMap(\.first), cutAfter: cut.map { $0 - written },
            status: try revocationStatus(daemon))
    }

    @Test("revocation: a tightened policy cuts the established connection within a second", arguments: [4, 6])
    func revocationCutsForbiddenConnection(family: Int) throws {
        let run = try Self.longConnectionAcrossChange(
            tag: "rv-cut\(family)", queue: family == 4 ? 2100 : 2110, port: family == 4 ? 22101 : 22111,
            family: family, lines: 60, policy: Manifests.serverDenyAll)
        report("revocation IPv\(family): policy written -> first line without echo after \(run.cutAfter.map { String(format: "%.0f ms", $0 * 1000) } ?? "never")")
        #expect(run.kinds.last == "cut", "\(run.kinds)")
        let cutAfter = try #require(run.cutAfter)
        #expect(cutAfter < 1.0, "cut \(cutAfter) s after the write")
        #expect(run.status.revocation.revoked >= 1 && run.status.revocation.errors == 0, "\(run.status)")
        #expect(run.status.revocation.enabled && run.status.revocation.wouldRevoke == 0)
        #expect(run.status.revocation.tombstones >= 1, "\(run.status)")
    }

    @Test("revocation: a loosened policy cuts nothing")
    func revocationKeepsAllowedConnection() throws {
        let run = try Self.longConnectionAcrossChange(
            tag: "rv-loose", queue: 2120, port: 22121, family: 4, lines: 20, policy: Manifests.serverFromClientAndOther)
        #expect(run.kinds == ["connected"] + Array(repeating: "ok", count: 20) + ["done"])
        #expect(run.status.revocation.scans >= 2 && run.status.revocation.revoked == 0, "\(run.status)")
        #expect(run.status.revocation.tombstones == 0)
        #expect(run.status.revocation.errors == 0)
    }

    @Test("revocation: --no-revoke leaves established connections alone")
    func revocationOffKeepsConnection() throws {
        let run = try Self.longConnectionAcrossChange(
            tag: "rv-off", queue: 2130, port: 22131, family: 4, lines: 20, policy: Manifests.serverDenyAll,
            extraArguments: ["--no-revoke"])
        #expect(run.kinds == ["connected"] + Array(repeating: "ok", count: 20) + ["done"])
        #expect(
            run.status.revocation
                == RevocationStatus.Counters(
                    enabled: false, scans: 0, revoked: 0, wouldRevoke: 0, tombstones: 0, lifted: 0, errors: 0))
    }

    @Test("revocation: audit mode counts the connection as would-revoke and keeps it")
    func revocationAuditKeepsConnection() throws {
        let run = try Self.longConnectionAcrossChange(
            tag: "rv-audit", queue: 2140, port: 22141, family: 4, lines: 20, policy: Manifests.serverDenyAll,
            extraArguments: ["--audit"])
        #expect(run.kinds == ["connected"] + Array(repeating: "ok", count: 20) + ["done"])
        #expect(
            run.status.revocation.revoked == 0 && run.status.revocation.tombstones == 0
                && run.status.revocation.wouldRevoke >= 1, "\(run.status)")
    }
}
