import ArgumentParser
import Foundation
import LinuxSupport
import TollgateDaemon

/// `tollgate status`: asks a running daemon's HTTP endpoint (`/status` and `/metrics`) and prints its state.
///
/// Verdict and packet rates come from two `/metrics` scrapes `--interval` seconds apart (totals only with
/// `--once`). Exits 1 with a clear message when nothing answers or the answer is not a Tollgate status.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the state of the running daemon: sources, snapshot, rules, verdict rates, queue drops.",
        discussion: """
            Reads /status and /metrics from the daemon's endpoint: --metrics-addr, else metricsAddr in \
            /etc/tollgate/config.yaml, else 127.0.0.1:9470. Exits 1 when no daemon answers.
            """
    )

    /// The output formats.
    enum Output: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .customLong("metrics-addr"), help: "HOST:PORT of the daemon's metrics and status endpoint.")
    var metricsAddress: String?

    @Flag(help: "Scrape once and print totals only (no rates).")
    var once = false

    @Option(help: "Seconds between the two scrapes that give the rates.")
    var interval: Double = 1

    @Option(help: "text (readable) or json (the raw /status document plus totals and computed rates).")
    var output: Output = .text

    func validate() throws {
        guard interval > 0 && interval <= 60 else { throw ValidationError("--interval: from 0 to 60 seconds") }
    }

    func run() throws {
        let address = try endpoint()
        let client = StatusClient(address: address, timeout: .seconds(3))
        let report: StatusReading
        do {
            let first = try client.scrape()
            if once {
                report = StatusReading(address: address, latest: first, earlier: nil)
            } else {
                Thread.sleep(forTimeInterval: interval)
                report = StatusReading(address: address, latest: try client.scrape(), earlier: first)
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        switch output {
        case .text: print(report.text, terminator: "")
        case .json: print(report.json, terminator: "")
        }
    }

    /// Where to connect: the flag, the configuration file's `metricsAddr`, or the default; an unspecified listen
    /// address (`0.0.0.0`, `::`) is reached through loopback.
    private func endpoint() throws -> ListenAddress {
        var address: ListenAddress
        if let metricsAddress {
            do {
                address = try ListenAddress(parsing: metricsAddress)
            } catch {
                throw ValidationError("--metrics-addr: \(error)")
            }
        } else if FileManager.default.fileExists(atPath: ConfigurationFile.defaultPath),
            let configured = try? ConfigurationFile.load(path: ConfigurationFile.defaultPath).metricsAddress
        {
            address = configured
        } else if let fallback = ConfigurationFile.defaultMetricsAddress {
            address = fallback
        } else {
            throw ValidationError("--metrics-addr: required")
        }
        if address.host == "0.0.0.0", let loopback = try? ListenAddress(host: "127.0.0.1", port: address.port) {
            address = loopback
        } else if address.host == "::", let loopback = try? ListenAddress(host: "::1", port: address.port) {
            address = loopback
        }
        return address
    }
}

// MARK: - Fetching

/// One pair of `/status` and `/metrics` documents and when they were read.
private struct Scrape {
    /// The `/status` JSON as parsed objects (kept raw for `--output json`).
    var rawStatus: [String: Any]
    /// The `/status` fields the text output shows.
    var status: DaemonStatus
    /// The `/metrics` samples.
    var metrics: MetricSamples
    /// When `/metrics` was read.
    var time: ContinuousClock.Instant
}

/// A blocking HTTP/1.1 GET client for the daemon's endpoint (RFC 9112), one connection per request.
///
/// The `tollgate` module otherwise holds no socket code; this belongs in LinuxSupport as an `HTTPClient` next to
/// `HTTPServer` (a follow-up the owner of LinuxSupport can take).
private struct StatusClient {
    let address: ListenAddress
    let timeout: Duration

    /// Why the daemon could not be asked.
    enum Failure: Error, CustomStringConvertible {
        /// A system call failed (nothing listens, a timeout...).
        case system(SystemError)
        /// The endpoint answered something else than 200.
        case httpStatus(path: String, status: Int, body: String)
        /// The answer could not be understood.
        case malformed(path: String, reason: String)

        var description: String {
            switch self {
            case .system(let error):
                return "no Tollgate daemon answers: \(error)\n"
                    + "Is the service running (systemctl status tollgate)? Is --metrics-addr right?"
            case .httpStatus(let path, let status, let body):
                return "GET \(path) answered HTTP \(status): \(body.prefix(200))"
            case .malformed(let path, let reason):
                return "GET \(path): not a Tollgate answer: \(reason)"
            }
        }
    }

    func scrape() throws(Failure) -> Scrape {
        let statusBody = try get("/status")
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: Data(statusBody.utf8))
        } catch {
            throw .malformed(path: "/status", reason: "invalid JSON (\(error.localizedDescription))")
        }
        guard let object = raw as? [String: Any] else {
            throw .malformed(path: "/status", reason: "expected a JSON object")
        }
        let status: DaemonStatus
        do {
            status = try JSONDecoder().decode(DaemonStatus.self, from: Data(statusBody.utf8))
        } catch {
            throw .malformed(path: "/status", reason: "\(error)")
        }
        let metrics = MetricSamples(parsing: try get("/metrics"))
        return Scrape(rawStatus: object, status: status, metrics: metrics, time: .now)
    }

    /// GETs `path` and returns the body of a 200 answer.
    func get(_ path: String) throws(Failure) -> String {
        let response = try exchange(
            "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: tollgate-status\r\nAccept: */*\r\n"
                + "Connection: close\r\n\r\n")
        guard let split = response.range(of: "\r\n\r\n") else {
            throw .malformed(path: path, reason: "no end of header in \(response.utf8.count) bytes")
        }
        let statusLine = response[..<split.lowerBound].prefix { $0 != "\r" }
        let fields = statusLine.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let code = Int(fields[1]) else {
            throw .malformed(path: path, reason: "bad status line \"\(statusLine.prefix(80))\"")
        }
        let body = String(response[split.upperBound...])
        guard code == 200 else { throw .httpStatus(path: path, status: code, body: body) }
        return body
    }

    private var hostHeader: String {
        address.family == .ipv6 ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }

    private var display: String { hostHeader }

    /// Connects, sends `request`, reads until the server closes (at most 8 MiB).
    private func exchange(_ request: String) throws(Failure) -> String {
        let family = address.family == .ipv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .system(SystemError(call: "socket(\(display))", errno: .current)) }
        defer { _ = close(descriptor) }  // the answer is already read; a close error cannot change it
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(descriptor, SOL_SOCKET, option, &time, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw .system(SystemError(call: "setsockopt(\(display))", errno: .current))
            }
        }
        try connect(descriptor)
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return send(descriptor, base + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(SystemError(call: "send(\(display))", errno: .current))
            }
            sent += count
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let limit = 8 << 20
        while response.count <= limit {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(SystemError(call: "recv(\(display))", errno: .current))
            }
            response.append(contentsOf: chunk[0..<count])
        }
        bytes.removeAll()
        return String(decoding: response, as: UTF8.self)
    }

    /// The corresponding C function is `connect`; retries `EINTR`.
    private func connect(_ descriptor: Int32) throws(Failure) {
        var result: Int32
        if address.family == .ipv6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = address.port.bigEndian
            guard inet_pton(AF_INET6, address.host, &socketAddress.sin6_addr) == 1 else {
                throw .system(SystemError(call: "inet_pton(\(address.host))", errno: Errno(rawValue: EINVAL)))
            }
            repeat {
                result = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            } while result < 0 && errno == EINTR
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = address.port.bigEndian
            guard inet_pton(AF_INET, address.host, &socketAddress.sin_addr) == 1 else {
                throw .system(SystemError(call: "inet_pton(\(address.host))", errno: Errno(rawValue: EINVAL)))
            }
            repeat {
                result = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            } while result < 0 && errno == EINTR
        }
        guard result == 0 else { throw .system(SystemError(call: "connect(\(display))", errno: .current)) }
    }
}

