#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#endif

/// Runs external programs (`iptables-restore`, `nft`, `ip`, `socat`) with optional standard input, capturing
/// standard output, standard error and the exit status.
///
/// A runner may carry a command prefix that every command is run through, for example
/// `["ip", "netns", "exec", "tg-demo-42-0"]` so that the same code targets another network namespace.
/// Programs are started with `posix_spawnp(3)` (looked up in `PATH`), with the parent's environment, and with
/// standard input fed through a socket so that a child that exits early cannot raise `SIGPIPE` in this process.
public struct CommandRunner: Sendable {
    /// Arguments placed before every command (empty: run directly in the current namespace).
    public var prefix: [String]
    /// How long a command may run before it is killed with `SIGKILL`; nil waits for ever.
    public var timeout: Duration?

    /// Creates a runner that runs commands through `prefix`, killing any that runs longer than `timeout`.
    public init(prefix: [String] = [], timeout: Duration? = .seconds(60)) {
        self.prefix = prefix
        self.timeout = timeout
    }

    /// The outcome of a command that ran to completion (or was killed).
    public struct Result: Sendable, Equatable {
        /// The full argument vector that was run, prefix included.
        public var arguments: [String]
        /// The exit code, or 128 plus the signal number when a signal ended the program.
        public var exitStatus: Int32
        /// Everything the program wrote to standard output, decoded as UTF-8 (invalid bytes repaired).
        public var standardOutput: String
        /// Everything the program wrote to standard error, decoded as UTF-8 (invalid bytes repaired).
        public var standardError: String
        /// Whether the runner killed the program because it exceeded its timeout.
        public var timedOut: Bool

        /// Creates a result (the runner builds these; tests may build them to compare whole values).
        public init(arguments: [String], exitStatus: Int32, standardOutput: String, standardError: String, timedOut: Bool) {
            self.arguments = arguments
            self.exitStatus = exitStatus
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.timedOut = timedOut
        }

        /// Whether the program exited with status 0 within its timeout.
        public var succeeded: Bool { exitStatus == 0 && !timedOut }
    }

    /// A failure to start or supervise a program (not a non-zero exit, which is a `Result`).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The system call that failed (`posix_spawnp`, `socketpair`, `poll`, `waitpid`, ...).
        public var call: String
        /// The `errno` value the call reported.
        public var errno: Int32
        /// The argument vector being run.
        public var arguments: [String]

        /// Creates a failure record.
        public init(call: String, errno: Int32, arguments: [String]) {
            self.call = call
            self.errno = errno
            self.arguments = arguments
        }

