/// When a burst of directory events is applied: once `quiet` passes with no new event, but no later than
/// `limit` after the burst's first event, so a steady stream of writes still reloads regularly.
struct DirectoryWatchDebounce: Hashable, Sendable {
    /// The silence that ends a burst.
    var quiet: Duration = .milliseconds(20)
    /// The longest a burst is held back.
    var limit: Duration = .milliseconds(100)

    /// The instant a burst that began at `first` and last saw an event at `last` is applied.
    func deadline(first: ContinuousClock.Instant, last: ContinuousClock.Instant) -> ContinuousClock.Instant {
        min(last + quiet, first + limit)
    }
}
