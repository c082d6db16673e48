import Foundation
import LinuxSupport
import TollgateDaemon

/// One or two scrapes turned into totals, rates, and the text or JSON that `tollgate status` prints.
struct StatusReading {
    let address: ListenAddress
    let latest: DaemonStatusClient.Scrape
    /// The first of two scrapes; nil with `--once`.
    let earlier: DaemonStatusClient.Scrape?

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
            "Tollgate at \(address): "
                + "\(status.ready ? "ready" : "NOT READY"), up \(Self.duration(status.uptimeSeconds))")
        let backend = status.backend.map { "\($0) (\(status.backendReason))" } ?? "not chosen yet"
        lines.append(
            "Kernel rules: \(status.rulesInstalled ? "installed" : "NOT installed"), back end \(backend); "
                + "failure mode \(status.failureMode); audit \(status.audit ? "on" : "off")")
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
                    + "\(worker.dropped) dropped, \(worker.audited) audited, "
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
        if status.kernelAllowCache {
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
            "address": address.description,
            "intervalSeconds": interval ?? NSNull(),
            "rates": rates,
            // The document as the daemon sent it, fields this version does not know included; it decoded as a
            // StatusReport already, so it parses.
            "status": (try? JSONSerialization.jsonObject(with: Data(latest.statusJSON.utf8))) ?? NSNull(),
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
