internal import CUserspaceRCU
import Synchronization
import VerdictEngine

/// What workers read through RCU: a compiled snapshot's tables and generation, in plain memory.
struct PublishedSnapshot {
    let tables: VerdictTables
    let generation: UInt64
}

/// Publishes compiled snapshots to the workers with userspace RCU (liburcu, QSBR flavour).
///
/// `publish(_:)` swaps one pointer; workers pick the new snapshot up at their next batch without waiting for
/// anything. The publisher then waits for a grace period — every worker has passed a quiescent state, so none
/// still reads the old tables — and only then releases the old snapshot. No worker ever waits for a compile or a
/// publication.
public final class SnapshotPublisher: Sendable {
    /// The RCU-protected slot: a `PublishedSnapshot` pointer, or nil before the first publication.
    var slot: UnsafeMutablePointer<UnsafeMutableRawPointer?> { slotStorage.pointer }
    private let slotStorage: SlotStorage
    private let state = Mutex<(current: CompiledSnapshot?, publications: UInt64)>((nil, 0))

    public init() {
        let pointer = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        pointer.initialize(to: nil)
        slotStorage = SlotStorage(pointer: pointer)
    }

    deinit {
        if let pointer = slot.pointee {
            pointer.assumingMemoryBound(to: PublishedSnapshot.self).deinitialize(count: 1).deallocate()
        }
        slot.deallocate()
    }

    /// The snapshot in force, for readers off the hot path (status, explain).
    public var current: CompiledSnapshot? { state.withLock { $0.current } }

    /// How many snapshots have been published.
    public var publications: UInt64 { state.withLock { $0.publications } }

    /// Makes `snapshot` the one workers use, then frees the previous one after a grace period. Blocks the caller
    /// (never a worker) for that grace period. Call it from one thread at a time; it serialises itself anyway.
    public func publish(_ snapshot: CompiledSnapshot) {
        state.withLock { state in
            let published = UnsafeMutablePointer<PublishedSnapshot>.allocate(capacity: 1)
            published.initialize(to: PublishedSnapshot(tables: snapshot.tables, generation: snapshot.generation))
            let old = tollgate_rcu_exchange_pointer(slot, UnsafeMutableRawPointer(published))
            // Wait until no worker can still hold the old pointer, then free it and drop the old snapshot.
            tollgate_rcu_synchronize()
            if let old {
                old.assumingMemoryBound(to: PublishedSnapshot.self).deinitialize(count: 1).deallocate()
            }
            state.current = snapshot
            state.publications += 1
        }
    }

    /// Reads the slot inside a read-side critical section (the calling thread must be a registered, online RCU
    /// reader). The pointer is valid until the thread's next quiescent state.
    @inline(__always)
    func read() -> UnsafePointer<PublishedSnapshot>? {
        guard let raw = tollgate_rcu_dereference(slot) else { return nil }
        return UnsafePointer(raw.assumingMemoryBound(to: PublishedSnapshot.self))
    }
}

/// The slot's memory. Sendable because every access goes through liburcu's barriers (`rcu_xchg_pointer`,
/// `rcu_dereference`), which order it across threads.
private struct SlotStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UnsafeMutableRawPointer?>
}
