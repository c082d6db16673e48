internal import Glibc

/// A signal the daemon handles on its own thread rather than with the default action.
public enum WatchedSignal: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `SIGHUP`: reload configuration.
    case hangup
    /// `SIGTERM`: shut down gracefully.
    case terminate
    /// `SIGINT`: shut down gracefully (Ctrl-C).
    case interrupt

    /// The C signal number.
    public var number: Int32 {
        switch self {
        case .hangup: return SIGHUP
        case .terminate: return SIGTERM
        case .interrupt: return SIGINT
        }
    }

    /// The signal with C number `number`, if it is one of these.
    public init?(number: Int32) {
        guard let match = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = match
    }

    /// `"SIGHUP"`, `"SIGTERM"` or `"SIGINT"`.
    public var description: String {
        switch self {
        case .hangup: return "SIGHUP"
        case .terminate: return "SIGTERM"
        case .interrupt: return "SIGINT"
        }
    }
}
