import Glibc

@testable import LinuxSupport

/// A plain-socket HTTP client for tests: connects over loopback, sends bytes, reads to end of stream.
struct RawHTTPClient {
    let descriptor: Int32

    init(connectingTo address: ListenAddress) throws {
        descriptor = try SystemCall.run("socket") {
            socket(address.socketFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let fd = descriptor
        do {
            _ = try SystemCall.run("connect(\(address))") { address.withSocketAddress { connect(fd, $0, $1) } }
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let fd = descriptor
        var sent = 0
        while sent < bytes.count {
            sent += try bytes.withUnsafeBytes { buffer in
                try SystemCall.run("send") { Glibc.send(fd, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    /// Reads until the server closes (or the 20 s receive timeout, which throws; long, for saturated machines).
    func receiveAll() throws -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let fd = descriptor
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                try SystemCall.run("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
            }
            if count == 0 { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// One request, one whole response.
    static func exchange(_ address: ListenAddress, _ request: String) throws -> String {
        let client = try RawHTTPClient(connectingTo: address)
        defer { client.close() }
        try client.send(request)
        return try client.receiveAll()
    }
}
