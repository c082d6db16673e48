import Foundation
public import LinuxSupport
public import TollgateDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// The real `tollgate run` binary started inside a network namespace for an end-to-end test, with helpers to
/// wait until it is ready, read its `/status`, `/metrics`, `/readyz` endpoints (through `curl` inside the same
/// namespace, since the endpoint listens on that namespace's loopback), signal it and stop it.
///
/// The process is `ip netns exec <node> tollgate run ...`; `ip netns exec` enters the namespace and `exec`s the
/// program, so `pid` is the daemon itself. `deinit` kills it as a backstop (its `BackgroundProcess` does).
public final class TollgateProcess: @unchecked Sendable {
    /// The command-line options of `tollgate run` that end-to-end tests vary.
    public struct Options: Sendable {
        /// `--policy-dir` (nil: none, for a daemon fed by the Kubernetes API only).
        public var policyDirectory: String?
        /// `--pod-cidr`, repeated.
        public var podCIDRs: [String]
        /// `--exempt-cidr`, repeated.
        public var exemptCIDRs: [String]
        /// `--workers`.
        public var workers: Int
        /// `--queue-num` (the first queue).
        public var queueNumber: UInt16
        /// `--fail-closed` when true.
        public var failClosed: Bool
        /// The port of `--metrics-addr 127.0.0.1:<port>`.
        public var metricsPort: UInt16
        /// `--backend` (nil: the daemon's default, `auto`).
        public var backend: String?
        /// `--log-level`.
        public var logLevel: String
        /// `--poll-interval-ms` (nil: the daemon's default).
        public var pollIntervalMilliseconds: Int?
        /// More `run` arguments, appended as given (`--audit`, `--deny-log-rate 1`, …).
        public var extraArguments: [String] = []

        /// Creates options; the defaults match the routed test topology (10.244.0.0/16 and fd00:244::/48).
        public init(
            policyDirectory: String?, podCIDRs: [String] = ["10.244.0.0/16", "fd00:244::/48"], exemptCIDRs: [String] = [],
            workers: Int = 2, queueNumber: UInt16, failClosed: Bool = false, metricsPort: UInt16,
            backend: String? = nil, logLevel: String = "info", pollIntervalMilliseconds: Int? = nil
        ) {
            self.policyDirectory = policyDirectory
            self.podCIDRs = podCIDRs
            self.exemptCIDRs = exemptCIDRs
            self.workers = workers
            self.queueNumber = queueNumber
            self.failClosed = failClosed
            self.metricsPort = metricsPort
            self.backend = backend
            self.logLevel = logLevel
            self.pollIntervalMilliseconds = pollIntervalMilliseconds
        }

        /// The arguments after the binary's path.
        public var arguments: [String] {
            var result = ["run"]
            if let policyDirectory { result += ["--policy-dir", policyDirectory] }
            for cidr in podCIDRs { result += ["--pod-cidr", cidr] }
            for cidr in exemptCIDRs { result += ["--exempt-cidr", cidr] }
            result += ["--workers", "\(workers)", "--queue-num", "\(queueNumber)"]
            if failClosed { result.append("--fail-closed") }
            result += ["--metrics-addr", "127.0.0.1:\(metricsPort)", "--log-level", logLevel]
            if let backend { result += ["--backend", backend] }
            if let pollIntervalMilliseconds { result += ["--poll-interval-ms", "\(pollIntervalMilliseconds)"] }
            return result + extraArguments
        }
    }

    /// Why a daemon could not be found, started, queried or stopped.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// No binary at any of the places looked at.
        case binaryNotFound(searched: [String])
        /// The namespace harness could not run a command.
        case harness(NetworkNamespaceError)
        /// The daemon exited while the test waited for something; its exit status and log.
        case exited(status: Int32, log: String)
        /// A condition was not met in time.
        case timedOut(waitingFor: String, log: String)
        /// An endpoint answered something that could not be decoded.
        case badResponse(path: String, status: Int, body: String)

