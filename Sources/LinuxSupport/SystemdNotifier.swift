internal import Glibc
import Foundation
import Synchronization

/// Tells systemd about the service's state with the `sd_notify` datagram protocol
/// (sd_notify(3)): one `AF_UNIX` datagram of newline-separated `KEY=VALUE` lines sent to the
/// socket named by `$NOTIFY_SOCKET` — a path, or an abstract socket when it starts with `@`.
///
/// When `NOTIFY_SOCKET` is unset, every call does nothing and returns `false`. Send failures
/// are thrown and also counted in ``sendFailures``, never swallowed.
public final class SystemdNotifier: Sendable {
    /// The `NOTIFY_SOCKET` value in use, or `nil` when not running under systemd's notify protocol.
    public let socketName: String?
    /// The watchdog interval systemd asked for (see ``watchdogInterval(environment:processID:)``).
    public let watchdogInterval: Duration?
    /// The encoded `sockaddr_un` bytes, and their length for `sendto`.
    private let address: [UInt8]
    private let failures = Atomic<UInt64>(0)

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    ///
    /// - Throws: ``InvalidValueError`` if `NOTIFY_SOCKET` is neither an absolute path nor an
    ///   `@`-prefixed abstract name, or is too long for `sockaddr_un`.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid()
    ) throws(InvalidValueError) {
        self.watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else {
            self.socketName = nil
            self.address = []
            return
        }
        self.socketName = name
        self.address = try Self.encodeAddress(name)
    }

    /// Whether notifications go anywhere.
    public var isEnabled: Bool {
        socketName != nil
    }

    /// How many notifications failed to send.
    public var sendFailures: UInt64 {
        failures.load(ordering: .relaxed)
    }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments) as one datagram.
    ///
    /// - Returns: `true` if sent, `false` if `NOTIFY_SOCKET` is unset.
    /// - Throws: ``SystemError`` naming `socket` or `sendto(NOTIFY_SOCKET)` and the errno.
    @discardableResult
    public func notify(_ state: String) throws(SystemError) -> Bool {
        guard let socketName else { return false }
        do throws(SystemError) {
            let descriptor = try SystemCall.run("socket(AF_UNIX, SOCK_DGRAM)") {
                socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            }
            defer { _ = close(descriptor) }  // a datagram socket that was only sent on: nothing to lose
            let payload = Array(state.utf8)
            let sent = try address.withUnsafeBytes { addressBytes -> Result<Int, SystemError> in
                payload.withUnsafeBytes { payloadBytes -> Result<Int, SystemError> in
                    do throws(SystemError) {
                        return .success(try SystemCall.run("sendto(NOTIFY_SOCKET=\(socketName))") {
                            sendto(
                                descriptor, payloadBytes.baseAddress, payloadBytes.count, Int32(MSG_NOSIGNAL),
                                addressBytes.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(addressBytes.count))
                        })
                    } catch {
                        return .failure(error)
                    }
                }
            }.get()
            guard sent == payload.count else {
                throw SystemError(call: "sendto(NOTIFY_SOCKET=\(socketName)) sent \(sent) of \(payload.count) bytes", errno: Errno(rawValue: EMSGSIZE))
            }
            return true
        } catch {
            failures.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// `READY=1`: start-up finished.
    @discardableResult
    public func ready() throws(SystemError) -> Bool {
        try notify("READY=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=`, as `Type=notify-reload` requires; send ``ready()`` when done.
    @discardableResult
    public func reloading(monotonicMicroseconds: UInt64 = MonotonicClock.microseconds()) throws(SystemError) -> Bool {
        try notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds)")
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping() throws(SystemError) -> Bool {
        try notify("STOPPING=1")
    }

    /// `WATCHDOG=1`: the keep-alive ping; send it at about half of ``watchdogInterval``.
    @discardableResult
    public func watchdog() throws(SystemError) -> Bool {
        try notify("WATCHDOG=1")
    }

    /// `STATUS=...`: a one-line status shown by `systemctl status` (newlines become spaces).
    @discardableResult
    public func status(_ text: String) throws(SystemError) -> Bool {
        let line = String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        return try notify("STATUS=\(line)")
    }

    /// The watchdog interval from `WATCHDOG_USEC` (positive decimal microseconds), or `nil` when
    /// it is unset or invalid, or when `WATCHDOG_PID` is set and names another process (the
    /// variables were then meant for a parent, see sd_watchdog_enabled(3)).
    public static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0,
            microseconds <= UInt64(Int64.max)
        else { return nil }
        if let pidText = environment["WATCHDOG_PID"] {
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(Int64(microseconds))
    }

    /// Encodes `NOTIFY_SOCKET` as `sockaddr_un` bytes, trimmed to the length `sendto` needs.
    static func encodeAddress(_ name: String) throws(InvalidValueError) -> [UInt8] {
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        let capacity = MemoryLayout<sockaddr_un>.size - pathOffset
        var nameBytes: [UInt8]
        if name.hasPrefix("@") {
            // Abstract namespace (unix(7)): a leading NUL, then the name, length without a terminator.
            nameBytes = [0] + Array(name.utf8.dropFirst())
            guard nameBytes.count <= capacity else {
                throw InvalidValueError(what: "NOTIFY_SOCKET", value: name, reason: "longer than the \(capacity - 1) bytes an abstract socket name may have")
            }
        } else if name.hasPrefix("/") {
            nameBytes = Array(name.utf8) + [0]
            guard nameBytes.count <= capacity, !name.utf8.contains(0) else {
                throw InvalidValueError(what: "NOTIFY_SOCKET", value: name, reason: "longer than the \(capacity - 1) bytes a socket path may have")
            }
        } else {
            throw InvalidValueError(what: "NOTIFY_SOCKET", value: name, reason: "must be an absolute path or start with @ (abstract socket)")
        }
        var bytes = [UInt8](repeating: 0, count: pathOffset)
        withUnsafeBytes(of: sa_family_t(AF_UNIX)) { family in
            for (index, byte) in family.enumerated() where index < bytes.count {
                bytes[index] = byte
            }
        }
        nameBytes.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }
}