// MARK: - Documents

/// The `/status` fields `tollgate status` shows (the daemon's `StatusReport`); fields added later are ignored,
/// and `audit` fields are optional so that older daemons still answer.
private struct DaemonStatus: Decodable {
    struct Snapshot: Decodable {
        var generation: UInt64
        var namespaces: Int
        var pods: Int
        var policies: Int
        var identities: Int
        var tableBytes: Int
        var compileMilliseconds: Double
    }

    struct Source: Decodable {
        var kind: String
        var path: String
        var readable: Bool
        var lastChange: String?
        var errors: [String]
        var filesKeptFromLastGood: [String]
        var connected: Bool?
        var objects: Int?
        var objectsOverridden: Int?
        var events: UInt64?
        var relists: UInt64?
        var reconnects: UInt64?
        var malformedEvents: UInt64?
    }

    struct Worker: Decodable {
        var queue: UInt16
        var packets: UInt64
        var accepted: UInt64
        var audited: UInt64?
        var dropped: UInt64
        var cacheHits: UInt64
        var cacheMisses: UInt64
        var snapshotGeneration: UInt64
    }

    var ready: Bool
    var backend: String?
    var backendReason: String
    var rulesInstalled: Bool
    var failureMode: String
    var audit: Bool?
    var queues: [UInt16]
    var workers: Int
    var podCIDRs: [String]
    var exemptCIDRs: [String]
    var snapshot: Snapshot
    var sources: [Source]
    var sourceConflicts: [String]?
    var workerStatistics: [Worker]
    var cacheHitRatio: Double
    var uptimeSeconds: Double
    /// Whether the kernel allow cache is on (absent from daemons older than it).
    var kernelAllowCache: Bool?
    /// New connections the kernel allow cache let through without queueing (absent when unknown).
    var kernelCacheAccepts: UInt64?
}

