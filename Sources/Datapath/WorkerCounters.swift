import Synchronization

/// The counters of one worker. The worker adds to them once per batch (relaxed atomics on a cache line only it
/// writes); the metrics endpoint reads them whenever it is scraped.
public final class WorkerCounters: Sendable {
    /// The latency histogram's upper bounds, in microseconds: from a batch's arrival to its verdicts being sent.
    public static let latencyBoundsMicroseconds: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    public let queue: UInt16
    let packets = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    /// Accepted and dropped packets per `DecisionReason`.
    let accepted: CounterArray
    let dropped: CounterArray
    /// Denials let through by audit mode, per reason (also counted in `accepted`).
    let audited: CounterArray
    let cacheHits = Atomic<UInt64>(0)
    let cacheMisses = Atomic<UInt64>(0)
    /// Packets per latency bucket (the last is +Inf), and the sum of latencies in nanoseconds: from a batch's
    /// arrival to its verdicts being sent. The send includes the kernel's work on the accepted packets (it
    /// reinjects them in the sending thread), so this is mostly kernel time.
    let latencyBuckets: CounterArray
    let latencySumNanoseconds = Atomic<UInt64>(0)
    /// The same for decision time alone: from a batch's arrival to its last verdict being decided, before
    /// the send.
    let decisionBuckets: CounterArray
    let decisionSumNanoseconds = Atomic<UInt64>(0)
    let receiveErrors = Atomic<UInt64>(0)
    let verdictSendErrors = Atomic<UInt64>(0)
    let receiveBufferOverflows = Atomic<UInt64>(0)
    /// Allowed flows handed to the kernel's allow sets, and the kernel's error replies to those adds.
    let allowSetAdds = Atomic<UInt64>(0)
    let allowSetErrors = Atomic<UInt64>(0)
    /// Allowed flows not handed to the allow sets because adds were paused after an error reply (a full set), and
    /// how many times adds were paused.
    let allowSetSkips = Atomic<UInt64>(0)
    let allowSetPauses = Atomic<UInt64>(0)
    /// The monotonic time of the worker's last loop iteration, for the watchdog.
    let lastProgressNanoseconds = Atomic<UInt64>(0)
    let snapshotGeneration = Atomic<UInt64>(0)

    init(queue: UInt16) {
        self.queue = queue
        accepted = CounterArray(count: DecisionReason.allCases.count)
        dropped = CounterArray(count: DecisionReason.allCases.count)
        audited = CounterArray(count: DecisionReason.allCases.count)
        latencyBuckets = CounterArray(count: WorkerCounters.latencyBoundsMicroseconds.count + 1)
        decisionBuckets = CounterArray(count: WorkerCounters.latencyBoundsMicroseconds.count + 1)
    }

    deinit {
        for array in [accepted, dropped, audited, latencyBuckets, decisionBuckets] { array.deallocate() }
    }

    /// A consistent-enough copy for reporting.
    public func read() -> WorkerStatistics {
        WorkerStatistics(
            queue: queue, packets: packets.load(ordering: .relaxed), batches: batches.load(ordering: .relaxed),
            accepted: accepted.values, dropped: dropped.values, audited: audited.values,
            cacheHits: cacheHits.load(ordering: .relaxed), cacheMisses: cacheMisses.load(ordering: .relaxed),
            latencyBuckets: latencyBuckets.values,
            latencySumNanoseconds: latencySumNanoseconds.load(ordering: .relaxed),
            decisionBuckets: decisionBuckets.values,
            decisionSumNanoseconds: decisionSumNanoseconds.load(ordering: .relaxed),
            receiveErrors: receiveErrors.load(ordering: .relaxed),
            verdictSendErrors: verdictSendErrors.load(ordering: .relaxed),
            receiveBufferOverflows: receiveBufferOverflows.load(ordering: .relaxed),
            allowSetAdds: allowSetAdds.load(ordering: .relaxed), allowSetErrors: allowSetErrors.load(ordering: .relaxed),
            allowSetSkips: allowSetSkips.load(ordering: .relaxed), allowSetPauses: allowSetPauses.load(ordering: .relaxed),
            lastProgressNanoseconds: lastProgressNanoseconds.load(ordering: .relaxed),
            snapshotGeneration: snapshotGeneration.load(ordering: .relaxed))
    }
}

/// What one worker has done, as plain numbers.
public struct WorkerStatistics: Sendable, Hashable {
    public var queue: UInt16
    public var packets: UInt64
    public var batches: UInt64
    /// Indexed by `DecisionReason.rawValue`.
    public var accepted: [UInt64]
    public var dropped: [UInt64]
    /// Denials let through by audit mode (included in `accepted`), by `DecisionReason.rawValue`.
    public var audited: [UInt64]
    public var cacheHits: UInt64
    public var cacheMisses: UInt64
    public var latencyBuckets: [UInt64]
    public var latencySumNanoseconds: UInt64
    /// Decision time alone (before the verdicts are sent), per bucket, and its sum.
    public var decisionBuckets: [UInt64]
    public var decisionSumNanoseconds: UInt64
    public var receiveErrors: UInt64
    public var verdictSendErrors: UInt64
    public var receiveBufferOverflows: UInt64
    /// Allowed flows handed to the kernel's allow sets, and the kernel's error replies.
    public var allowSetAdds: UInt64
    public var allowSetErrors: UInt64
    /// Allowed flows not added because adds were paused after an error reply, and the pauses.
    public var allowSetSkips: UInt64
    public var allowSetPauses: UInt64
    public var lastProgressNanoseconds: UInt64
    /// The generation of the snapshot the worker used last.
    public var snapshotGeneration: UInt64

    public var malformed: UInt64 {
        accepted[DecisionReason.malformed.rawValue] + dropped[DecisionReason.malformed.rawValue]
    }
}

/// A fixed number of relaxed atomic counters in memory allocated once: the worker adds to them by index with no
/// array of objects in between, so no reference is counted on the way. Owned and freed by `WorkerCounters`.
struct CounterArray: @unchecked Sendable {
    // @unchecked: every access to the memory is an atomic operation; the owner frees it only in its deinit.
    private let storage: UnsafeMutablePointer<Atomic<UInt64>>
    let count: Int

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        for index in 0..<count { (storage + index).initialize(to: Atomic<UInt64>(0)) }
    }

    @inline(__always)
    func add(_ index: Int, _ amount: UInt64) {
        storage[index].add(amount, ordering: .relaxed)
    }

    var values: [UInt64] { (0..<count).map { storage[$0].load(ordering: .relaxed) } }

    func deallocate() {
        storage.deinitialize(count: count)
        storage.deallocate()
    }
}
