internal import CUserspaceRCU
import KernelAllowCache
import LinuxSupport
import NetfilterQueue
import NetworkTypes
import PacketHeaders
import Synchronization
import VerdictEngine

/// One worker: a dedicated thread that owns one queue socket, receives packets in batches, decides each against
/// the RCU-published snapshot and sends the batch's verdicts with one system call.
///
/// The loop allocates nothing, takes no lock and touches no reference count per packet: buffers, the flow
/// cache and the verdict batch are allocated before it starts, the snapshot is reached through a raw pointer
/// inside an RCU read-side section, and counters are added once per batch.
final class VerdictWorker: Sendable {
    let queue: QueueNumber
    let counters: WorkerCounters
    /// Denied and audited connections, for the daemon's log.
    let denials = DenialRing(capacity: 1024)
    /// Let every denial through (global audit mode).
    let auditAll: Bool
    private let stopping = Atomic<Bool>(false)
    private let thread: Mutex<DedicatedThread?> = Mutex(nil)

    init(queue: QueueNumber, auditAll: Bool) {
        self.queue = queue
        self.auditAll = auditAll
        counters = WorkerCounters(queue: queue.rawValue)
    }

    /// Opens the queue socket on the calling thread (so a bind failure is reported at once), then starts the
    /// worker thread that owns it.
    func start(
        configuration: QueueConfiguration, failureMode: FailureMode, flowCacheSize: Int,
        allowSets: AllowSetConfiguration?, publisher: SnapshotPublisher
    ) throws(NetfilterQueueError) {
        let socket = try NetfilterQueueSocket(queue: queue, configuration: configuration)
        let box = SocketBox(socket)
        let batchCapacity = configuration.batchCapacity
        var allowCache: AllowCache? = nil
        if let allowSets {
            do {
                allowCache = AllowCache(socket: try AllowSetSocket(), sets: allowSets)
            } catch {
                throw NetfilterQueueError(
                    call: error.call, errno: error.errno.rawValue, message: "cannot open the allow-set netlink socket")
            }
        }
        do {
            let started = try DedicatedThread(name: "tollgate-q\(queue.rawValue)") { [self, allowCache] in
                loop(
                    socket: box.take(), publisher: publisher, failureMode: failureMode, batchCapacity: batchCapacity,
                    flowCacheSize: flowCacheSize, allowCache: allowCache)
            }
            thread.withLock { $0 = started }
        } catch {
            throw NetfilterQueueError(call: "pthread_create", errno: error.errno.rawValue, message: "cannot start the worker thread")
        }
    }

    /// Runs the worker thread under `SCHED_RR` at `priority` (see ``DedicatedThread/setRealTimePriority(_:)``).
    func setRealTimePriority(_ priority: Int32) throws(SystemError) {
        guard let started = thread.withLock({ $0 }) else {
            throw SystemError(call: "pthread_setschedparam", errno: .invalidArgument)
        }
        try started.setRealTimePriority(priority)
    }

