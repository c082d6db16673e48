import NetworkTypes
import Synchronization

/// A denied (or audited) connection, as a worker saw it, for the daemon's log.
public struct DenialEvent: Sendable, Hashable {
    public var flow: FlowKey
    public var reason: DecisionReason
    /// Let through because of audit mode (global or the namespace's).
    public var audited: Bool
    /// The snapshot generation that decided it.
    public var generation: UInt64

    public init(flow: FlowKey, reason: DecisionReason, audited: Bool, generation: UInt64) {
        self.flow = flow
        self.reason = reason
        self.audited = audited
        self.generation = generation
    }
}

/// A single-producer, single-consumer ring of denial events: the worker pushes without allocating or locking;
/// the daemon's log thread drains. When the ring is full the event is counted as lost, never waited for.
final class DenialRing: Sendable {
    private let storage: RingStorage
    private let mask: Int
    /// Written by the consumer.
    private let head = Atomic<Int>(0)
    /// Written by the producer.
    private let tail = Atomic<Int>(0)
    private let lostEvents = Atomic<UInt64>(0)

    init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        storage = RingStorage(capacity: size)
        mask = size - 1
    }

    deinit { storage.deallocate() }

    /// Events dropped because the ring was full.
    var lost: UInt64 { lostEvents.load(ordering: .relaxed) }

    /// Producer side (one worker thread).
    @inline(__always)
    func push(_ event: DenialEvent) {
        let t = tail.load(ordering: .relaxed)
        if t &- head.load(ordering: .acquiring) > mask {
            lostEvents.add(1, ordering: .relaxed)
            return
        }
        storage.pointer[t & mask] = event
        tail.store(t &+ 1, ordering: .releasing)
    }

    /// Consumer side (one thread): appends every pending event to `events`.
    func drain(into events: inout [DenialEvent]) {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var index = h
        while index != t {
            events.append(storage.pointer[index & mask])
            index &+= 1
        }
        head.store(t, ordering: .releasing)
    }
}

/// The ring's memory. Sendable: slots are handed between the two threads by the head and tail atomics'
/// acquire/release ordering.
private struct RingStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<DenialEvent>

    init(capacity: Int) {
        pointer = .allocate(capacity: capacity)
        pointer.initialize(
            repeating: DenialEvent(
                flow: FlowKey(source: .v4(IPv4Address(rawValue: 0)), destination: .v4(IPv4Address(rawValue: 0)), transport: .tcp),
                reason: .deniedByIngress, audited: false, generation: 0),
            count: capacity)
    }

    func deallocate() { pointer.deallocate() }
}
