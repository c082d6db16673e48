import ConntrackRevocation
import Datapath
import Dispatch
import Foundation
import KernelAllowCache
import KernelRules
import LinuxSupport
import Logging
import NetworkTypes
import PolicyFeeds
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
    private let source: Mutex<PolicyDirectorySource?>
    /// Every source's objects, merged (the directory, registered first, wins conflicts; see ``ObjectStore``).
    let store = ObjectStore()
    /// The Kubernetes API feed, once started.
    let feed = Mutex<KubernetesFeed?>(nil)
    /// The cluster state of the last snapshot and the compiler that made it: each reload applies the store's
    /// changes to the state and compiles what they touch (see ``IncrementalCompiler``).
    private let compilation = Mutex<(state: ClusterState?, compiler: IncrementalCompiler)>((nil, IncrementalCompiler()))
    /// Set by the store on every change; the reload thread debounces it into one snapshot.
    private let storeChanged = Atomic<Bool>(false)
    /// Counts store changes, so the debounce can tell whether the burst is still going on.
    private let storeChanges = Atomic<UInt64>(0)
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
    /// Whether the kernel allow cache is on (ip sets with the iptables back end, nft sets with the nft back end).
    let allowCacheActive: Bool
    /// The allow cache's accept counter as last read from the kernel (see `kernelCacheAccepts()`).
    let kernelCacheAcceptCounter = Mutex(KernelCacheAcceptCounter())

    public init(configuration: DaemonConfiguration, logger: Logger, installer: RuleInstaller = RuleInstaller()) {
        self.configuration = configuration
        self.logger = logger
        self.installer = installer
        source = Mutex(configuration.policyDirectory.map { PolicyDirectorySource(directory: $0) })
        if configuration.policyDirectory != nil { store.addSource(Self.directorySourceName) }
        notifier = try? SystemdNotifier()
        revocation = RevocationRunner(enabled: configuration.revoke, logger: logger)
        watchStatus.withLock { $0.mode = configuration.pollInterval > .zero ? "inotify+poll" : "inotify" }
        backendChoice = installer.detectBackend(forcing: configuration.backend)
        allowCacheActive = configuration.usesAllowCache(on: backendChoice.backend, installer: installer)
        if configuration.kernelAllowCache && !allowCacheActive {
            // The cache is an optimisation: without its tool, enforce without it rather than not at all.
            logger.warning(
                "kernel allow cache: the ipset tool is not installed (Debian package ipset); running without the cache")
        }
        var datapathConfiguration = DatapathConfiguration(
            firstQueue: configuration.firstQueue, workers: configuration.workers, failureMode: configuration.failureMode,
            flowCacheSize: configuration.flowCacheSize, audit: configuration.audit)
        datapathConfiguration.realTimePriority = configuration.workerPriority > 0 ? Int32(configuration.workerPriority) : nil
        if allowCacheActive {
            let nft = backendChoice.backend == .nftables
            let names = nft ? RuleRenderer.nftAllowSetNames : RuleRenderer.allowSetNames
            if let v4 = AllowSetName(names[0].name), let v6 = AllowSetName(names[1].name),
                let table = AllowSetName(RuleRenderer.nftTable)
            {
                datapathConfiguration.allowSets = AllowSetConfiguration(
                    ipv4: v4, ipv6: v6, timeoutSeconds: RuleRenderer.allowSetTimeoutSeconds,
                    kind: nft ? .nftables(table: table) : .ipset)
            }
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
                "policy-dir": "\(configuration.policyDirectory ?? "none")",
                "kubernetes-api": "\(configuration.kubernetesAPI.map { "\($0)" } ?? "none")", "workers": "\(configuration.workers)",
                "queues": "\(configuration.firstQueue)-\(Int(configuration.firstQueue) + configuration.workers - 1)",
                "failure-mode": "\(configuration.failureMode.rawValue)",
            ])
        // The watch is armed before the first load, so no change made after that load goes unseen.
        let watch: DirectoryWatch
        do {
            // Without a directory the watch is never armed: it only wakes the reload thread.
            watch = try DirectoryWatch(directory: configuration.policyDirectory ?? "")
        } catch {
            throw DaemonError(.systemFailure, "\(error)")
        }
        if configuration.policyDirectory != nil { armWatch(watch) }
        store.onChange { [self] in
            storeChanges.add(1, ordering: .relaxed)
            storeChanged.store(true, ordering: .releasing)
            watch.wake()
        }
        if let api = configuration.kubernetesAPI {
            do {
                let started = try KubernetesFeed(connection: api.connection(), store: store, logger: logger)
                feed.withLock { $0 = started }
                started.start()
            } catch {
                throw DaemonError(.invalidConfiguration, "\(api): \(error)")
            }
            waitForFirstList()
        }
        reload(reason: "start")

        do {
            try datapath.start()
        } catch {
            feed.withLock { $0 }?.stopAndWait()
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
            feed.withLock { $0 }?.stopAndWait()
            throw DaemonError(.endpointUnavailable, "\(error)")
        }
        let (backend, reason) = backendChoice
        logger.info("kernel rules back end: \(backend)", metadata: ["reason": "\(reason)"])
        if allowCacheActive {
            logger.info(
                "kernel allow cache on",
                metadata: ["sets": "\(backend == .nftables ? "nft sets in table inet \(RuleRenderer.nftTable)" : "ip sets")"])
        }
        do {
            _ = try installer.install(
                configuration.ruleConfiguration(nodes: nodePlan(), allowSets: allowCacheActive), backend: backend)
            // Elements an earlier run left in existing sets were decided under its snapshots.
            flushAllowSets()
        } catch {
            server.stop()
            datapath.stop()
            feed.withLock { $0 }?.stopAndWait()
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
            feed.withLock { $0 }?.stopAndWait()
            throw DaemonError(.systemFailure, "\(error)")
        }

        termination.wait()
        notify("STOPPING=1")
        stopRequested.store(true, ordering: .relaxed)
        watch.wake()
        reloader.join()
        revocation.stop()
        denialLogger.join()
        feed.withLock { $0 }?.stopAndWait()
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
        let hasDirectory = configuration.policyDirectory != nil
        while !stopRequested.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            var timeout: Duration? = nil
            if hasDirectory && !watch.isWatching { timeout = max(.zero, lastArmAttempt + missingCheck - now) }
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
                        metadata: ["policy-dir": "\(configuration.policyDirectory ?? "")"])
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
            var rereadDirectory = reason != nil
            if reason == nil && storeChanged.load(ordering: .acquiring) {
                // API changes come in bursts (a rollout, a relist): wait until no change has come for 5 ms (at most
                // 20 ms), so the burst becomes one snapshot.
                let burstStarted = ContinuousClock.now
                var seen = storeChanges.load(ordering: .relaxed)
                while ContinuousClock.now - burstStarted < Self.apiDebounce {
                    Thread.sleep(forTimeInterval: Self.apiQuietSeconds)
                    let now = storeChanges.load(ordering: .relaxed)
                    if now == seen { break }
                    seen = now
                }
                reason = "Kubernetes API change"
            }
            if hasDirectory && !watch.isWatching && ContinuousClock.now - lastArmAttempt >= missingCheck {
                lastArmAttempt = ContinuousClock.now
                if armWatch(watch, quiet: true) {
                    logger.notice("the policy directory is back; watching it again")
                    reason = reason ?? "policy directory appeared"
                    rereadDirectory = true
                }
            }
            if poll > .zero && ContinuousClock.now - lastPoll >= poll {
                lastPoll = ContinuousClock.now
                if hasDirectory && (reason == nil || !rereadDirectory) && source.withLock({ $0?.hasChanged() }) == true {
                    reason = "changed (seen by the safety-net poll)"
                    rereadDirectory = true
                    watchStatus.withLock { $0.pollReloads += 1 }
                }
            }
            if reason == nil && ContinuousClock.now - lastAddressCheck >= Self.hostAddressCheckInterval {
                lastAddressCheck = ContinuousClock.now
                updateNodeAddresses()
            }
            if let reason {
                notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
                reload(reason: reason, rereadDirectory: rereadDirectory)
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
                    metadata: ["policy-dir": "\(configuration.policyDirectory ?? "")"])
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

    /// The store's name for the policy directory source.
    static let directorySourceName = "directory"
    /// The longest a burst of API changes is waited for before it is compiled into one snapshot.
    static let apiDebounce: Duration = .milliseconds(20)
    /// A burst of API changes has ended when none came for this long.
    static let apiQuietSeconds = 0.005
    /// How long the start waits for the first complete list of the Kubernetes API before going on without it.
    static let firstListTimeout: Duration = .seconds(10)

    /// Waits, up to ``firstListTimeout``, until the API feed has listed every resource once: a snapshot compiled
    /// from half a cluster would deny (or allow) what the whole one does not.
    private func waitForFirstList() {
        guard let feed = feed.withLock({ $0 }) else { return }
        let deadline = ContinuousClock.now + Self.firstListTimeout
        while !feed.isSynced && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if !feed.isSynced {
            logger.error(
                "the Kubernetes API has not been listed within \(Self.firstListTimeout); no snapshot until it is (the \(configuration.failureMode == .open ? "fail-open" : "fail-closed") verdict applies meanwhile)",
                metadata: ["server": "\(feed.connection.server)"])
        }
    }

    /// Loads the directory (unless only the API changed), merges every source in the store, compiles and
    /// publishes a new snapshot. A directory that cannot be read keeps its last objects in the store; a file
    /// that fails to load keeps its last good objects; no snapshot is published until every source has
    /// delivered a complete view once.
    func reload(reason: String, rereadDirectory: Bool = true) {
        let reloadStarted = ContinuousClock.now
        var outcome = PolicyDirectorySource.Outcome(
            objects: [], errors: [], directoryReadable: true, filesKeptFromLastGood: [])
        /// When the directory is not reread, the errors of its last load still stand.
        var standingErrors: [String]? = nil
        let hasDirectory = configuration.policyDirectory != nil
        if hasDirectory, rereadDirectory || !store.isSynced(Self.directorySourceName) {
            outcome = source.withLock { $0?.load() } ?? outcome
            if outcome.directoryReadable { store.update(source: Self.directorySourceName, with: outcome) }
            let watched = watchStatus.withLock { $0.watching }
            store.updateStatus(of: Self.directorySourceName) {
                $0.location = configuration.policyDirectory ?? ""
                $0.connected = outcome.directoryReadable && watched
                if outcome.directoryReadable { $0.synced = true }
                $0.lastError = outcome.errors.first?.description
            }
        } else if hasDirectory {
            let previous = state.withLock { ($0.lastErrors, $0.filesKeptFromLastGood, $0.policyDirectoryReadable) }
            outcome.errors = []
            outcome.filesKeptFromLastGood = previous.1
            outcome.directoryReadable = previous.2
            standingErrors = previous.0
        }
        let loaded = ContinuousClock.now
        for error in outcome.errors { logger.error("\(error)") }
        if !outcome.filesKeptFromLastGood.isEmpty && rereadDirectory {
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
            if configuration.kubernetesAPI == nil {
                logger.error(
                    current == 0
                        ? "no policy loaded: the \(configuration.failureMode == .open ? "fail-open" : "fail-closed") verdict applies until the directory appears"
                        : "keeping snapshot generation \(current) in force")
                return
            }
        }
        // Cleared before the store is read: a change after this point sets it again and is compiled next.
        storeChanged.store(false, ordering: .releasing)
        if let waiting = store.firstUnsyncedSource() {
            logger.warning(
                "not compiling yet: the \(waiting.name) source has not delivered a complete view (\(waiting.lastError ?? "waiting for it"))",
                metadata: ["reason": "\(reason)"])
            return
        }
        let conflicts = store.conflicts()
        if conflicts.count != state.withLock({ $0.conflicts.count }) || conflicts.map(\.description) != state.withLock({ $0.conflicts }) {
            for conflict in conflicts.prefix(20) { logger.warning("source conflict: \(conflict)") }
            if conflicts.count > 20 { logger.warning("\(conflicts.count - 20) more source conflicts") }
        }
        state.withLock { $0.conflicts = conflicts.map(\.description) }
        let (clusterState, snapshot) = compilation.withLock { compilation in
            let clusterState = store.clusterState(updating: compilation.state)
            compilation.state = clusterState
            return (clusterState, compilation.compiler.compile(clusterState, generation: current + 1))
        }
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
            $0.lastErrors = standingErrors ?? outcome.errors.map(\.description)
            $0.filesKeptFromLastGood = outcome.filesKeptFromLastGood
            $0.policyDirectoryReadable = outcome.directoryReadable
            if outcome.errors.isEmpty && (standingErrors ?? []).isEmpty { $0.reloadsApplied += 1 } else { $0.reloadsWithErrors += 1 }
        }
        logger.info(
            "snapshot \(snapshot.generation) active (\(reason))",
            metadata: [
                "namespaces": "\(statistics.namespaces)", "pods": "\(statistics.pods)",
                "policies": "\(statistics.networkPolicies)", "files-parsed": "\(outcome.filesParsed)",
                "load-ms": "\(Self.milliseconds(loaded - reloadStarted))",
                "reload-ms": "\(Self.milliseconds(ContinuousClock.now - reloadStarted))",
                "compile-ms": "\(String(format: "%.2f", Double(statistics.compileDuration.components.attoseconds) / 1e15))",
                "policies-resolved": "\(statistics.policiesResolved)",
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
                return (
                    previous ?? configuration.nodePlan(hostAddresses: [], nodes: state.clusterNodes), previous, state.backend)
            }
            let plan = configuration.nodePlan(hostAddresses: hostAddresses, nodes: state.clusterNodes)
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
