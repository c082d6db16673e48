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
    let accepted: [Counter]
    let dropped: [Counter]
    /// Denials let through by audit mode, per reason (also counted in `accepted`).
    let audited: [Counter]
    let cacheHits = Atomic<UInt64>(0)
    let cacheMisses = Atomic<UInt64>(0)
    /// Packets per latency bucket (the last is +Inf), and the sum of latencies in nanoseconds: from a batch's
    /// arrival to its verdicts being sent. The send includes the kernel's work on the accepted packets (it
    /// reinjects them in the sending thread), so this is mostly kernel time.
    let latencyBuckets: [Counter]
    let latencySumNanoseconds = Atomic<UInt64>(0)
    /// The same for decision time alone: from a batch's arrival to its last verdict being decided, before
    /// the send.
    let decisionBuckets: [Counter]
    let decisionSumNanoseconds = Atomic<UInt64>(0)
    let receiveErrors = Atomic<UInt64>(0)
    let verdictSendErrors = Atomic<UInt64>(0)
    let receiveBufferOverflows = Atomic<UInt64>(0)
    /// The monotonic time of the worker's last loop iteration, for the watchdog.
    let lastProgressNanoseconds = Atomic<UInt64>(0)
    let snapshotGeneration = Atomic<UInt64>(0)

    init(queue: UInt16) {
        self.queue = queue
        accepted = DecisionReason.allCases.map { _ in Counter() }
        dropped = DecisionReason.allCases.map { _ in Counter() }
        audited = DecisionReason.allCases.map { _ in Counter() }
        latencyBuckets = (0...WorkerCounters.latencyBoundsMicroseconds.count).map { _ in Counter() }
        decisionBuckets = (0...WorkerCounters.latencyBoundsMicroseconds.count).map { _ in Counter() }
    }

    /// A consistent-enough copy for reporting.
    public func read() -> WorkerStatistics {
        WorkerStatistics(
            queue: queue, packets: packets.load(ordering: .relaxed), batches: batches.load(ordering: .relaxed),
            accepted: accepted.map(\.value), dropped: dropped.map(\.value), audited: audited.map(\.value),
            cacheHits: cacheHits.load(ordering: .relaxed), cacheMisses: cacheMisses.load(ordering: .relaxed),
            latencyBuckets: latencyBuckets.map(\.value),
            latencySumNanoseconds: latencySumNanoseconds.load(ordering: .relaxed),
            decisionBuckets: decisionBuckets.map(\.value),
            decisionSumNanoseconds: decisionSumNanoseconds.load(ordering: .relaxed),
            receiveErrors: receiveErrors.load(ordering: .relaxed),
            verdictSendErrors: verdictSendErrors.load(ordering: .relaxed),
            receiveBufferOverflows: receiveBufferOverflows.load(ordering: .relaxed),
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
    public var lastProgressNanoseconds: UInt64
    /// The generation of the snapshot the worker used last.
    public var snapshotGeneration: UInt64

    public var malformed: UInt64 {
        accepted[DecisionReason.malformed.rawValue] + dropped[DecisionReason.malformed.rawValue]
    }
}

/// One relaxed atomic counter. A class, because `Atomic` cannot be stored in an array; these are touched once per
/// batch, never per packet.
final class Counter: Sendable {
    private let storage = Atomic<UInt64>(0)

    var value: UInt64 { storage.load(ordering: .relaxed) }

    @inline(__always)
    func add(_ amount: UInt64) { storage.add(amount, ordering: .relaxed) }
}
