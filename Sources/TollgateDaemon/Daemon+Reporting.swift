import Datapath
import Foundation
import LinuxSupport
import PolicyFeeds

extension Daemon {
    /// New connections the kernel allow cache accepted without queueing them, since the daemon started: the packet
    /// counter of the rule that matches the allow sets, read from the kernel whenever `/metrics` or `/status` is
    /// asked for (a request costs an `iptables` and an `ip6tables` listing, or one `nft` listing: a few
    /// milliseconds, never on the packet path). Nil when the cache is off, before the rules are installed, or when
    /// no reading ever succeeded; a failed reading is logged once and the last good total is kept.
    func kernelCacheAccepts() -> UInt64? {
        guard allowCacheActive, let backend = state.withLock({ $0.rulesInstalled ? $0.backend : nil }) else {
            return nil
        }
        let now = ContinuousClock.now
        do {
            let reading = try installer.allowCacheAccepts(backend: backend)
            return kernelCacheAcceptCounter.withLock { $0.record(reading, at: now) }
        } catch {
            let (firstFailure, total) = kernelCacheAcceptCounter.withLock { counter in
                defer { counter.lastError = "\(error)" }
                return (counter.lastError == nil, counter.readAt == nil ? nil : counter.total)
            }
            if firstFailure {
                logger.warning("cannot read the kernel allow cache's rule counter: \(error)")
            }
            return total
        }
    }

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
            queues: datapath.queues, workers: configuration.workers, workerScheduling: snapshot.workerScheduling,
            kernelAllowCache: allowCacheActive, kernelCacheAccepts: kernelCacheAccepts(),
            podCIDRs: configuration.podCIDRs.map(\.description), exemptCIDRs: configuration.exemptCIDRs.map(\.description),
            nodes: .init(
                nodeName: configuration.nodeName, podToNode: configuration.podToNode.rawValue,
                localAddresses: snapshot.nodePlan?.local.map(\.description) ?? [],
                peerAddresses: snapshot.nodePlan?.peers.map(\.description) ?? [],
                remoteClusterCIDRs: configuration.remoteClusterCIDRs.map(\.description)),
            snapshot: .init(
                generation: snapshot.generation, namespaces: snapshot.namespaces, pods: snapshot.pods,
                policies: snapshot.networkPolicies, identities: snapshot.identities, tableBytes: snapshot.tableBytes,
                compileMilliseconds: snapshot.lastCompileSeconds * 1000),
            sources: sourceReports(snapshot, formatter: formatter),
            sourceConflicts: snapshot.conflicts,
            workerStatistics: workers.map {
                .init(
                    queue: $0.queue, packets: $0.packets, accepted: $0.accepted.reduce(0, +) - $0.audited.reduce(0, +),
                    audited: $0.audited.reduce(0, +),
                    dropped: $0.dropped.reduce(0, +), cacheHits: $0.cacheHits, cacheMisses: $0.cacheMisses,
                    snapshotGeneration: $0.snapshotGeneration)
            },
            cacheHitRatio: hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses),
            uptimeSeconds: Date().timeIntervalSince(snapshot.started), revocation: revocation.statistics,
            directoryWatch: watchStatus.withLock { $0 })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
    }

    /// One entry per source, in order of precedence (the directory first, as before the API feed existed).
    private func sourceReports(_ snapshot: DaemonState, formatter: ISO8601DateFormatter) -> [StatusReport.Source] {
        store.statuses().map { status in
            let isDirectory = status.name == Self.directorySourceName
            let readable = isDirectory ? snapshot.policyDirectoryReadable : status.connected
            let lastChange = isDirectory ? (status.lastChange ?? snapshot.lastReload) : status.lastChange
            return StatusReport.Source(
                kind: isDirectory ? "directory" : "kubernetes-api", path: status.location, readable: readable,
                lastChange: lastChange.map { formatter.string(from: $0) },
                errors: isDirectory ? snapshot.lastErrors : (status.lastError.map { [$0] } ?? []),
                filesKeptFromLastGood: isDirectory ? snapshot.filesKeptFromLastGood : [], name: status.name,
                connected: isDirectory ? readable && watchStatus.withLock({ $0.watching }) : status.connected,
                objects: status.objects, objectsOverridden: status.objectsOverridden, lastError: status.lastError,
                events: isDirectory ? nil : status.events, relists: isDirectory ? nil : status.relists,
                reconnects: isDirectory ? nil : status.reconnects,
                malformedEvents: isDirectory ? nil : status.malformedEvents)
        }
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
            try text.appendCounter(
                "tollgate_allow_set_adds_total",
                help: "Allowed flows handed to the kernel allow cache, error replies to those adds, and allowed flows not "
                    + "added while adds were paused after an error reply (a full set), by result.",
                samples: [
                    Sample(labels: [Label("result", "sent")], value: Double(workers.reduce(0) { $0 + $1.allowSetAdds })),
                    Sample(labels: [Label("result", "failed")], value: Double(workers.reduce(0) { $0 + $1.allowSetErrors })),
                    Sample(labels: [Label("result", "skipped")], value: Double(workers.reduce(0) { $0 + $1.allowSetSkips })),
                ])
            try text.appendCounter(
                "tollgate_allow_set_pauses_total",
                help: "Times a worker stopped adding to the kernel allow cache for a second after an error reply.",
                value: Double(workers.reduce(0) { $0 + $1.allowSetPauses }))
            if let accepts = kernelCacheAccepts() {
                try text.appendCounter(
                    "tollgate_kernel_cache_accepts_total",
                    help: "New connections the kernel allow cache let through without queueing them (the packet counter "
                        + "of the rule matching the allow sets, read at scrape time); not in tollgate_verdicts_total.",
                    value: Double(accepts))
            }
            try text.appendCounter(
                "tollgate_allow_set_flushes_total", help: "Flushes of the kernel allow cache after a snapshot, by result.",
                samples: [
                    Sample(labels: [Label("result", "applied")], value: Double(snapshot.allowSetFlushes)),
                    Sample(labels: [Label("result", "failed")], value: Double(snapshot.allowSetFlushFailures)),
                ])
            try text.appendGauge(
                "tollgate_node_addresses", help: "Node addresses the kernel rules know, by owner.",
                samples: [
                    Sample(labels: [Label("owner", "local")], value: Double(snapshot.nodePlan?.local.count ?? 0)),
                    Sample(labels: [Label("owner", "peer")], value: Double(snapshot.nodePlan?.peers.count ?? 0)),
                ])
            try text.appendCounter(
                "tollgate_rule_updates_total", help: "Reinstallations of the kernel rules after node addresses changed, by result.",
                samples: [
                    Sample(labels: [Label("result", "applied")], value: Double(snapshot.ruleUpdates)),
                    Sample(labels: [Label("result", "failed")], value: Double(snapshot.ruleUpdateFailures)),
                ])
            let revoked = revocation.statistics
            try text.appendCounter(
                "tollgate_revocation_scans_total",
                help: "Passes over the conntrack table after a new snapshot, judging established connections.",
                value: Double(revoked.scans))
            try text.appendCounter(
                "tollgate_revoked_connections_total",
                help: "Established connections cut because a new snapshot denies them.", value: Double(revoked.revoked))
            try text.appendCounter(
                "tollgate_revocation_would_revoke_total",
                help: "Established connections a new snapshot denies that audit mode kept open.",
                value: Double(revoked.wouldRevoke))
            try text.appendCounter(
                "tollgate_revocation_tombstones_total",
                help: "Tombstone conntrack entries left so that cut connections cannot be picked up again in reverse, by event.",
                samples: [
                    Sample(labels: [Label("event", "created")], value: Double(revoked.tombstones)),
                    Sample(labels: [Label("event", "lifted")], value: Double(revoked.lifted)),
                ])
            try text.appendCounter(
                "tollgate_revocation_errors_total", help: "Failed conntrack dumps and deletes.", value: Double(revoked.errors))
            try text.appendCounter(
                "tollgate_revocation_scan_seconds_total", help: "Time spent in revocation scans.",
                value: revoked.scanSecondsTotal)
            try text.appendGauge(
                "tollgate_revocation_scan_duration_seconds", help: "How long the last revocation scan took.",
                value: revoked.lastScanSeconds)
            let watching = watchStatus.withLock { $0 }
            try text.appendGauge(
                "tollgate_policy_directory_watched", help: "1 while inotify watches the policy directory.",
                value: watching.watching ? 1 : 0)
            try text.appendCounter(
                "tollgate_policy_directory_reloads_total",
                help: "Reloads triggered by the policy directory, by what noticed the change.",
                samples: [
                    Sample(labels: [Label("trigger", "inotify")], value: Double(watching.eventReloads)),
                    Sample(labels: [Label("trigger", "poll")], value: Double(watching.pollReloads)),
                ])
            try text.appendCounter(
                "tollgate_policy_directory_losses_total",
                help: "Times the watched policy directory was removed or moved away.",
                value: Double(watching.directoryLosses))
            let sources = store.statuses()
            func perSource(_ value: (SourceStatus) -> Double) -> [Sample] {
                sources.map { Sample(labels: [Label("source", $0.name)], value: value($0)) }
            }
            let apiSources = sources.filter { $0.name != Self.directorySourceName }
            func perAPISource(_ value: (SourceStatus) -> UInt64) -> [Sample] {
                apiSources.map { Sample(labels: [Label("source", $0.name)], value: Double(value($0))) }
            }
            try text.appendGauge(
                "tollgate_source_objects", help: "Objects each policy source holds.",
                samples: perSource { Double($0.objects) })
            try text.appendGauge(
                "tollgate_source_objects_overridden",
                help: "Objects a source holds that a source of higher precedence also defines (the other copy is in force).",
                samples: perSource { Double($0.objectsOverridden) })
            try text.appendGauge(
                "tollgate_source_connected",
                help: "1 while a source is read successfully (directory watched; every API resource listed and watched).",
                samples: perSource { $0.connected ? 1 : 0 })
            try text.appendGauge(
                "tollgate_source_conflicts", help: "Keys defined by more than one source.",
                value: Double(snapshot.conflicts.count))
            if !apiSources.isEmpty {
                try text.appendCounter(
                    "tollgate_source_events_total", help: "Watch events received from the Kubernetes API.",
                    samples: perAPISource(\.events))
                try text.appendCounter(
                    "tollgate_source_relists_total", help: "Complete lists of an API resource (the first included; 410 Gone lists again).",
                    samples: perAPISource(\.relists))
                try text.appendCounter(
                    "tollgate_source_reconnects_total", help: "Attempts to reach the Kubernetes API again after a failure.",
                    samples: perAPISource(\.reconnects))
                try text.appendCounter(
                    "tollgate_source_malformed_events_total",
                    help: "Watch events and list items that could not be decoded (the object kept its last good state).",
                    samples: perAPISource(\.malformedEvents))
            }
            try text.appendGauge("tollgate_rules_installed", help: "1 when the kernel rules are installed.", value: snapshot.rulesInstalled ? 1 : 0)
            try text.appendCounter(
                "tollgate_batches_total", help: "Receive batches the workers handled (packets / batches = batch size).",
                samples: workers.map { Sample(labels: [Label("queue", "\($0.queue)")], value: Double($0.batches)) })
            let bounds = WorkerCounters.latencyBoundsMicroseconds.map { $0 / 1e6 }
            func histogram(_ buckets: (WorkerStatistics) -> [UInt64], sum: (WorkerStatistics) -> UInt64) -> PrometheusText.Histogram {
                var cumulative: [UInt64] = []
                var running: UInt64 = 0
                for bucket in 0..<bounds.count {
                    running += workers.reduce(0) { $0 + buckets($1)[bucket] }
                    cumulative.append(running)
                }
                return PrometheusText.Histogram(
                    upperBounds: bounds, cumulativeCounts: cumulative,
                    sum: Double(workers.reduce(0) { $0 + sum($1) }) / 1e9,
                    count: workers.reduce(0) { $0 + buckets($1).reduce(0, +) })
            }
            try text.appendHistogram(
                "tollgate_verdict_latency_seconds",
                help: "Time from a batch's arrival from the kernel to its verdicts being sent, per packet. The send "
                    + "includes the kernel's own work on the accepted packets.",
                histograms: [histogram({ $0.latencyBuckets }, sum: { $0.latencySumNanoseconds })])
            try text.appendHistogram(
                "tollgate_decision_latency_seconds",
                help: "Time from a batch's arrival from the kernel to its last verdict being decided, per packet.",
                histograms: [histogram({ $0.decisionBuckets }, sum: { $0.decisionSumNanoseconds })])
        } catch {
            return "# metrics could not be rendered: \(error)\n"
        }
        return text.text
    }
}
