import NetfilterQueue

/// What happens to a packet Tollgate cannot judge (malformed, or no policy loaded yet), and to traffic when no
/// worker is listening (the kernel rules' queue bypass).
public enum FailureMode: String, Sendable, Hashable {
    /// Accept: availability over enforcement. The default.
    case open
    /// Drop: enforcement over availability.
    case closed

    /// The one place a failure becomes a verdict.
    @inline(__always)
    func verdict() -> NetfilterQueue.Verdict {
        self == .open ? .accept : .drop
    }
}