/// Samples of a Prometheus text exposition (format 0.0.4): `name{label="value",...} value` lines.
private struct MetricSamples {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    /// Parses the text; lines that are not samples (comments, garbage) are skipped.
    init(parsing text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let sample = Self.sample(line) { samples.append(sample) }
        }
    }

    /// The sum of every sample of `name` whose labels include `matching`; nil when there is none.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double? {
        let values = samples.filter { sample in
            sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
        }.map(\.value)
        return values.isEmpty ? nil : values.reduce(0, +)
    }

    /// The distinct values of `label` on samples of `name`, in first-seen order.
    func labelValues(_ name: String, _ label: String) -> [String] {
        var seen: [String] = []
        for sample in samples where sample.name == name {
            if let value = sample.labels[label], !seen.contains(value) { seen.append(value) }
        }
        return seen
    }

    private static func sample(_ line: Substring) -> Sample? {
        var name = ""
        var labels: [String: String] = [:]
        var rest = line[...]
        if let brace = line.firstIndex(of: "{") {
            name = String(line[..<brace])
            var index = line.index(after: brace)
            while index < line.endIndex, line[index] != "}" {
                guard let equals = line[index...].firstIndex(of: "=") else { return nil }
                let labelName = line[index..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                var cursor = line.index(after: equals)
                guard cursor < line.endIndex, line[cursor] == "\"" else { return nil }
                cursor = line.index(after: cursor)
                var value = ""
                while cursor < line.endIndex, line[cursor] != "\"" {
                    if line[cursor] == "\\" {
                        let next = line.index(after: cursor)
                        guard next < line.endIndex else { return nil }
                        value.append(line[next] == "n" ? "\n" : line[next])
                        cursor = line.index(after: next)
                    } else {
                        value.append(line[cursor])
                        cursor = line.index(after: cursor)
                    }
                }
                guard cursor < line.endIndex else { return nil }
                labels[labelName] = value
                index = line.index(after: cursor)
                while index < line.endIndex, line[index] == "," || line[index] == " " { index = line.index(after: index) }
            }
            guard index < line.endIndex else { return nil }
            rest = line[line.index(after: index)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = String(line[..<space])
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) ?? Self.special(first) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return nil
        }
    }
}

// MARK: - Presentation

/// One or two scrapes turned into totals, rates, and the text or JSON that `tollgate status` prints.
private struct StatusReading {
    let address: ListenAddress
    let latest: Scrape
    /// The first of two scrapes; nil with `--once`.
    let earlier: Scrape?

    /// The counters shown as totals and rates, by row name.
    static let verdictRows: [(name: String, metric: String, labels: [String: String])] = [
        ("accept", "tollgate_verdicts_total", ["action": "accept"]),
        ("drop", "tollgate_verdicts_total", ["action": "drop"]),
        ("audit", "tollgate_verdicts_total", ["action": "audit"]),
        ("packets", "tollgate_packets_total", [:]),
    ]

