/// When a burst of directory events is applied: once `quiet` passes with no new event, but no later than
/// `limit` after the burst's first event, so a steady stream of writes still reloads regularly.
///
/// The watcher sees a file only when it is closed after writing or renamed into place (never `IN_MODIFY`), so one
/// event usually means one complete file, and a short quiet window costs little: 5 ms gathers the events of one
/// tool's run (a `cp -r`, a ConfigMap's symlink swap) into one snapshot without delaying a single change. A file
/// closed half-written still only keeps its last good objects until the next write.
struct DirectoryWatchDebounce: Hashable, Sendable {
    /// The silence that ends a burst.
    var quiet: Duration = .milliseconds(5)
    /// The longest a burst is held back.
    var limit: Duration = .milliseconds(100)

    /// The instant a burst that began at `first` and last saw an event at `last` is applied.
    func deadline(first: ContinuousClock.Instant, last: ContinuousClock.Instant) -> ContinuousClock.Instant {
        min(last + quiet, first + limit)
    }
}
