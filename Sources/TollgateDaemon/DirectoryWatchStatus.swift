/// How the policy directory is being watched, for `/status` (``StatusReport/directoryWatch``) and the metrics.
/// Guarded by a mutex in `Daemon`. A field added later must be optional, so that `tollgate status` still decodes
/// older daemons' documents.
public struct DirectoryWatchStatus: Sendable, Hashable, Codable {
    /// `inotify`, or `inotify+poll` when the safety-net poll (`--poll-interval-ms`) also runs.
    public var mode = "inotify"
    /// Whether inotify watches the directory now (false while it is missing: checked every 500 ms).
    public var watching = false
    /// Reloads triggered by inotify events (not SIGHUP, not the poll).
    public var eventReloads: UInt64 = 0
    /// Reloads triggered by the safety-net poll noticing a change that inotify did not report.
    public var pollReloads: UInt64 = 0
    /// Times the directory was lost (deleted or moved away) while watched.
    public var directoryLosses: UInt64 = 0
    /// What the last event-triggered reload was about.
    public var lastChange: String? = nil
    /// The last watch failure (such as the inotify watch limit), if any.
    public var lastError: String? = nil
}