    /// Seconds between the two scrapes.
    var interval: Double? {
        guard let earlier else { return nil }
        let (seconds, attoseconds) = (latest.time - earlier.time).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    func total(_ row: (name: String, metric: String, labels: [String: String])) -> Double {
        latest.metrics.sum(row.metric, row.labels) ?? 0
    }

    /// Per-second rate of a row over the interval (counter resets count as zero).
    func rate(_ row: (name: String, metric: String, labels: [String: String])) -> Double? {
        guard let earlier, let interval, interval > 0 else { return nil }
        let delta = total(row) - (earlier.metrics.sum(row.metric, row.labels) ?? 0)
        return max(delta, 0) / interval
    }

    var text: String {
        let status = latest.status
        let metrics = latest.metrics
        var lines: [String] = []
        lines.append(
            "Tollgate at \(address.family == .ipv6 ? "[\(address.host)]" : address.host):\(address.port): "
                + "\(status.ready ? "ready" : "NOT READY"), up \(Self.duration(status.uptimeSeconds))")
        let backend = status.backend.map { "\($0) (\(status.backendReason))" } ?? "not chosen yet"
        lines.append(
            "Kernel rules: \(status.rulesInstalled ? "installed" : "NOT installed"), back end \(backend); "
                + "failure mode \(status.failureMode); audit \(status.audit == true ? "on" : "off")")
        lines.append(
            "Pod CIDRs: \(Self.list(status.podCIDRs)); exempt: \(Self.list(status.exemptCIDRs))")
        lines.append("Sources:")
        for source in status.sources {
            let errors = source.errors.isEmpty ? "no errors" : "\(source.errors.count) errors"
            let state =
                source.kind == "kubernetes-api"
                ? (source.readable ? "connected" : "NOT CONNECTED") : (source.readable ? "readable" : "NOT READABLE")
            let objects = source.objects.map { count in
                ", \(count) objects" + ((source.objectsOverridden ?? 0) > 0 ? " (\(source.objectsOverridden ?? 0) overridden)" : "")
            } ?? ""
            lines.append(
                "  \(source.kind) \(source.path): \(state)\(objects), "
                    + "last change \(source.lastChange ?? "never"), \(errors)")
            if let events = source.events {
                lines.append(
                    "    \(events) events, \(source.relists ?? 0) lists, \(source.reconnects ?? 0) reconnects, "
                        + "\(source.malformedEvents ?? 0) malformed events")
            }
            for error in source.errors { lines.append("    error: \(error)") }
            if !source.filesKeptFromLastGood.isEmpty {
                lines.append("    kept from last good: \(source.filesKeptFromLastGood.joined(separator: ", "))")
            }
        }
        for conflict in status.sourceConflicts ?? [] { lines.append("  conflict: \(conflict)") }
        let snapshot = status.snapshot
        lines.append(
            "Snapshot: generation \(snapshot.generation); \(snapshot.namespaces) namespaces, \(snapshot.pods) pods, "
                + "\(snapshot.policies) policies, \(snapshot.identities) identities; tables "
                + "\(String(format: "%.1f", Double(snapshot.tableBytes) / 1024)) KiB, compiled in "
                + "\(String(format: "%.2f", snapshot.compileMilliseconds)) ms")
        lines.append("Queues: \(Self.list(status.queues.map { "\($0)" })), \(status.workers) workers")
        for worker in status.workerStatistics {
            lines.append(
                "  queue \(worker.queue): \(worker.packets) packets, \(worker.accepted) accepted, "
                    + "\(worker.dropped) dropped, \(worker.audited ?? 0) audited, "
                    + "snapshot generation \(worker.snapshotGeneration)")
        }
        if let interval {
            lines.append("Verdicts: totals, and rates over \(String(format: "%.2f", interval)) s")
        } else {
            lines.append("Verdicts: totals since start (rates need two scrapes; drop --once)")
        }
        let totals = Self.verdictRows.map { Self.count(total($0)) }
        let width = totals.map(\.count).max() ?? 1
        for (row, totalText) in zip(Self.verdictRows, totals) {
            var line = "  " + row.name.padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: width - totalText.count) + totalText
            if let rate = rate(row) { line += "  " + String(format: "%.1f/s", rate) }
            lines.append(line)
        }
        var reasons: [String] = []
        for action in ["accept", "drop", "audit"] {
            for reason in metrics.labelValues("tollgate_verdicts_total", "reason") {
                let value = metrics.sum("tollgate_verdicts_total", ["action": action, "reason": reason]) ?? 0
                if value > 0 { reasons.append("\(action)/\(reason) \(Self.count(value))") }
            }
        }
        lines.append("  by reason: \(reasons.isEmpty ? "none yet" : reasons.joined(separator: ", "))")
        let queueFull = metrics.sum("tollgate_queue_dropped_total").map(Self.count) ?? "unknown"
        let bufferFull = metrics.sum("tollgate_queue_user_dropped_total").map(Self.count) ?? "unknown"
        lines.append(
            "Queue drops: queue full \(queueFull), socket buffer full \(bufferFull); receive buffer overflows "
                + "\(Self.count(metrics.sum("tollgate_receive_buffer_overflows_total") ?? 0)); verdict send errors "
                + "\(Self.count(metrics.sum("tollgate_verdict_send_errors_total") ?? 0)); malformed packets "
                + "\(Self.count(metrics.sum("tollgate_malformed_packets_total") ?? 0))")
        let hits = metrics.sum("tollgate_flow_cache_hits_total") ?? 0
        let misses = metrics.sum("tollgate_flow_cache_misses_total") ?? 0
        lines.append(
            "Flow cache: hit ratio \(String(format: "%.1f", status.cacheHitRatio * 100))% "
                + "(\(Self.count(hits)) hits, \(Self.count(misses)) misses)")
        if status.kernelAllowCache == true {
            let accepted = status.kernelCacheAccepts.map { Self.count(Double($0)) } ?? "unknown"
            func adds(_ result: String) -> String {
                Self.count(metrics.sum("tollgate_allow_set_adds_total", ["result": result]) ?? 0)
            }
            lines.append(
                "Kernel allow cache: \(accepted) new connections accepted in the kernel, never queued (not in the "
                    + "verdicts above); adds \(adds("sent")) sent, \(adds("failed")) failed, \(adds("skipped")) skipped "
                    + "in \(Self.count(metrics.sum("tollgate_allow_set_pauses_total") ?? 0)) pauses")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"address", "intervalSeconds", "rates", "status", "totals"}`, keys sorted; `rates` and `intervalSeconds`
    /// are null with `--once`.
    var json: String {
        var totals: [String: Any] = [:]
        for row in Self.verdictRows { totals[row.name] = total(row) }
        let metrics = latest.metrics
        totals["queueDropped"] = metrics.sum("tollgate_queue_dropped_total") ?? NSNull()
        totals["queueUserDropped"] = metrics.sum("tollgate_queue_user_dropped_total") ?? NSNull()
        totals["cacheHits"] = metrics.sum("tollgate_flow_cache_hits_total") ?? 0
        totals["cacheMisses"] = metrics.sum("tollgate_flow_cache_misses_total") ?? 0
        totals["cacheHitRatio"] = latest.status.cacheHitRatio
        if let accepts = latest.status.kernelCacheAccepts { totals["kernelCacheAccepts"] = accepts }
        var rates: Any = NSNull()
        if earlier != nil {
            var perSecond: [String: Any] = [:]
            for row in Self.verdictRows { perSecond[row.name + "PerSecond"] = rate(row) ?? 0 }
            rates = perSecond
        }
        let document: [String: Any] = [
            "address": address.family == .ipv6 ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)",
            "intervalSeconds": interval ?? NSNull(),
            "rates": rates,
            "status": latest.rawStatus,
            "totals": totals,
        ]
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return "{}\n" }  // every value above is a JSON type; serialization cannot fail
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A counter value without a fraction.
    static func count(_ value: Double) -> String {
        value.isFinite ? String(format: "%.0f", value) : "\(value)"
    }

    static func list(_ items: [String]) -> String {
        items.isEmpty ? "none" : items.joined(separator: ", ")
    }

    /// `"2h 03m 04s"`, `"3m 04s"`, `"4s"`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(seconds, 0))
        let (hours, minutes, secs) = (total / 3600, total % 3600 / 60, total % 60)
        if hours > 0 { return String(format: "%dh %02dm %02ds", hours, minutes, secs) }
        if minutes > 0 { return String(format: "%dm %02ds", minutes, secs) }
        return "\(secs)s"
    }
}
