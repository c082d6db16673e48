/// Measures elapsed time on ``MonotonicClock``. A plain value: copy it, store it, no allocation.
public struct Stopwatch: Sendable, Hashable {
    /// The ``MonotonicClock/nanoseconds()`` reading when the stopwatch started.
    public private(set) var startNanoseconds: UInt64

    /// Starts a stopwatch now.
    public init() {
        startNanoseconds = MonotonicClock.nanoseconds()
    }

    /// Starts a stopwatch at a given clock reading (for tests and for timestamps taken earlier).
    public init(startNanoseconds: UInt64) {
        self.startNanoseconds = startNanoseconds
    }

    /// Nanoseconds since the start (zero if the start lies in the future).
    public var elapsedNanoseconds: UInt64 {
        let now = MonotonicClock.nanoseconds()
        return now >= startNanoseconds ? now - startNanoseconds : 0
    }

    /// Time since the start.
    public var elapsed: Duration {
        .nanoseconds(Int64(clamping: elapsedNanoseconds))
    }

    /// Returns the nanoseconds since the start and restarts the stopwatch from now.
    public mutating func lap() -> UInt64 {
        let now = MonotonicClock.nanoseconds()
        let lapped = now >= startNanoseconds ? now - startNanoseconds : 0
        startNanoseconds = now
        return lapped
    }
}
