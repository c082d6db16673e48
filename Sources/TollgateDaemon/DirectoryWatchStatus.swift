/// How the policy directory is being watched, for `/status` and the metrics. Guarded by a mutex in `Daemon`.
struct DirectoryWatchStatus: Sendable, Hashable, Codable {
    /// `inotify`, or `inotify+poll` when the safety-net poll (`--poll-interval-ms`) also runs.
    var mode = "inotify"
    /// Whether inotify watches the directory now (false while it is missing: checked every 500 ms).
    var watching = false
    /// Reloads triggered by inotify events (not SIGHUP, not the poll).
    var eventReloads: UInt64 = 0
    /// Reloads triggered by the safety-net poll noticing a change that inotify did not report.
    var pollReloads: UInt64 = 0
    /// Times the directory was lost (deleted or moved away) while watched.
    var directoryLosses: UInt64 = 0
    /// What the last event-triggered reload was about.
    var lastChange: String? = nil
    /// The last watch failure (such as the inotify watch limit), if any.
    var lastError: String? = nil
}
