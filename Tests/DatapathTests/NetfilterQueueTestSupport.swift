import Foundation
import Glibc

/// A throw-away network namespace for one NFQUEUE test, removed on deinit. Minimal on purpose: the fuller harness
/// lives in TollgateTestSupport.
final class QueueTestNamespace {
    let name: String

    /// Whether namespace tests can run here: root, and `ip` and `iptables` on the PATH.
    static var isSupported: Bool {
        getuid() == 0 && commandExists("ip") && commandExists("iptables")
    }

    init(tag: String) throws {
        name = "tg-nfq-\(tag)-\(getpid())"
        _ = try? Self.run(["ip", "netns", "del", name])
        try Self.run(["ip", "netns", "add", name])
        do {
            try Self.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
        } catch {
            _ = try? Self.run(["ip", "netns", "del", name])
            throw error
        }
    }

    deinit {
        do { try Self.run(["ip", "netns", "del", name]) } catch { print("warning: cannot remove namespace \(name): \(error)") }
    }

    /// Runs `arguments` inside the namespace.
    func exec(_ arguments: [String]) throws {
        try Self.run(["ip", "netns", "exec", name] + arguments)
    }

    /// Runs `body` on a fresh thread that has joined the namespace (setns affects only the calling thread).
    func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let path = "/run/netns/\(name)"
        let thread = Thread {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                box.set(.failure(NamespaceError(message: "open \(path): errno \(errno)")))
                return
            }
            defer { close(descriptor) }
            guard linuxSetns(descriptor, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
                box.set(.failure(NamespaceError(message: "setns \(path): errno \(errno)")))
                return
            }
            box.set(Result { try body() })
        }
        thread.start()
        return try box.wait().get()
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NamespaceError(message: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return text
    }

    static func commandExists(_ name: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(name)"])) != nil
    }
}

/// setns(2): Swift's Glibc module does not export it (it needs _GNU_SOURCE).
@_silgen_name("setns")
func linuxSetns(_ descriptor: Int32, _ type: Int32) -> Int32

struct NamespaceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Hands a result from a namespace thread back to the test.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, Error>?

    func set(_ value: Result<T, Error>) {
        condition.lock()
        result = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Result<T, Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// A UDP socket on 127.0.0.1 in the calling thread's namespace, for sending and receiving test datagrams.
struct LoopbackUDP {
    let descriptor: Int32

    init(bindPort: UInt16? = nil, timeoutMilliseconds: Int = 300) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw NamespaceError(message: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: timeoutMilliseconds * 1000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let port = bindPort {
            var address = Self.address(port)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else { throw NamespaceError(message: "bind port \(port): errno \(errno)") }
        }
    }

    static func address(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    func send(_ bytes: [UInt8], to port: UInt16) throws {
        var address = Self.address(port)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw NamespaceError(message: "sendto port \(port): errno \(errno)") }
    }

    /// Receives datagrams until the timeout passes with nothing new.
    func receiveAll() -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 { break }
            datagrams.append(Array(buffer[0..<count]))
        }
        return datagrams
    }

    func close() { _ = Glibc.close(descriptor) }
}
