internal import Glibc
import Synchronization

/// Delivers `SIGHUP`, `SIGTERM` and `SIGINT` to a handler on a dedicated thread, instead of
/// running code in an asynchronous signal handler.
///
/// Call ``blockInProcess(_:)`` first thing in `main`, before any thread starts: threads inherit
/// the signal mask, so the signals then stay pending until the watcher thread takes them with
/// `sigtimedwait` (see signal(7), "Synchronously accepting a signal"). `signalfd` is not
/// imported into Swift, so the thread waits in slices of ``pollInterval`` to notice ``stop()``.
public final class SignalWatcher: Sendable {
    /// How long one wait lasts before the thread checks whether it should stop.
    public let pollInterval: Duration
    /// The signals this watcher takes.
    public let signals: Set<WatchedSignal>
    private let thread: DedicatedThread

    /// Blocks `signals` in the calling thread, and so in every thread it starts afterwards.
    ///
    /// The corresponding C function is `pthread_sigmask(SIG_BLOCK, ...)`.
    /// - Throws: ``SystemError`` naming `pthread_sigmask`.
    public static func blockInProcess(_ signals: Set<WatchedSignal> = Set(WatchedSignal.allCases)) throws(SystemError) {
        var set = signalSet(signals)
        let result = pthread_sigmask(SIG_BLOCK, &set, nil)
        guard result == 0 else {
            throw SystemError(call: "pthread_sigmask(SIG_BLOCK)", errno: Errno(rawValue: result))
        }
    }

    /// Starts the watcher thread, which blocks `signals` for itself too and calls `handler` with
    /// each one it takes, in order, on that thread.
    ///
    /// - Throws: ``SystemError`` if the thread cannot be started.
    public init(
        signals: Set<WatchedSignal> = Set(WatchedSignal.allCases), pollInterval: Duration = .milliseconds(100),
        handler: @escaping @Sendable (WatchedSignal) -> Void
    ) throws(SystemError) {
        self.pollInterval = pollInterval
        self.signals = signals
        let timeout = max(nanoseconds(pollInterval), 1_000_000)
        // The thread captures the flag, not `self`, which is not initialised yet.
        let flag = StopFlag()
        self.thread = try DedicatedThread(name: "tg-signals") {
            var set = Self.signalSet(signals)
            // Belt and braces: even if the caller forgot blockInProcess, this thread never runs a
            // default action for these signals (thread-directed ones are then caught here).
            _ = pthread_sigmask(SIG_BLOCK, &set, nil)
            var wait = timespec(tv_sec: Int(timeout / 1_000_000_000), tv_nsec: Int(timeout % 1_000_000_000))
            while !flag.isSet {
                let number = sigtimedwait(&set, nil, &wait)
                if number > 0, let signal = WatchedSignal(number: number) {
                    handler(signal)
                }
                // -1 with EAGAIN (timeout) or EINTR: loop and look at the flag again.
            }
        }
        self.stopFlag = flag
    }

    private let stopFlag: StopFlag

    /// Stops the thread and waits for it (at most about one ``pollInterval``). Signals that
    /// arrive afterwards stay pending while they are blocked.
    public func stop() {
        stopFlag.set()
        thread.join()
    }

    deinit {
        stop()
    }

    /// The thread's handle, for tests that direct a signal at it with `pthread_kill`.
    var threadHandle: pthread_t? {
        thread.rawHandle
    }

    private static func signalSet(_ signals: Set<WatchedSignal>) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals {
            sigaddset(&set, signal.number)
        }
        return set
    }
}

/// A one-way flag shared between a thread and whoever stops it.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether ``set()`` has been called.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Raises the flag.
    func set() { value.store(true, ordering: .releasing) }
}
