import Datapath
import Foundation
import LinuxSupport

extension Daemon {
    /// The `/status` document.
    func statusJSON() -> String {
        let snapshot = state.withLock { $0 }
        let workers = datapath.statistics
        let hits = workers.reduce(0) { $0 + $1.cacheHits }
        let misses = workers.reduce(0) { $0 + $1.cacheMisses }
        let formatter = ISO8601DateFormatter()
        let report = StatusReport(
            ready: snapshot.rulesInstalled && snapshot.generation > 0, generation: snapshot.generation,
            namespaces: snapshot.namespaces, pods: snapshot.pods, policies: snapshot.networkPolicies,
            backend: snapshot.backend?.rawValue, backendReason: snapshot.backendReason,
            rulesInstalled: snapshot.rulesInstalled, failureMode: configuration.failureMode.rawValue,
            audit: configuration.audit,
            queues: datapath.queues, workers: configuration.workers,
            podCIDRs: configuration.podCIDRs.map(\.description), exemptCIDRs: configuration.exemptCIDRs.map(\.description),
            snapshot: .init(
                generation: snapshot.generation, namespaces: snapshot.namespaces, pods: snapshot.pods,
                policies: snapshot.networkPolicies, identities: snapshot.identities, tableBytes: snapshot.tableBytes,
                compileMilliseconds: snapshot.lastCompileSeconds * 1000),
            sources: [
                .init(
                    kind: "directory", path: configuration.policyDirectory, readable: snapshot.policyDirectoryReadable,
                    lastChange: snapshot.lastReload.map { formatter.string(from: $0) }, errors: snapshot.lastErrors,
                    filesKeptFromLastGood: snapshot.filesKeptFromLastGood)
            ],
            workerStatistics: workers.map {
                .init(
                    queue: $0.queue, packets: $0.packets, accepted: $0.accepted.reduce(0, +) - $0.audited.reduce(0, +),
                    audited: $0.audited.reduce(0, +),
                    dropped: $0.dropped.reduce(0, +), cacheHits: $0.cacheHits, cacheMisses: $0.cacheMisses,
                    snapshotGeneration: $0.snapshotGeneration)
            },
            cacheHitRatio: hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses),
            uptimeSeconds: Date().timeIntervalSince(snapshot.started))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
    }

    /// The `/metrics` document in the Prometheus text format.
    func metricsText() -> String {
        let snapshot = state.withLock { $0 }
        let workers = datapath.statistics
        var text = PrometheusText()
        typealias Sample = PrometheusText.Sample
        typealias Label = PrometheusText.Label
        do {
            var verdicts: [Sample] = []
            for reason in DecisionReason.allCases {
                let audited = workers.reduce(0) { $0 + $1.audited[reason.rawValue] }
                let accepted = workers.reduce(0) { $0 + $1.accepted[reason.rawValue] } - audited
                let dropped = workers.reduce(0) { $0 + $1.dropped[reason.rawValue] }
                verdicts.append(Sample(labels: [Label("action", "accept"), Label("reason", "\(reason)")], value: Double(accepted)))
                verdicts.append(Sample(labels: [Label("action", "drop"), Label("reason", "\(reason)")], value: Double(dropped)))
                if reason == .deniedByEgress || reason == .deniedByIngress {
                    verdicts.append(
                        Sample(labels: [Label("action", "audit"), Label("reason", "\(reason)")], value: Double(audited)))
                }
            }
            try text.appendCounter(
                "tollgate_verdicts_total",
                help: "Verdicts given, by action (accept, drop, or audit: denied by policy but let through) and reason.",
                samples: verdicts)
            try text.appendCounter(
                "tollgate_denial_events_lost_total", help: "Denial log events lost because the log thread fell behind.",
                value: Double(datapath.lostDenials))
            try text.appendCounter(
                "tollgate_packets_total", help: "Packets received from the kernel queues.",
                samples: workers.map { Sample(labels: [Label("queue", "\($0.queue)")], value: Double($0.packets)) })
            try text.appendCounter(
                "tollgate_malformed_packets_total", help: "Packets that could not be parsed (given the failure-mode verdict).",
                value: Double(workers.reduce(0) { $0 + $1.malformed }))
            try text.appendCounter(
                "tollgate_flow_cache_hits_total", help: "Verdicts answered from a worker's flow cache.",
                value: Double(workers.reduce(0) { $0 + $1.cacheHits }))
            try text.appendCounter(
                "tollgate_flow_cache_misses_total", help: "Verdicts the engine computed.",
                value: Double(workers.reduce(0) { $0 + $1.cacheMisses }))
            try text.appendCounter(
                "tollgate_receive_buffer_overflows_total", help: "ENOBUFS on the queue sockets: the kernel could not deliver messages.",
                value: Double(workers.reduce(0) { $0 + $1.receiveBufferOverflows }))
            try text.appendCounter(
                "tollgate_verdict_send_errors_total", help: "Failed verdict sends.",
                value: Double(workers.reduce(0) { $0 + $1.verdictSendErrors }))
            if let queues = try? datapath.kernelQueueStatistics() {
                try text.appendCounter(
                    "tollgate_queue_dropped_total", help: "Packets the kernel dropped because a queue was full.",
                    samples: queues.map { Sample(labels: [Label("queue", "\($0.queue.rawValue)")], value: Double($0.queueDropped)) })
                try text.appendCounter(
                    "tollgate_queue_user_dropped_total", help: "Packets the kernel dropped because the socket buffer was full.",
                    samples: queues.map { Sample(labels: [Label("queue", "\($0.queue.rawValue)")], value: Double($0.userDropped)) })
                try text.appendGauge(
                    "tollgate_queue_length", help: "Packets waiting in each queue for a verdict.",
                    samples: queues.map { Sample(labels: [Label("queue", "\($0.queue.rawValue)")], value: Double($0.queueTotal)) })
            }
            try text.appendGauge("tollgate_snapshot_generation", help: "Generation of the snapshot in force.", value: Double(snapshot.generation))
            try text.appendGauge(
                "tollgate_compile_duration_seconds", help: "How long the last compile took.", value: snapshot.lastCompileSeconds)
            try text.appendGauge("tollgate_snapshot_bytes", help: "Memory of the compiled tables in force.", value: Double(snapshot.tableBytes))
            try text.appendGauge("tollgate_pods", help: "Pods in the snapshot in force.", value: Double(snapshot.pods))
            try text.appendGauge("tollgate_network_policies", help: "Network policies in the snapshot in force.", value: Double(snapshot.networkPolicies))
            try text.appendGauge(
                "tollgate_policy_errors", help: "Errors in the last load of the policy sources.", value: Double(snapshot.lastErrors.count))
            try text.appendCounter(
                "tollgate_reloads_total", help: "Snapshots compiled from the policy sources, by outcome.",
                samples: [
                    Sample(labels: [Label("result", "clean")], value: Double(snapshot.reloadsApplied)),
                    Sample(labels: [Label("result", "with_errors")], value: Double(snapshot.reloadsWithErrors)),
                ])
            try text.appendGauge("tollgate_rules_installed", help: "1 when the kernel rules are installed.", value: snapshot.rulesInstalled ? 1 : 0)
            let bounds = WorkerCounters.latencyBoundsMicroseconds.map { $0 / 1e6 }
            var cumulative: [UInt64] = []
            var running: UInt64 = 0
            for bucket in 0..<bounds.count {
                running += workers.reduce(0) { $0 + $1.latencyBuckets[bucket] }
                cumulative.append(running)
            }
            let total = workers.reduce(0) { $0 + $1.latencyBuckets.reduce(0, +) }
            try text.appendHistogram(
                "tollgate_verdict_latency_seconds",
                help: "Time from a batch's arrival from the kernel to its verdicts being sent, per packet.",
                histograms: [
                    PrometheusText.Histogram(
                        upperBounds: bounds, cumulativeCounts: cumulative,
                        sum: Double(workers.reduce(0) { $0 + $1.latencySumNanoseconds }) / 1e9, count: total)
                ])
        } catch {
            return "# metrics could not be rendered: \(error)\n"
        }
        return text.text
    }
}
