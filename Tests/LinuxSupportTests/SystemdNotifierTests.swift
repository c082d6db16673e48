import Glibc
import Testing

@testable import LinuxSupport

/// A datagram socket the test binds itself, standing in for systemd's notify socket.
final class FakeNotifySocket {
    let descriptor: Int32
    let name: String
    private let path: String?

    /// Binds `@name` (abstract) or a path under /tmp.
    init(abstract: Bool) throws {
        let unique = "tg-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        name = abstract ? "@" + unique : "/tmp/" + unique + ".sock"
        path = abstract ? nil : name
        descriptor = try SystemCall.run("socket") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let address = try SystemdNotifier.encodeAddress(name)
        let fd = descriptor
        _ = try SystemCall.run("bind(\(name))") {
            address.withUnsafeBytes { bind(fd, $0.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        _ = close(descriptor)
        if let path { _ = unlink(path) }
    }

    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let fd = descriptor
        let count = try buffer.withUnsafeMutableBytes { bytes in
            try SystemCall.run("recv") { recv(fd, bytes.baseAddress, bytes.count, 0) }
        }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsEachMessageAsOneDatagram(abstract: Bool) throws {
        let fake = try FakeNotifySocket(abstract: abstract)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": fake.name])
        #expect(notifier.isEnabled)
        #expect(try notifier.ready())
        #expect(try fake.receive() == "READY=1")
        #expect(try notifier.reloading(monotonicMicroseconds: 123_456))
        #expect(try fake.receive() == "RELOADING=1\nMONOTONIC_USEC=123456")
        #expect(try notifier.status("loaded 3 policies\nall good"))
        #expect(try fake.receive() == "STATUS=loaded 3 policies all good")
        #expect(try notifier.watchdog())
        #expect(try fake.receive() == "WATCHDOG=1")
        #expect(try notifier.stopping())
        #expect(try fake.receive() == "STOPPING=1")
        #expect(notifier.sendFailures == 0)
    }

    @Test func reloadingCarriesTheCurrentMonotonicTime() throws {
        let fake = try FakeNotifySocket(abstract: true)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": fake.name])
        let before = MonotonicClock.microseconds()
        try notifier.reloading()
        let after = MonotonicClock.microseconds()
        let message = try fake.receive()
        let prefix = "RELOADING=1\nMONOTONIC_USEC="
        #expect(message.hasPrefix(prefix))
        let stamp = UInt64(message.dropFirst(prefix.count))
        #expect(stamp.map { $0 >= before && $0 <= after } == true)
    }

    @Test func doesNothingWithoutNotifySocket() throws {
        let notifier = try SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(try notifier.ready() == false)
        #expect(notifier.sendFailures == 0)
    }

    @Test func sendFailureIsThrownAndCounted() throws {
        let name = "/tmp/tg-notify-missing-\(getpid()).sock"
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(throws: SystemError(call: "sendto(NOTIFY_SOCKET=\(name))", errno: .noSuchFileOrDirectory)) {
            try notifier.ready()
        }
        #expect(notifier.sendFailures == 1)
    }

    @Test(arguments: [
        ("relative/path", "must be an absolute path or start with @ (abstract socket)"),
        ("vsock:2:1234", "must be an absolute path or start with @ (abstract socket)"),
        ("/" + String(repeating: "a", count: 200), "longer than the 107 bytes a socket path may have"),
    ])
    func rejectsUnusableSocketNames(name: String, reason: String) {
        #expect(throws: InvalidValueError(what: "NOTIFY_SOCKET", value: name, reason: reason)) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        }
    }

    @Test(arguments: [
        (["WATCHDOG_USEC": "30000000"], Duration.seconds(30) as Duration?),
        (["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "42"], .milliseconds(500)),
        (["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "43"], nil),
        (["WATCHDOG_USEC": "0"], nil),
        (["WATCHDOG_USEC": "-5"], nil),
        (["WATCHDOG_USEC": "soon"], nil),
        ([:], nil),
    ])
    func parsesWatchdogInterval(environment: [String: String], interval: Duration?) throws {
        #expect(SystemdNotifier.watchdogInterval(environment: environment, processID: 42) == interval)
        #expect(try SystemdNotifier(environment: environment, processID: 42).watchdogInterval == interval)
    }
}
