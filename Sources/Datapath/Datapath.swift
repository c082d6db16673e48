@_exported import struct NetfilterQueue.QueueStatistics
public import KernelAllowCache
import LinuxSupport
import NetfilterQueue

/// How the datapath receives and decides.
public struct DatapathConfiguration: Sendable, Hashable {
    /// The first queue; worker i owns queue `firstQueue + i`.
    public var firstQueue: UInt16
    public var workers: Int
    public var failureMode: FailureMode
    /// Flow-cache entries per worker.
    public var flowCacheSize: Int
    /// Messages per receive and verdicts per send.
    public var batchCapacity: Int
    /// Let every denial through, counting and logging it (rolling policies out without an outage).
    public var audit: Bool
    /// How many packets may wait in each queue for a verdict (`NFQA_CFG_QUEUE_MAXLEN`).
    public var maximumQueueLength: UInt32 = 8192
    /// When set, the workers run under `SCHED_RR` at this priority (1–99), so a queued first packet is decided as
    /// soon as it arrives instead of waiting for busy normal threads to yield the CPU.
    public var realTimePriority: Int32? = nil
    /// When set, every allowed flow with ports is added to these kernel ip sets, which the kernel rules consult
    /// before queueing: later connections of the same (source, protocol, destination port, destination) then
    /// skip the queue until the next snapshot flushes the sets (see `Datapath.flushAllowSets()`).
    public var allowSets: AllowSetConfiguration? = nil

    public init(
        firstQueue: UInt16 = 0, workers: Int, failureMode: FailureMode = .open, flowCacheSize: Int = 16384,
        batchCapacity: Int = 64, audit: Bool = false
    ) {
        self.audit = audit
        self.firstQueue = firstQueue
        self.workers = workers
        self.failureMode = failureMode
        self.flowCacheSize = flowCacheSize
        self.batchCapacity = batchCapacity
    }
}

/// The kernel-side allow cache: the sets (one per family), their kind (ip sets for the iptables back end, sets in
/// Tollgate's nft table for the nft back end) and how long an element lives without being added again.
public struct AllowSetConfiguration: Sendable, Hashable {
    /// The IPv4 set.
    public var ipv4: AllowSetName
    /// The IPv6 set.
    public var ipv6: AllowSetName
    /// Seconds an element lives unless added again.
    public var timeoutSeconds: UInt32
    /// ip sets or nft sets: which messages the workers send.
    public var kind: AllowSetKind

    /// Creates a configuration.
    public init(ipv4: AllowSetName, ipv6: AllowSetName, timeoutSeconds: UInt32, kind: AllowSetKind = .ipset) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.timeoutSeconds = timeoutSeconds
        self.kind = kind
    }
}

/// The NFQUEUE datapath: one worker thread per queue, all reading the snapshot the publisher holds.
public final class Datapath: Sendable {
    public let configuration: DatapathConfiguration
    public let publisher: SnapshotPublisher
    private let workers: [VerdictWorker]

    public init(configuration: DatapathConfiguration, publisher: SnapshotPublisher) {
        precondition(configuration.workers > 0, "at least one worker")
        self.configuration = configuration
        self.publisher = publisher
        workers = (0..<configuration.workers).map {
            VerdictWorker(queue: QueueNumber(configuration.firstQueue + UInt16($0)), auditAll: configuration.audit)
        }
    }

    /// Binds every queue and starts the workers. On failure, the workers already started are stopped and the
    /// error says which queue failed and why (another process holding a queue is the usual cause).
    public func start() throws(NetfilterQueueError) {
        // A queue longer than the kernel's default 1,024: in fail-open mode a full queue lets new connections
        // through undecided (the kernel counts nothing), so bursts must fit. 8,192 first packets of ~1 KiB truesize
        // fit the 8 MiB receive buffer.
        let queueConfiguration = QueueConfiguration(
            copyRange: 128, failOpen: configuration.failureMode == .open, gso: true,
            maximumQueueLength: configuration.maximumQueueLength, batchCapacity: configuration.batchCapacity,
            receiveTimeout: .milliseconds(100))
        for (index, worker) in workers.enumerated() {
            do {
                try worker.start(
                    configuration: queueConfiguration, failureMode: configuration.failureMode,
                    flowCacheSize: configuration.flowCacheSize, allowSets: configuration.allowSets, publisher: publisher)
            } catch {
                for started in workers[..<index] { started.stop() }
                throw error
            }
        }
    }

    /// Stops every worker; returns within about one receive timeout. Closing the sockets makes the kernel drop
    /// what is still queued for them (or pass it, with the rules' bypass in fail-open mode).
    public func stop() {
        for worker in workers { worker.stop() }
    }

    /// Applies ``DatapathConfiguration/realTimePriority`` to every started worker; returns one message per worker
    /// it could not be applied to (the worker then keeps running at normal priority).
    public func applyRealTimePriority() -> [String] {
        guard let priority = configuration.realTimePriority else { return [] }
        var problems: [String] = []
        for worker in workers {
            do {
                try worker.setRealTimePriority(priority)
            } catch {
                problems.append("queue \(worker.queue.rawValue): \(error)")
            }
        }
        return problems
    }

    /// Empties the kernel's allow sets. Call after publishing a snapshot: `SnapshotPublisher.publish` returns only
    /// once every worker has passed a quiescent state, and workers add to the sets before theirs, so no element
    /// decided under an earlier snapshot can be added after this flush.
    ///
    /// - Throws: ``SystemError`` from the netlink socket or the kernel's answer.
    public func flushAllowSets() throws(SystemError) {
        guard let sets = configuration.allowSets else { return }
        try AllowSetSocket().flush([(sets.ipv4, .ipv4), (sets.ipv6, .ipv6)], kind: sets.kind)
    }

    /// Every worker's counters.
    public var statistics: [WorkerStatistics] { workers.map { $0.counters.read() } }

    /// Takes the denial events the workers recorded since the last call. Call from one thread only.
    public func drainDenials(into events: inout [DenialEvent]) {
        for worker in workers { worker.denials.drain(into: &events) }
    }

    /// Denial events lost because a worker's ring was full (the log thread fell behind).
    public var lostDenials: UInt64 { workers.reduce(0) { $0 + $1.denials.lost } }

    /// The queues the workers own.
    public var queues: [UInt16] { workers.map(\.queue.rawValue) }
}

extension Datapath {
    /// The kernel's counters for this datapath's queues (`/proc/net/netfilter/nfnetlink_queue` of the calling
    /// thread's network namespace): queue length, queue drops and user drops.
    public func kernelQueueStatistics() throws(NetfilterQueueError) -> [QueueStatistics] {
        let mine = Set(queues)
        return try QueueStatistics.read().filter { mine.contains($0.queue.rawValue) }
    }
}
