/// Capped exponential backoff with jitter: each failure doubles the delay up to ``maximum``; the delay actually
/// waited is drawn between half and all of it, so many nodes that lost the API server together do not return in
/// step. A success resets it.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public var initial: Duration
    /// The longest delay.
    public var maximum: Duration
    private var current: Duration

    /// A backoff from `initial` up to `maximum`.
    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// The delay to wait now; the next one is longer.
    public mutating func next() -> Duration {
        let ceiling = current
        current = min(current * 2, maximum)
        let nanoseconds = Double(ceiling.components.seconds) * 1e9 + Double(ceiling.components.attoseconds) / 1e9
        return .nanoseconds(Int64(nanoseconds * Double.random(in: 0.5...1.0)))
    }

    /// After a success: start again from ``initial``.
    public mutating func reset() { current = initial }
}
