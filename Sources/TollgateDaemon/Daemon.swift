import ConntrackRevocation
import Datapath
import Dispatch
import Foundation
import KernelAllowCache
import KernelRules
import LinuxSupport
import Logging
import NetworkTypes
import PolicyModel
import Synchronization
import VerdictEngine

/// The enforcing daemon: loads policies, publishes compiled snapshots to the datapath, keeps the kernel rules in
/// place, and answers on the metrics endpoint.
///
/// Start-up order matters: the first snapshot is compiled and the queues are bound before the kernel rules send
/// any packet to them, and the metrics endpoint is bound before the rules too, so a start that fails leaves the
/// kernel as it was.
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    let logger: Logger
    let installer: RuleInstaller
    let publisher = SnapshotPublisher()
    let datapath: Datapath
    let state = Mutex(DaemonState())
    private let source: Mutex<PolicyDirectorySource>
    /// Revocation of established connections a new snapshot denies (see `RevocationRunner`).
    let revocation: RevocationRunner
    /// How the policy directory is watched, for `/status` and the metrics.
    let watchStatus = Mutex(DirectoryWatchStatus())
    private let reloadRequested = Atomic<Bool>(false)
    private let stopRequested = Atomic<Bool>(false)
    private let termination = DispatchSemaphore(value: 0)
    /// systemd's notification socket (`Type=notify`); a no-op when not run by systemd.
    private let notifier: SystemdNotifier?
    /// The kernel rules back end, detected (or forced) once at start, and why.
    let backendChoice: (backend: RuleBackend, reason: String)
    /// Whether the kernel allow cache is on: asked for, and the back end supports it.
    let allowCacheActive: Bool

    public init(configuration: DaemonConfiguration, logger: Logger, installer: RuleInstaller = RuleInstaller()) {
        self.configuration = configuration
        self.logger = logger
        self.installer = installer
        source = Mutex(PolicyDirectorySource(directory: configuration.policyDirectory))
        notifier = try? SystemdNotifier()
        revocation = RevocationRunner(enabled: configuration.revoke, logger: logger)
        watchStatus.withLock { $0.mode = configuration.pollInterval > .zero ? "inotify+poll" : "inotify" }
        backendChoice = installer.detectBackend(forcing: configuration.backend)
        allowCacheActive = configuration.kernelAllowCache && backendChoice.backend == .iptables
        var datapathConfiguration = DatapathConfiguration(
            firstQueue: configuration.firstQueue, workers: configuration.workers, failureMode: configuration.failureMode,
            flowCacheSize: configuration.flowCacheSize, audit: configuration.audit)
        datapathConfiguration.realTimePriority = configuration.workerPriority > 0 ? Int32(configuration.workerPriority) : nil
        if allowCacheActive, let v4 = AllowSetName(RuleRenderer.allowSetNames[0].name),
            let v6 = AllowSetName(RuleRenderer.allowSetNames[1].name)
        {
            datapathConfiguration.allowSets = AllowSetConfiguration(
                ipv4: v4, ipv6: v6, timeoutSeconds: RuleRenderer.allowSetTimeoutSeconds)
        }
        datapath = Datapath(configuration: datapathConfiguration, publisher: publisher)
    }

    /// Runs until SIGTERM or SIGINT. SIGHUP rereads the policy directory. Signals must already be blocked in the
    /// process (`SignalWatcher.blockInProcess`) before any thread starts.
    public func run() throws(DaemonError) {
        let problems = configuration.problems()
        guard problems.isEmpty else {
            throw DaemonError(.invalidConfiguration, problems.joined(separator: "; "))
        }
        logger.info(
            "starting",
            metadata: [
                "policy-dir": "\(configuration.policyDirectory)", "workers": "\(configuration.workers)",
                "queues": "\(configuration.firstQueue)-\(Int(configuration.firstQueue) + configuration.workers - 1)",
                "failure-mode": "\(configuration.failureMode.rawValue)",
            ])
        // The watch is armed before the first load, so no change made after that load goes unseen.
        let watch: DirectoryWatch
        do {
            watch = try DirectoryWatch(directory: configuration.policyDirectory)
        } catch {
            throw DaemonError(.systemFailure, "\(error)")
        }
        armWatch(watch)
        reload(reason: "start")

        do {
            try datapath.start()
        } catch {
            throw DaemonError(.queueUnavailable, "\(error)")
        }
        let refused = datapath.applyRealTimePriority()
        for problem in refused {
            logger.warning("cannot run the worker under SCHED_RR; it keeps normal scheduling: \(problem)")
        }
        state.withLock {
            $0.workerScheduling =
                configuration.workerPriority == 0
                ? "normal" : refused.isEmpty ? "SCHED_RR \(configuration.workerPriority)" : "normal (SCHED_RR refused)"
        }
        let server: HTTPServer
        do {
            server = try HTTPServer(address: configuration.metricsAddress) { [self] request in
                handle(request)
            }
        } catch {
            datapath.stop()
            throw DaemonError(.endpointUnavailable, "\(error)")
        }
        let (backend, reason) = backendChoice
        logger.info("kernel rules back end: \(backend)", metadata: ["reason": "\(reason)"])
        if configuration.kernelAllowCache && !allowCacheActive {
            logger.warning("the kernel allow cache needs the iptables back end (ip sets); running without it")
        }
        do {
            _ = try installer.install(
                configuration.ruleConfiguration(nodes: nodePlan(), allowSets: allowCacheActive), backend: backend)
            // Elements an earlier run left in existing sets were decided under its snapshots.
            flushAllowSets()
        } catch {
            server.stop()
            datapath.stop()
            throw DaemonError(.rulesFailed, "\(error)")
        }
        state.withLock {
            $0.rulesInstalled = true
            $0.backend = backend
            $0.backendReason = reason
        }
        logger.info("enforcing", metadata: ["metrics": "\(server.address)"])
        notify("READY=1\nSTATUS=enforcing, snapshot generation \(state.withLock { $0.generation })")

        let signals: SignalWatcher
        let reloader: DedicatedThread
        let denialLogger: DedicatedThread
        do {
            signals = try SignalWatcher { [self] signal in
                switch signal {
                case .hangup:
                    logger.info("SIGHUP: rereading the policy directory")
                    reloadRequested.store(true, ordering: .relaxed)
                    watch.wake()
                case .terminate, .interrupt:
                    logger.info("\(signal): stopping")
                    termination.signal()
                }
            }
            try revocation.start()
            reloader = try DedicatedThread(name: "tollgate-reload") { [self] in reloadLoop(watch) }
            denialLogger = try DedicatedThread(name: "tollgate-denials") { [self] in denialLogLoop() }
            if let interval = notifier?.watchdogInterval {
                _ = try DedicatedThread(name: "tollgate-watchdog", detached: true) { [self] in watchdogLoop(interval) }
            }
        } catch {
            revocation.stop()
            server.stop()
            datapath.stop()
            throw DaemonError(.systemFailure, "\(error)")
        }

        termination.wait()
        notify("STOPPING=1")
        stopRequested.store(true, ordering: .relaxed)
        watch.wake()
        reloader.join()
        revocation.stop()
        denialLogger.join()
        signals.stop()
        server.stop()
        datapath.stop()
        // Nothing decided by this run keeps bypassing the queue once no worker judges (in fail-closed mode, new
        // connections must stop until Tollgate is back). After a crash the sets' timeout bounds this instead.
        flushAllowSets()
        // The kernel rules stay: in fail-open mode their queue bypass lets traffic through while no worker
        // listens; in fail-closed mode new connections stay blocked until Tollgate is back. `tollgate cleanup`
        // removes them.
        logger.info("stopped; kernel rules left in place (tollgate cleanup removes them)")
    }

    /// Stops a running daemon as SIGTERM would.
    public func requestStop() { termination.signal() }

    /// Reloads when inotify reports a settled change of the policy directory, on SIGHUP, and (when
    /// `--poll-interval-ms` is set) when the safety-net poll sees a change inotify did not report. While the
    /// directory is missing it checks every 500 ms for it to come back; the last good snapshot stays meanwhile.
    /// Reacts to stopping at once (``DirectoryWatch/wake()``).
    private func reloadLoop(_ watch: DirectoryWatch) {
        let missingCheck = Duration.milliseconds(500)
        let poll = configuration.pollInterval
        var lastPoll = ContinuousClock.now
        var lastAddressCheck = ContinuousClock.now
        var lastArmAttempt = ContinuousClock.now
        while !stopRequested.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            var timeout: Duration? = nil
            if !watch.isWatching { timeout = max(.zero, lastArmAttempt + missingCheck - now) }
            if poll > .zero {
                let untilPoll = max(.zero, lastPoll + poll - now)
                timeout = timeout.map { min($0, untilPoll) } ?? untilPoll
            }
            let untilAddressCheck = max(.zero, lastAddressCheck + Self.hostAddressCheckInterval - now)
            timeout = timeout.map { min($0, untilAddressCheck) } ?? untilAddressCheck
            var reason: String? = nil
            do {
                switch try watch.waitForChange(timeout: timeout) {
                case .changed(let what):
                    reason = "changed: \(what)"
                    watchStatus.withLock {
                        $0.eventReloads += 1
                        $0.lastChange = what
                    }
                case .directoryLost:
                    logger.error(
                        "the policy directory was removed or moved away; keeping the last good snapshot and checking every 500 ms for it to return",
                        metadata: ["policy-dir": "\(configuration.policyDirectory)"])
                    watchStatus.withLock {
                        $0.watching = false
                        $0.directoryLosses += 1
                    }
                    reason = "policy directory removed"
                    // It may be back already (replaced by a rename): try at once.
                    lastArmAttempt = ContinuousClock.now - missingCheck
                case .idle:
                    break
                }
            } catch {
                logger.error("watching the policy directory failed: \(error)")
                watchStatus.withLock { $0.lastError = error.description }
                Thread.sleep(forTimeInterval: 0.1)  // back off rather than spin on a persistent failure
            }
            if stopRequested.load(ordering: .relaxed) { break }
            if reloadRequested.exchange(false, ordering: .relaxed) { reason = "SIGHUP" }
            if !watch.isWatching && ContinuousClock.now - lastArmAttempt >= missingCheck {
                lastArmAttempt = ContinuousClock.now
                if armWatch(watch, quiet: true) {
                    logger.notice("the policy directory is back; watching it again")
                    reason = reason ?? "policy directory appeared"
                }
            }
            if poll > .zero && ContinuousClock.now - lastPoll >= poll {
                lastPoll = ContinuousClock.now
                if reason == nil && source.withLock({ $0.hasChanged() }) {
                    reason = "changed (seen by the safety-net poll)"
                    watchStatus.withLock { $0.pollReloads += 1 }
                }
            }
            if reason == nil && ContinuousClock.now - lastAddressCheck >= Self.hostAddressCheckInterval {
                lastAddressCheck = ContinuousClock.now
                updateNodeAddresses()
            }
            if let reason {
                notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
                reload(reason: reason)
                notify("READY=1\nSTATUS=enforcing, snapshot generation \(state.withLock { $0.generation })")
            }
        }
    }

    /// Watches the policy directory if it exists; logs (unless `quiet`, or the same error again) and records a
    /// failure. Returns whether it is watched.
    @discardableResult
    private func armWatch(_ watch: DirectoryWatch, quiet: Bool = false) -> Bool {
        do {
            let armed = try watch.arm()
            watchStatus.withLock {
                $0.watching = armed
                if armed { $0.lastError = nil }
            }
            if !armed && !quiet {
                logger.warning(
                    "the policy directory does not exist; checking every 500 ms for it to appear",
                    metadata: ["policy-dir": "\(configuration.policyDirectory)"])
            }
            return armed
        } catch {
            let repeated = watchStatus.withLock { $0.lastError == error.description }
            if !repeated { logger.error("cannot watch the policy directory: \(error)") }
            watchStatus.withLock {
                $0.watching = watch.isWatching
                $0.lastError = error.description
            }
            return watch.isWatching
        }
    }

    /// Drains the workers' denial events every 100 ms and logs them, rate-limited.
    private func denialLogLoop() {
        var log = DenialLog(rate: configuration.denyLogRate)
        var events: [DenialEvent] = []
        events.reserveCapacity(4096)
        while !stopRequested.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: 0.1)
            events.removeAll(keepingCapacity: true)
            datapath.drainDenials(into: &events)
            let now = ContinuousClock.now
            if !events.isEmpty {
                let snapshot = publisher.current
                for event in events where log.admit(now: now) {
                    let line = DenialLog.describe(event, snapshot: snapshot)
                    logger.notice(line.message, metadata: line.metadata)
                }
            }
            if let suppressed = log.takeSummary(now: now) {
                logger.notice(
                    "suppressed \(suppressed) denied-connection log lines in the last 10 s (rate limit \(configuration.denyLogRate)/s)")
            }
        }
    }

    /// Pets systemd's watchdog at half its interval, but only while every worker is making progress (each
    /// worker passes its loop at least once per receive timeout, 100 ms, even when idle).
    private func watchdogLoop(_ interval: Duration) {
        let period = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while !stopRequested.load(ordering: .relaxed) {
            let now = MonotonicClock.nanoseconds()
            let stalled = datapath.statistics.filter { now &- $0.lastProgressNanoseconds > 2_000_000_000 }
            if stalled.isEmpty {
                notify("WATCHDOG=1")
            } else {
                logger.error("workers stalled; not petting the watchdog", metadata: ["queues": "\(stalled.map(\.queue))"])
            }
            Thread.sleep(forTimeInterval: period / 2)
        }
    }

    /// Sends a state to systemd, logging (not throwing) a failure: systemd's view is not worth stopping for.
    private func notify(_ message: String) {
        guard let notifier, notifier.isEnabled else { return }
        do {
            _ = try notifier.notify(message)
        } catch {
            logger.warning("sd_notify failed: \(error)")
        }
    }

    /// Loads the directory, compiles and publishes a new snapshot. A directory that cannot be read leaves the
    /// snapshot in force; a file that fails to load keeps its last good objects.
    func reload(reason: String) {
        let reloadStarted = ContinuousClock.now
        let outcome = source.withLock { $0.load() }
        let loaded = ContinuousClock.now
        for error in outcome.errors { logger.error("\(error)") }
        if !outcome.filesKeptFromLastGood.isEmpty {
            logger.warning(
                "kept the last good objects of files that failed to load",
                metadata: ["files": "\(outcome.filesKeptFromLastGood.joined(separator: ", "))"])
        }
        let current = state.withLock { $0.generation }
        if !outcome.directoryReadable {
            state.withLock {
                $0.policyDirectoryReadable = false
                $0.lastErrors = outcome.errors.map(\.description)
                $0.reloadsWithErrors += 1
            }
            logger.error(
                current == 0
                    ? "no policy loaded: the \(configuration.failureMode == .open ? "fail-open" : "fail-closed") verdict applies until the directory appears"
                    : "keeping snapshot generation \(current) in force")
            return
        }
        let clusterState = ClusterState(objects: outcome.objects)
        let snapshot = PolicyCompiler.compile(clusterState, generation: current + 1)
        publisher.publish(snapshot)
        // After the publication's grace period: nothing the previous snapshot allowed stays cached in the kernel.
        flushAllowSets()
        for diagnostic in snapshot.diagnostics { logger.warning("\(diagnostic)") }
        let plan = updateNodeAddresses(nodes: clusterState.nodes)
        defer {
            // Off the packet path, after the log line of the new snapshot: cut what it now denies.
            let rules = configuration.ruleConfiguration(nodes: plan)
            revocation.submit(
                snapshot,
                filter: RevocationFilter(
                    podCIDRs: rules.podCIDRs, exemptCIDRs: rules.exemptCIDRs,
                    trustedSourceCIDRs: rules.trustedSourceCIDRs, auditAll: configuration.audit))
        }
        let statistics = snapshot.statistics
        state.withLock {
            $0.generation = snapshot.generation
            $0.namespaces = statistics.namespaces
            $0.pods = statistics.pods
            $0.networkPolicies = statistics.networkPolicies
            $0.identities = statistics.identities
            $0.tableBytes = statistics.tableBytes
            $0.lastCompileSeconds = Double(statistics.compileDuration.components.attoseconds) / 1e18
                + Double(statistics.compileDuration.components.seconds)
            $0.lastReload = Date()
            $0.lastErrors = outcome.errors.map(\.description)
            $0.filesKeptFromLastGood = outcome.filesKeptFromLastGood
            $0.policyDirectoryReadable = true
            if outcome.errors.isEmpty { $0.reloadsApplied += 1 } else { $0.reloadsWithErrors += 1 }
        }
        logger.info(
            "snapshot \(snapshot.generation) active (\(reason))",
            metadata: [
                "namespaces": "\(statistics.namespaces)", "pods": "\(statistics.pods)",
                "policies": "\(statistics.networkPolicies)", "files-parsed": "\(outcome.filesParsed)",
                "load-ms": "\(Self.milliseconds(loaded - reloadStarted))",
                "reload-ms": "\(Self.milliseconds(ContinuousClock.now - reloadStarted))",
                "compile-ms": "\(String(format: "%.2f", Double(statistics.compileDuration.components.attoseconds) / 1e15))",
            ])
    }

    /// Empties the kernel allow cache (when on). A set that does not exist yet (before the first install) is not
    /// an error; any other failure is logged and counted, and the sets' timeout bounds what stays.
    func flushAllowSets() {
        guard allowCacheActive else { return }
        do {
            try datapath.flushAllowSets()
            state.withLock { $0.allowSetFlushes += 1 }
        } catch {
            if error.errno.rawValue == ENOENT && !state.withLock({ $0.rulesInstalled }) { return }
            state.withLock { $0.allowSetFlushFailures += 1 }
            logger.error("flushing the kernel allow cache failed: \(error)")
        }
    }

    /// How often this host's interface addresses are read again (an address added to a bridge, say), besides at
    /// every reload.
    static let hostAddressCheckInterval = Duration.seconds(10)

    /// The node address plan in force, worked out (without Node objects) if no snapshot set one yet.
    private func nodePlan() -> NodeAddressPlan {
        state.withLock { $0.nodePlan } ?? updateNodeAddresses()
    }

    /// Works out this node's and its peers' addresses again, from this host's interfaces, the configuration and
    /// `nodes` (nil: the Node objects of the snapshot in force), and reinstalls the kernel rules when that changes
    /// them. A failure to read the interfaces keeps the addresses in force.
    @discardableResult
    func updateNodeAddresses(nodes: [ClusterNode]? = nil) -> NodeAddressPlan {
        let hostAddresses: [IPAddress]?
        do {
            hostAddresses = try HostAddresses.current()
        } catch {
            logger.error("cannot read this host's interface addresses; keeping the node addresses in force: \(error)")
            hostAddresses = nil
        }
        let (plan, previous, backend) = state.withLock { state in
            if let nodes { state.clusterNodes = nodes }
            let previous = state.nodePlan
            guard let hostAddresses else {
                return (previous ?? self.plan(hostAddresses: [], nodes: state.clusterNodes), previous, state.backend)
            }
            let plan = self.plan(hostAddresses: hostAddresses, nodes: state.clusterNodes)
            state.nodePlan = plan
            return (plan, previous, state.rulesInstalled ? state.backend : nil)
        }
        guard plan != previous else { return plan }
        logger.info(
            "node addresses",
            metadata: [
                "node": "\(configuration.nodeName)", "pod-to-node": "\(configuration.podToNode.rawValue)",
                "local": "\(plan.local.map(\.description).joined(separator: ","))",
                "peers": "\(plan.peers.map(\.description).joined(separator: ","))",
            ])
        guard let backend else { return plan }
        do {
            try installer.install(configuration.ruleConfiguration(nodes: plan, allowSets: allowCacheActive), backend: backend)
            state.withLock { $0.ruleUpdates += 1 }
            logger.notice("kernel rules updated for the new node addresses")
        } catch {
            state.withLock { $0.ruleUpdateFailures += 1 }
            logger.error("updating the kernel rules for the new node addresses failed; the previous rules stay: \(error)")
        }
        return plan
    }

    private func plan(hostAddresses: [IPAddress], nodes: [ClusterNode]) -> NodeAddressPlan {
        NodeAddressPlan(
            mode: configuration.podToNode, exemptCIDRs: configuration.exemptCIDRs,
            configuredNodeAddresses: configuration.nodeAddresses, hostAddresses: hostAddresses, nodes: nodes,
            nodeName: configuration.nodeName)
    }

    /// `duration` in milliseconds with two decimals, for log metadata.
    static func milliseconds(_ duration: Duration) -> String {
        String(
            format: "%.2f",
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }

    /// Ready once the rules are installed and a snapshot is active.
    var isReady: Bool { state.withLock { $0.rulesInstalled && $0.generation > 0 } }

    private func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            return .ok(metricsText(), contentType: PrometheusText.contentType)
        case "/healthz":
            return .ok("ok\n")
        case "/readyz":
            return isReady ? .ok("ready\n") : HTTPResponse(status: 503, text: "not ready\n")
        case "/status":
            return .ok(statusJSON(), contentType: "application/json")
        default:
            return .notFound
        }
    }
}