        /// A readable account of the failure.
        public var description: String {
            switch self {
            case .binaryNotFound(let searched):
                return "no tollgate binary: set TOLLGATE_BINARY or run `swift build --product tollgate` "
                    + "(looked at \(searched.joined(separator: ", ")))"
            case .harness(let error):
                return "namespace harness: \(error)"
            case .exited(let status, let log):
                return "tollgate exited with status \(status); log:\n\(log)"
            case .timedOut(let what, let log):
                return "timed out waiting for \(what); daemon log:\n\(log)"
            case .badResponse(let path, let status, let body):
                return "GET \(path) answered \(status): \(body.prefix(400))"
            }
        }
    }

    /// The `/status` document, as the daemon writes it.
    public typealias Status = StatusReport

    /// A parsed Prometheus text exposition (`/metrics`).
    public typealias Metrics = PrometheusSamples

    /// The namespace the daemon runs in.
    public let namespace: NetworkNamespace
    /// The options it was started with.
    public let options: Options
    /// Where its standard output and error go.
    public let logPath: String
    /// The daemon's process.
    public let process: CommandRunner.BackgroundProcess

    /// The daemon's process id.
    public var pid: Int32 { process.pid }

    /// The binary to test: `TOLLGATE_BINARY`, else `<repo>/.build/debug/tollgate`, else
    /// `<repo>/.build/release/tollgate` (the repository root is found from this source file's path).
    public static func binaryPath() throws(Failure) -> String {
        var searched: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["TOLLGATE_BINARY"], !explicit.isEmpty {
            if access(explicit, X_OK) == 0 { return explicit }
            searched.append("TOLLGATE_BINARY=\(explicit)")
            throw .binaryNotFound(searched: searched)
        }
        // This file is <repo>/Tests/TollgateTestSupport/TollgateProcess.swift.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        for candidate in ["\(repository)/.build/debug/tollgate", "\(repository)/.build/release/tollgate"] {
            if access(candidate, X_OK) == 0 { return candidate }
            searched.append(candidate)
        }
        throw .binaryNotFound(searched: searched)
    }

    /// Starts `tollgate run` with `options` inside `namespace`, logging to `logPath` (appended).
    /// Does not wait for it to be ready: see `waitUntilReady(timeout:)`.
    public init(in namespace: NetworkNamespace, options: Options, logPath: String) throws(Failure) {
        let binary = try Self.binaryPath()
        self.namespace = namespace
        self.options = options
        self.logPath = logPath
        do {
            process = try namespace.start([binary] + options.arguments, logPath: logPath)
        } catch {
            throw .harness(error)
        }
    }

    /// Everything the daemon has logged so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log at \(logPath))"
    }

    /// Whether the daemon is still running.
    public var isRunning: Bool { process.isRunning }

    /// An HTTP GET of `path` on the metrics endpoint: the status code (0 when nothing answered) and body.
    public func get(_ path: String) -> (status: Int, body: String) {
        let marker = "\n--tollgate-http-status:"
        let arguments = [
            "curl", "-s", "--max-time", "3", "-w", "\(marker)%{http_code}",
            "http://127.0.0.1:\(options.metricsPort)\(path)",
        ]
        guard let result = try? namespace.execute(arguments),
            let range = result.standardOutput.range(of: marker, options: .backwards)
        else { return (0, "") }
        let status = Int(result.standardOutput[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return (status, String(result.standardOutput[..<range.lowerBound]))
    }

    /// `GET /status`, decoded.
    public func status() throws(Failure) -> Status {
        let (code, body) = get("/status")
        guard code == 200 else {
            if !isRunning { throw .exited(status: process.terminate(), log: log) }
            throw .badResponse(path: "/status", status: code, body: body)
        }
        do {
            return try JSONDecoder().decode(Status.self, from: Data(body.utf8))
        } catch {
            throw .badResponse(path: "/status", status: code, body: "\(error): \(body)")
        }
    }

    /// `GET /metrics`, parsed.
    public func metrics() throws(Failure) -> Metrics {
        let (code, body) = get("/metrics")
        guard code == 200 else {
            if !isRunning { throw .exited(status: process.terminate(), log: log) }
            throw .badResponse(path: "/metrics", status: code, body: body)
        }
        return Metrics(parsing: body)
    }

    /// Waits until `condition` holds, checking every `interval`; throws when the daemon exits or time runs out.
    public func wait(
        for description: String, timeout: Duration = .seconds(15), interval: Duration = .milliseconds(20),
        until condition: () throws(Failure) -> Bool
    ) throws(Failure) {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try condition() { return }
            if !isRunning { throw .exited(status: process.terminate(), log: log) }
            if ContinuousClock.now >= deadline { throw .timedOut(waitingFor: description, log: log) }
            Self.sleep(interval)
        }
    }

    /// Waits until `/readyz` answers 200.
    public func waitUntilReady(timeout: Duration = .seconds(20)) throws(Failure) {
        try wait(for: "/readyz to answer 200", timeout: timeout) { () throws(Failure) in get("/readyz").status == 200 }
    }

    /// Waits until `/status` reports a generation of at least `generation`; returns that status.
    @discardableResult
    public func waitForGeneration(atLeast generation: UInt64, timeout: Duration = .seconds(10)) throws(Failure) -> Status {
        var last: Status? = nil
        try wait(for: "snapshot generation \(generation)", timeout: timeout, interval: .milliseconds(5)) {
            () throws(Failure) in
            let status = try self.status()
            last = status
            return status.generation >= generation
        }
        guard let last else { throw .timedOut(waitingFor: "snapshot generation \(generation)", log: log) }
        return last
    }

    /// Sends `signal` to the daemon.
    public func send(_ signal: Int32) {
        _ = kill(pid, signal)
    }

    /// Waits up to `timeout` for the daemon to exit; returns its exit status (128 plus the signal number when a
    /// signal ended it), or nil if it is still running.
    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            Self.sleep(.milliseconds(1))
        }
        return process.terminate()  // already reaped: returns the recorded status
    }

    /// Kills the daemon with SIGKILL and waits for it; returns its exit status.
    @discardableResult
    public func kill9() -> Int32 {
        send(SIGKILL)
        return waitForExit(timeout: .seconds(5)) ?? process.terminate(grace: .zero)
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after `grace`); returns its exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(3)) -> Int32 {
        process.terminate(grace: grace)
    }

    /// The daemon's resident set size in kilobytes (`VmRSS` in `/proc/<pid>/status`), nil once it has exited.
    public func residentKilobytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { return nil }
            return Int(fields[1])
        }
        return nil
    }

    static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        if microseconds > 0 { _ = usleep(UInt32(clamping: microseconds)) }
    }
}