    /// Asks the worker to stop and waits for it (at most one receive timeout).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let started = thread.withLock { thread -> DedicatedThread? in
            defer { thread = nil }
            return thread
        }
        started?.join()
    }

    private func loop(
        socket: NetfilterQueueSocket, publisher: SnapshotPublisher, failureMode: FailureMode, batchCapacity: Int,
        flowCacheSize: Int, allowCache: AllowCache?
    ) {
        tollgate_rcu_register_thread()
        defer { tollgate_rcu_unregister_thread() }
        var batch = ReceivedBatch(capacity: batchCapacity)
        var verdicts = VerdictBatch(capacity: batchCapacity)
        var cache = FlowCache(capacity: flowCacheSize)
        var accepted = [UInt64](repeating: 0, count: DecisionReason.allCases.count)
        var audited = [UInt64](repeating: 0, count: DecisionReason.allCases.count)
        var dropped = [UInt64](repeating: 0, count: DecisionReason.allCases.count)
        let bounds = WorkerCounters.latencyBoundsMicroseconds.map { UInt64($0 * 1000) }
        var reportedOverflows = 0
        let failure = failureMode.verdict()
        // Adds to the kernel's allow sets, written during a batch and sent after its verdicts.
        var adds = AllowSetMessages(
            capacity: allowCache == nil ? 0 : batchCapacity * AllowSetMessages.maximumAddSize,
            kind: allowCache?.sets.kind ?? .ipset)
        let allowSets = allowCache?.sets  // plain values: nothing reference-counted on the packet path
        // After an error reply (in practice a full set) adds pause: a failing add costs far more than a good one
        // (an nft batch that fails is aborted, which blocks the sender for milliseconds; a full ip set costs ~10 µs
        // per add), and a full set cannot take the flow anyway.
        var addsPausedUntil: UInt64 = 0

        while !stopping.load(ordering: .relaxed) {
            counters.lastProgressNanoseconds.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
            // Blocking in recv is an extended quiescent state: publications never wait for an idle worker.
            tollgate_rcu_thread_offline()
            let received: Int
            do {
                received = try socket.receive(into: &batch)
            } catch {
                tollgate_rcu_thread_online()
                counters.receiveErrors.add(1, ordering: .relaxed)
                continue
            }
            tollgate_rcu_thread_online()
            if socket.receiveBufferOverflows != reportedOverflows {
                counters.receiveBufferOverflows.add(
                    UInt64(socket.receiveBufferOverflows - reportedOverflows), ordering: .relaxed)
                reportedOverflows = socket.receiveBufferOverflows
            }
            if received == 0 { continue }
            let started = MonotonicClock.nanoseconds()
            let published = publisher.read()
            let generation = published?.pointee.generation ?? 0
            var hits: UInt64 = 0
            var misses: UInt64 = 0
            var skippedAdds: UInt64 = 0
            let adding = started >= addsPausedUntil
            for index in 0..<received {
                let packet = batch[index]
                let reason: DecisionReason
                let verdict: NetfilterQueue.Verdict
                if let published {
                    do {
                        let flow = try PacketParser.parse(packet.payload)
                        if flow.isNeighbourDiscovery {
                            reason = .neighbourDiscovery
                            verdict = .accept
                        } else {
                            let decided: VerdictEngine.Verdict
                            if let cached = cache.lookup(flow, generation: generation) {
                                decided = cached
                                hits &+= 1
                            } else {
                                decided = published.pointee.tables.evaluate(flow)
                                cache.insert(flow, generation: generation, verdict: decided)
                                misses &+= 1
                            }
                            reason = DecisionReason(decided.reason)
                            if decided.isAllowed {
                                verdict = .accept
                                if let allowSets {
                                    if adding {
                                        adds.appendAdd(
                                            to: flow.source.family == .ipv4 ? allowSets.ipv4 : allowSets.ipv6,
                                            flow: flow, timeout: allowSets.timeoutSeconds)
                                    } else if flow.transport.hasPorts {
                                        skippedAdds &+= 1
                                    }
                                }
                            } else {
                                let audit = auditAll || decided.audited
                                verdict = audit ? .accept : .drop
                                if audit { audited[reason.rawValue] &+= 1 }
                                denials.push(
                                    DenialEvent(flow: flow, reason: reason, audited: audit, generation: generation))
                            }
                        }
                    } catch {
                        reason = .malformed
                        verdict = failure
                    }
                } else {
                    reason = .noSnapshot
                    verdict = failure
                }
                if verdict == .accept { accepted[reason.rawValue] &+= 1 } else { dropped[reason.rawValue] &+= 1 }
                verdicts.append(packetID: packet.packetID, verdict: verdict)
            }
            let decided = MonotonicClock.nanoseconds() &- started
            do {
                try socket.sendVerdicts(verdicts)
            } catch {
                counters.verdictSendErrors.add(1, ordering: .relaxed)
            }
            verdicts.removeAll()
            if let allowCache, adds.messages > 0 {
                // Before the quiescent state: a flush after the next publication cannot miss these.
                do {
                    try allowCache.socket.send(&adds)
                    counters.allowSetAdds.add(UInt64(adds.messages), ordering: .relaxed)
                } catch {
                    counters.allowSetErrors.add(UInt64(adds.messages), ordering: .relaxed)
                }
                adds.removeAll()
                // The kernel handled the adds inside `send`: its error replies, if any, are waiting already. Without
                // any, this is one `recv` that finds nothing.
                let errors = allowCache.socket.drainReplies().errors
                if errors > 0 {
                    counters.allowSetErrors.add(UInt64(errors), ordering: .relaxed)
                    counters.allowSetPauses.add(1, ordering: .relaxed)
                    addsPausedUntil = MonotonicClock.nanoseconds() &+ Self.allowSetPauseNanoseconds
                }
            }
            if skippedAdds > 0 { counters.allowSetSkips.add(skippedAdds, ordering: .relaxed) }
            // The snapshot pointer is not used past this point.
            tollgate_rcu_quiescent_state()

            let elapsed = MonotonicClock.nanoseconds() &- started
            counters.latencyBuckets.add(Self.bucket(elapsed, bounds), UInt64(received))
            counters.latencySumNanoseconds.add(elapsed &* UInt64(received), ordering: .relaxed)
            counters.decisionBuckets.add(Self.bucket(decided, bounds), UInt64(received))
            counters.decisionSumNanoseconds.add(decided &* UInt64(received), ordering: .relaxed)
            counters.packets.add(UInt64(received), ordering: .relaxed)
            counters.batches.add(1, ordering: .relaxed)
            counters.cacheHits.add(hits, ordering: .relaxed)
            counters.cacheMisses.add(misses, ordering: .relaxed)
            counters.snapshotGeneration.store(generation, ordering: .relaxed)
            for index in 0..<accepted.count {
                if accepted[index] != 0 {
                    counters.accepted.add(index, accepted[index])
                    accepted[index] = 0
                }
                if dropped[index] != 0 {
                    counters.dropped.add(index, dropped[index])
                    dropped[index] = 0
                }
                if audited[index] != 0 {
                    counters.audited.add(index, audited[index])
                    audited[index] = 0
                }
            }
        }
    }
}

/// A worker's handle on the kernel's allow sets: its own netlink socket and the sets' names.
struct AllowCache: @unchecked Sendable {
    // @unchecked: the socket is used by the worker thread only, once the thread starts.
    let socket: AllowSetSocket
    let sets: AllowSetConfiguration
}

extension VerdictWorker {
    /// How long a worker stops adding to the allow sets after an error reply: one second.
    static let allowSetPauseNanoseconds: UInt64 = 1_000_000_000

    /// The index of the first bound at or above `nanoseconds`, or `bounds.count` (+Inf).
    @inline(__always)
    static func bucket(_ nanoseconds: UInt64, _ bounds: [UInt64]) -> Int {
        var index = 0
        while index < bounds.count && nanoseconds > bounds[index] { index += 1 }
        return index
    }
}

/// Hands a queue socket to the worker thread. The socket is used by exactly one thread at a time: the opener
/// until `take()`, then the worker.
private final class SocketBox: @unchecked Sendable {
    // @unchecked: the socket is handed over once, before the worker thread starts reading it.
    private var socket: NetfilterQueueSocket?

    init(_ socket: NetfilterQueueSocket) { self.socket = socket }

    func take() -> NetfilterQueueSocket {
        defer { socket = nil }
        return socket!
    }
}
