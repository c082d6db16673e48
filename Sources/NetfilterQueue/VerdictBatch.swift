/// The verdicts for one batch of packets, collected without allocation and sent with one system call by
/// ``NetfilterQueueSocket/sendVerdicts(_:)``.
public struct VerdictBatch: ~Copyable {
    /// One verdict: the packet it is for, what to do, and an optional mark to set (`NFQA_MARK`).
    @frozen
    public struct Entry: Hashable, Sendable {
        /// The packet id from ``ReceivedPacket/packetID``.
        public var packetID: UInt32
        /// What the kernel does with the packet.
        public var verdict: Verdict
        /// A new `skb->mark`, or nil to leave it.
        public var mark: UInt32?

        /// Creates an entry.
        @inlinable
        public init(packetID: UInt32, verdict: Verdict, mark: UInt32? = nil) {
            self.packetID = packetID
            self.verdict = verdict
            self.mark = mark
        }
    }

    @usableFromInline
    let storage: UnsafeMutablePointer<Entry>
    /// The most verdicts the batch holds.
    public let capacity: Int
    /// How many verdicts are in the batch.
    public private(set) var count: Int

    /// Allocates room for `capacity` verdicts.
    public init(capacity: Int) {
        precondition(capacity > 0, "VerdictBatch capacity must be positive")
        self.capacity = capacity
        count = 0
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Adds a verdict. Verdicts are sent in the order they were added.
    public mutating func append(packetID: UInt32, verdict: Verdict, mark: UInt32? = nil) {
        precondition(count < capacity, "VerdictBatch is full (capacity \(capacity))")
        storage[count] = Entry(packetID: packetID, verdict: verdict, mark: mark)
        count += 1
    }

    /// The verdict at `index`, `0..<count`.
    public subscript(index: Int) -> Entry {
        precondition(index >= 0 && index < count, "VerdictBatch index out of range")
        return storage[index]
    }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() { count = 0 }
}