        public var description: String {
            "\(call) failed for `\(arguments.joined(separator: " "))`: errno \(errno) (\(String(cString: strerror(errno))))"
        }
    }

    /// Runs `arguments` (through the prefix), feeding `input` on standard input, and waits for it to end.
    ///
    /// Throws only when the program cannot be started or supervised; a program that fails returns a `Result`
    /// whose `exitStatus` is non-zero.
    public func run(_ arguments: [String], input: String? = nil) throws(Failure) -> Result {
        let argv = prefix + arguments
        guard !argv.isEmpty else { throw Failure(call: "posix_spawnp", errno: EINVAL, arguments: argv) }
        var stdinPair: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        defer { for fd in stdinPair + stdoutPipe + stderrPipe where fd >= 0 { _ = close(fd) } }

        let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if socketpair(AF_UNIX, socketType, 0, &stdinPair) != 0 {
            throw Failure(call: "socketpair", errno: errno, arguments: argv)
        }
        // Socket pairs rather than pipes: SOCK_CLOEXEC sets close-on-exec atomically, so a program spawned at the
        // same moment by another thread never inherits our ends (which would delay end-of-file).
        if socketpair(AF_UNIX, socketType, 0, &stdoutPipe) != 0 {
            throw Failure(call: "socketpair", errno: errno, arguments: argv)
        }
        if socketpair(AF_UNIX, socketType, 0, &stderrPipe) != 0 {
            throw Failure(call: "socketpair", errno: errno, arguments: argv)
        }

        let pid = try Self.spawn(
            argv, stdin: stdinPair[1], stdout: stdoutPipe[1], stderr: stderrPipe[1], newProcessGroup: false)
        // The child holds its own copies; close ours so end-of-file arrives when the child exits.
        _ = close(stdinPair[1])
        stdinPair[1] = -1
        _ = close(stdoutPipe[1])
        stdoutPipe[1] = -1
        _ = close(stderrPipe[1])
        stderrPipe[1] = -1

        var pending = Array((input ?? "").utf8)
        var written = 0
        if pending.isEmpty {
            _ = shutdown(stdinPair[0], Int32(SHUT_WR))
        }
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var outputOpen = true
        var errorsOpen = true
        var timedOut = false
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var buffer = [UInt8](repeating: 0, count: 65536)

        while outputOpen || errorsOpen {
            var fds: [pollfd] = []
            if outputOpen { fds.append(pollfd(fd: stdoutPipe[0], events: Int16(POLLIN), revents: 0)) }
            if errorsOpen { fds.append(pollfd(fd: stderrPipe[0], events: Int16(POLLIN), revents: 0)) }
            let writing = written < pending.count
            if writing { fds.append(pollfd(fd: stdinPair[0], events: Int16(POLLOUT), revents: 0)) }

            var waitMilliseconds: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero {
                    _ = kill(pid, SIGKILL)
                    timedOut = true
                    break
                }
                let (seconds, attoseconds) = left.components
                waitMilliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMilliseconds) }
            if ready < 0 {
                if errno == EINTR { continue }
                let code = errno
                _ = kill(pid, SIGKILL)
                _ = Self.reap(pid)
                throw Failure(call: "poll", errno: code, arguments: argv)
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinPair[0] {
                    let count = pending.withUnsafeBytes { bytes -> Int in
                        guard let base = bytes.baseAddress else { return 0 }
                        return send(entry.fd, base + written, bytes.count - written, Int32(MSG_NOSIGNAL))
                    }
                    if count > 0 {
                        written += count
                    } else if count < 0 && errno != EINTR && errno != EAGAIN {
                        // The child closed its standard input (EPIPE): stop feeding it.
                        written = pending.count
                    }
                    if written >= pending.count {
                        pending = []
                        written = 0
                        _ = shutdown(entry.fd, Int32(SHUT_WR))
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == stdoutPipe[0] {
                        output.append(contentsOf: buffer[0..<count])
                    } else {
                        errors.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    if entry.fd == stdoutPipe[0] { outputOpen = false } else { errorsOpen = false }
                }
            }
        }
        let status = try Self.reap(pid, arguments: argv)
        return Result(
            arguments: argv,
            exitStatus: status,
            standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors, as: UTF8.self),
            timedOut: timedOut
        )
    }

    /// Starts `arguments` (through the prefix) in the background, in its own process group, with standard input
    /// from `/dev/null` and standard output and error appended to `logPath` (or discarded when nil).
    public func start(_ arguments: [String], logPath: String? = nil) throws(Failure) -> BackgroundProcess {
        let argv = prefix + arguments
        guard !argv.isEmpty else { throw Failure(call: "posix_spawnp", errno: EINVAL, arguments: argv) }
        let nullFD = open("/dev/null", O_RDWR | O_CLOEXEC)
        if nullFD < 0 { throw Failure(call: "open(/dev/null)", errno: errno, arguments: argv) }
        defer { _ = close(nullFD) }
        var logFD = nullFD
        if let logPath {
            logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if logFD < 0 { throw Failure(call: "open(\(logPath))", errno: errno, arguments: argv) }
        }
        defer { if logFD != nullFD { _ = close(logFD) } }
        let pid = try Self.spawn(argv, stdin: nullFD, stdout: logFD, stderr: logFD, newProcessGroup: true)
        return BackgroundProcess(pid: pid, arguments: argv)
    }

    /// A program started by `start(_:logPath:)`. Ending it is explicit (`terminate()`); `deinit` kills it as a
    /// backstop so that a failed test never leaves it running.
    public final class BackgroundProcess: @unchecked Sendable {
        /// The process id (also its process-group id).
        public let pid: Int32
        /// The argument vector that was started.
        public let arguments: [String]
        // Guarded by `lock`: the exit status once reaped.
        private var status: Int32?
        private let lock = Mutex()

        init(pid: Int32, arguments: [String]) {
            self.pid = pid
            self.arguments = arguments
        }

        /// Whether the process has not exited yet (reaps it if it has).
        public var isRunning: Bool {
            lock.withLock {
                if status != nil { return false }
                var raw: Int32 = 0
                let result = waitpid(pid, &raw, WNOHANG)
                if result == pid {
                    status = CommandRunner.decode(raw)
                    return false
                }
                return result == 0
            }
        }

        /// Sends `SIGTERM` to the process group, waits up to `grace` for it to exit, then sends `SIGKILL`.
        /// Returns the exit status (128 plus the signal number when a signal ended it). Safe to call twice.
        @discardableResult
        public func terminate(grace: Duration = .seconds(2)) -> Int32 {
            lock.withLock {
                if let status { return status }
                _ = kill(-pid, SIGTERM)
                _ = kill(pid, SIGTERM)
                let deadline = ContinuousClock.now + grace
                var raw: Int32 = 0
                while ContinuousClock.now < deadline {
                    let result = waitpid(pid, &raw, WNOHANG)
                    if result == pid {
                        let decoded = CommandRunner.decode(raw)
                        status = decoded
                        _ = kill(-pid, SIGKILL)  // stragglers in the group
                        return decoded
                    }
                    if result < 0 && errno != EINTR {
                        status = -1
                        return -1
                    }
                    _ = usleep(10_000)
                }
                _ = kill(-pid, SIGKILL)
                _ = kill(pid, SIGKILL)
                let decoded = CommandRunner.reap(pid)
                status = decoded
                return decoded
            }
        }

        deinit {
            terminate(grace: .milliseconds(200))
        }
    }

    // MARK: - Internals

    /// A tiny pthread mutex (no Foundation); used only off the hot path.
    final class Mutex: @unchecked Sendable {
        private var mutex = pthread_mutex_t()
        init() { pthread_mutex_init(&mutex, nil) }
        deinit { pthread_mutex_destroy(&mutex) }
        func withLock<T>(_ body: () -> T) -> T {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            return body()
        }
    }

    /// Spawns `argv` with the given descriptors as 0, 1 and 2. The corresponding C function is `posix_spawnp`.
    private static func spawn(
        _ argv: [String], stdin: Int32, stdout: Int32, stderr: Int32, newProcessGroup: Bool
    ) throws(Failure) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and an empty mask whatever this process has set.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = cArguments.withUnsafeBufferPointer { arguments -> Int32 in
            guard let base = arguments.baseAddress, let program = arguments[0] else { return EINVAL }
            return posix_spawnp(&pid, program, &actions, &attributes, base, environ)
        }
        if result != 0 { throw Failure(call: "posix_spawnp", errno: result, arguments: argv) }
        return pid
    }

    /// Waits for `pid`, retrying `EINTR`, and decodes its status.
    private static func reap(_ pid: Int32, arguments: [String]) throws(Failure) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR { throw Failure(call: "waitpid", errno: errno, arguments: arguments) }
        }
        return decode(raw)
    }

    /// Waits for `pid` without reporting failures (cleanup paths); returns -1 when it cannot be reaped.
    fileprivate static func reap(_ pid: Int32) -> Int32 {
        (try? reap(pid, arguments: [])) ?? -1
    }

    /// Turns a `waitpid` status into an exit code, or 128 plus the signal number.
    fileprivate static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        if signal == 0 { return (raw >> 8) & 0xff }
        return 128 + signal
    }
}
