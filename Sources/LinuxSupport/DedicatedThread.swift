internal import Glibc
import Synchronization

/// A POSIX thread running one closure, outside the Swift concurrency pool, for blocking loops
/// (`accept`, `read` on inotify, `sigtimedwait`).
///
/// This file holds the `@convention(c)` trampoline and its `Unmanaged` context.
/// The corresponding C functions are `pthread_create` and `pthread_join`.
public final class DedicatedThread: Sendable {
    /// The thread, once created; `nil` after ``join()``.
    private let handle: Mutex<pthread_t?>
    /// Whether the thread is detached (then it cannot be joined).
    public let isDetached: Bool

    /// Starts a thread named `name` (truncated to 15 bytes, the kernel's limit) running `body`.
    ///
    /// - Parameter detached: Whether the thread releases its resources on its own when `body`
    ///   returns; a detached thread cannot be joined.
    /// - Throws: ``SystemError`` naming `pthread_create` and the thread name.
    public init(name: String, detached: Bool = false, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let context = Unmanaged.passRetained(ThreadContext(name: name, body: body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if detached {
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        }
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, dedicatedThreadEntry, context.toOpaque())
        guard result == 0 else {
            context.release()
            throw SystemError(call: "pthread_create(\(name))", errno: Errno(rawValue: result))
        }
        self.isDetached = detached
        self.handle = Mutex(detached ? nil : thread)
    }

    /// Waits for the thread to finish. Returns at once if it was already joined or is detached.
    ///
    /// Called on the thread itself (say, an owner's `deinit` run by its own handler), it detaches
    /// the thread instead of deadlocking; the thread then ends when its body returns.
    public func join() {
        guard let thread = handle.withLock({ current -> pthread_t? in
            defer { current = nil }
            return current
        }) else { return }
        if pthread_equal(thread, pthread_self()) != 0 {
            _ = pthread_detach(thread)
            return
        }
        // pthread_join only fails for a bad or already-joined handle, which the Mutex rules out.
        _ = pthread_join(thread, nil)
    }

    /// Gives the thread the real-time round-robin policy (`SCHED_RR`) at `priority` (1–99): it then runs as soon as
    /// it is woken, ahead of every normal thread. The kernel's real-time throttling (`sched_rt_runtime_us`) still
    /// keeps 5 % of each second for normal threads. The corresponding C function is `pthread_setschedparam`.
    ///
    /// - Throws: ``SystemError`` naming the call (`EPERM` without `CAP_SYS_NICE` or a real-time budget in the
    ///   cgroup); nothing changes then.
    public func setRealTimePriority(_ priority: Int32) throws(SystemError) {
        guard let thread = handle.withLock({ $0 }) else {
            throw SystemError(call: "pthread_setschedparam", errno: .invalidArgument)
        }
        var parameters = sched_param()
        parameters.sched_priority = priority
        let result = pthread_setschedparam(thread, SCHED_RR, &parameters)
        guard result == 0 else { throw SystemError(call: "pthread_setschedparam(SCHED_RR, \(priority))", errno: Errno(rawValue: result)) }
    }

    /// Whether the caller runs on this thread.
    public var isCurrent: Bool {
        guard let thread = handle.withLock({ $0 }) else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// The raw handle, for tests that direct a signal at this thread.
    var rawHandle: pthread_t? {
        handle.withLock { $0 }
    }
}

/// What the trampoline runs: the name to set and the closure.
private final class ThreadContext: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// The `@convention(c)` entry point: takes back the retained context, names the thread, runs the body.
private func dedicatedThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let raw else { return nil }
    let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
    nameCurrentThread(context.name)
    context.body()
    return nil
}

/// Names the calling thread (as `top -H` and `/proc` show it) by writing `/proc/thread-self/comm`,
/// since Glibc's `pthread_setname_np` is not imported into Swift. Cosmetic: failure is ignored.
private func nameCurrentThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    _ = close(descriptor)
}
