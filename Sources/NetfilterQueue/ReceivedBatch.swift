/// Storage for the packets of one receive, allocated once and reused for every ``NetfilterQueueSocket/receive(into:)``.
///
/// Not copyable: it owns its storage. Entries are valid until the next receive on the socket that filled it.
public struct ReceivedBatch: ~Copyable {
    @usableFromInline
    let storage: UnsafeMutablePointer<ReceivedPacket>
    /// The most packets one receive can hold.
    public let capacity: Int
    /// How many packets the last receive delivered.
    public internal(set) var count: Int

    /// Allocates room for `capacity` packets.
    public init(capacity: Int) {
        precondition(capacity > 0, "ReceivedBatch capacity must be positive")
        self.capacity = capacity
        self.count = 0
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// The packet at `index`, `0..<count`.
    @inlinable
    public subscript(index: Int) -> ReceivedPacket {
        precondition(index >= 0 && index < count, "ReceivedBatch index out of range")
        return storage[index]
    }

    /// Whether the last receive delivered nothing (a timeout).
    @inlinable
    public var isEmpty: Bool { count == 0 }

    mutating func removeAll() { count = 0 }

    mutating func append(_ packet: ReceivedPacket) -> Bool {
        guard count < capacity else { return false }
        storage[count] = packet
        count += 1
        return true
    }
}
