internal import Glibc
import Synchronization

/// A small HTTP/1.1 server (RFC 9112) for the metrics and status endpoint, on dedicated threads.
///
/// One accept thread; each accepted connection is served on its own short-lived thread, up to
/// ``Configuration/maxConnections`` at once (beyond that the server answers 503 at once). Each
/// connection carries one request: the head must arrive within ``Configuration/readTimeout``
/// and fit in ``Configuration/maxRequestBytes``; the answer carries `Connection: close`.
/// GET and HEAD go to the handler; other methods get 405, malformed heads 400.
///
/// ``stop()`` shuts the listening socket down (which wakes the blocked `accept`), joins the accept
/// thread, shuts open connections down and waits for their threads.
public final class HTTPServer: Sendable {
    /// Limits for one server.
    public struct Configuration: Hashable, Sendable {
        /// The largest request head accepted, in bytes; larger heads get 431.
        public var maxRequestBytes: Int
        /// How long a client may take to send its whole request head (also the send timeout).
        public var readTimeout: Duration
        /// How many connections may be served at once.
        public var maxConnections: Int
        /// The `listen` backlog.
        public var backlog: Int32

        /// Creates limits; the defaults suit a Prometheus scrape endpoint.
        public init(maxRequestBytes: Int = 8192, readTimeout: Duration = .seconds(2), maxConnections: Int = 16, backlog: Int32 = 64) {
            self.maxRequestBytes = maxRequestBytes
            self.readTimeout = readTimeout
            self.maxConnections = maxConnections
            self.backlog = backlog
        }
    }

    /// Running totals, for the daemon's own metrics.
    public struct Counters: Hashable, Sendable {
        /// Requests answered by the handler.
        public var handled: UInt64
        /// Requests answered with an error status by the server itself (400, 405, 408, 431, 505).
        public var rejected: UInt64
        /// Connections turned away with 503 because ``Configuration/maxConnections`` were busy.
        public var overloaded: UInt64
        /// Failed system calls on the accept loop or on connections (send, recv, accept).
        public var ioErrors: UInt64
    }

    /// The address the server listens on, with the port the kernel chose when asked for port 0.
    public let address: ListenAddress
    private let core: ServerCore
    private let acceptThread: DedicatedThread

    /// Binds `address` (with `SO_REUSEADDR`; for IPv6, `IPV6_V6ONLY`), listens and starts the accept thread.
    ///
    /// - Throws: ``SystemError``; binding an address in use fails with `bind(ADDRESS)` and `EADDRINUSE`.
    public init(
        address: ListenAddress, configuration: Configuration = Configuration(),
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws(SystemError) {
        let descriptor = try SystemCall.run("socket(\(address))") {
            socket(address.socketFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(SystemError) {
            try setOption(descriptor, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
            if address.family == .ipv6 {
                try setOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)")
            }
            _ = try SystemCall.run("bind(\(address))") {
                address.withSocketAddress { bind(descriptor, $0, $1) }
            }
            _ = try SystemCall.run("listen(\(address))") { listen(descriptor, configuration.backlog) }
            let boundPort = try Self.localPort(of: descriptor, address: address)
            let bound = address.withPort(boundPort)
            let core = ServerCore(listener: descriptor, address: bound, configuration: configuration, handler: handler)
            self.acceptThread = try DedicatedThread(name: "tg-http-accept") { core.acceptLoop() }
            self.core = core
            self.address = bound
        } catch {
            _ = Glibc.close(descriptor)  // already failing with the more useful error
            throw error
        }
    }

    deinit {
        stop()
    }

    /// Stops accepting, closes open connections and waits for every server thread (normally well
    /// within a second). Safe to call more than once.
    public func stop() {
        guard core.beginStopping() else { return }
        // Wakes the blocked accept (it returns EINVAL); the descriptor stays valid until the join.
        _ = shutdown(core.listener, Int32(SHUT_RDWR))
        acceptThread.join()
        core.closeListener()
        core.shutDownConnectionsAndWait(timeout: .seconds(1))
    }

    /// Running totals since the server started.
    public var counters: Counters {
        core.counters
    }

    /// The number of connections being served now.
    public var openConnections: Int {
        core.openConnectionCount
    }

    private static func localPort(of descriptor: Int32, address: ListenAddress) throws(SystemError) -> UInt16 {
        var storage = sockaddr_in6()  // large enough for both families; sin_port and sin6_port share an offset
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = try SystemCall.run("getsockname(\(address))") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
        }
        return UInt16(bigEndian: storage.sin6_port)
    }
}

/// Sets an integer socket option (the corresponding C function is `setsockopt`).
func setOption(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ call: String) throws(SystemError) {
    var value = value
    _ = try SystemCall.run(call) { setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
}

/// Sets `SO_RCVTIMEO` and `SO_SNDTIMEO` (see socket(7)).
func setTimeouts(_ descriptor: Int32, _ timeout: Duration) throws(SystemError) {
    let (seconds, attoseconds) = timeout.components
    var value = timeval(tv_sec: Int(max(seconds, 0)), tv_usec: Int(max(attoseconds, 0) / 1_000_000_000_000))
    if value.tv_sec == 0 && value.tv_usec == 0 {
        value.tv_usec = 1_000  // zero would mean "no timeout"
    }
    for (option, name) in [(SO_RCVTIMEO, "setsockopt(SO_RCVTIMEO)"), (SO_SNDTIMEO, "setsockopt(SO_SNDTIMEO)")] {
        _ = try SystemCall.run(name) { setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size)) }
    }
}

/// Sends all of `bytes`, retrying short sends and `EINTR` (`MSG_NOSIGNAL`: a vanished peer must not raise SIGPIPE).
/// The corresponding C function is `send`; `call` names it in errors.
func sendAll(_ bytes: [UInt8], on descriptor: Int32, call: @autoclosure () -> String) throws(SystemError) {
    try bytes.withUnsafeBytes { buffer -> Result<Void, SystemError> in
        guard let base = buffer.baseAddress else { return .success(()) }
        var sent = 0
        while sent < buffer.count {
            do throws(SystemError) {
                sent += try SystemCall.run(call()) {
                    Glibc.send(descriptor, base + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
                }
            } catch {
                return .failure(error)
            }
        }
        return .success(())
    }.get()
}
