import NetworkTypes
import VerdictEngine

/// A per-worker, direct-mapped cache of recent verdicts, keyed by source, destination, protocol and destination
/// port (not the source port: a client's next connection to the same service hits), tagged with the snapshot
/// generation so that a new snapshot invalidates every entry at once.
///
/// Only first packets of new connections reach the workers (conntrack keeps established ones in the kernel), so
/// the cache pays off for clients that open many connections to the same service — health checks, HTTP/1.0,
/// DNS over UDP from fresh ports. Memory is allocated once; lookups and inserts allocate nothing.
struct FlowCache: ~Copyable {
    struct Entry {
        var source: UInt128
        var destination: UInt128
        /// family(8) | protocol(8) | destination port(16); zero marks an empty entry.
        var shape: UInt32
        var generation: UInt32
        var verdict: Verdict
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int
    private(set) var hits: UInt64 = 0
    private(set) var misses: UInt64 = 0

    /// A cache of `capacity` entries (rounded up to a power of two, at least 2).
    init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        entries = .allocate(capacity: size)
        entries.initialize(
            repeating: Entry(source: 0, destination: 0, shape: 0, generation: 0, verdict: Verdict(reason: .notIsolated)),
            count: size)
        mask = size - 1
    }

    deinit { entries.deallocate() }

    @inline(__always)
    private static func shape(_ flow: FlowKey) -> UInt32 {
        UInt32(flow.source.family.rawValue) << 24 | UInt32(flow.transport.rawValue) << 16 | UInt32(flow.destinationPort)
    }

    @inline(__always)
    private func index(_ source: UInt128, _ destination: UInt128, _ shape: UInt32) -> Int {
        var h = UInt64(truncatingIfNeeded: source) &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(truncatingIfNeeded: source >> 64) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(truncatingIfNeeded: destination) &* 0x1656_67B1_9E37_79F9
        h ^= UInt64(truncatingIfNeeded: destination >> 64) &* 0x85EB_CA77_C2B2_AE63
        h ^= UInt64(shape) &* 0x27D4_EB2F_1656_67C5
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The cached verdict for `flow` under `generation`, or nil.
    @inline(__always)
    mutating func lookup(_ flow: FlowKey, generation: UInt64) -> Verdict? {
        let source = flow.source.bits
        let destination = flow.destination.bits
        let shape = Self.shape(flow)
        let entry = entries[index(source, destination, shape)]
        if entry.shape == shape && entry.generation == UInt32(truncatingIfNeeded: generation)
            && entry.source == source && entry.destination == destination
        {
            hits &+= 1
            return entry.verdict
        }
        misses &+= 1
        return nil
    }

    @inline(__always)
    mutating func insert(_ flow: FlowKey, generation: UInt64, verdict: Verdict) {
        let source = flow.source.bits
        let destination = flow.destination.bits
        let shape = Self.shape(flow)
        entries[index(source, destination, shape)] = Entry(
            source: source, destination: destination, shape: shape,
            generation: UInt32(truncatingIfNeeded: generation), verdict: verdict)
    }
}
