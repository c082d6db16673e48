internal import Glibc
import Synchronization

/// The state shared by an ``HTTPServer``'s accept thread and its connection threads.
///
/// Separate from `HTTPServer` so that the threads do not keep the server alive: dropping the
/// last reference to the server stops it.
final class ServerCore: Sendable {
    let listener: Int32
    let address: ListenAddress
    let configuration: HTTPServer.Configuration
    let handler: @Sendable (HTTPRequest) -> HTTPResponse

    private let stopping = Atomic<Bool>(false)
    private let listenerClosed = Atomic<Bool>(false)
    /// Descriptors being served. A connection thread removes its descriptor under this lock before
    /// closing it, so `stop()` never shuts down a descriptor number that has been reused.
    private let connections = Mutex<Set<Int32>>([])
    private let handled = Atomic<UInt64>(0)
    private let rejected = Atomic<UInt64>(0)
    private let overloaded = Atomic<UInt64>(0)
    private let ioErrors = Atomic<UInt64>(0)

    init(listener: Int32, address: ListenAddress, configuration: HTTPServer.Configuration,
         handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.listener = listener
        self.address = address
        self.configuration = configuration
        self.handler = handler
    }

    var counters: HTTPServer.Counters {
        HTTPServer.Counters(
            handled: handled.load(ordering: .relaxed), rejected: rejected.load(ordering: .relaxed),
            overloaded: overloaded.load(ordering: .relaxed), ioErrors: ioErrors.load(ordering: .relaxed))
    }

    var openConnectionCount: Int {
        connections.withLock { $0.count }
    }

    /// Marks the server as stopping; returns false if it already was.
    func beginStopping() -> Bool {
        !stopping.exchange(true, ordering: .acquiringAndReleasing)
    }

    func closeListener() {
        guard !listenerClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if (try? SystemCall.close(listener, what: "close(listener \(address))")) == nil {
            ioErrors.add(1, ordering: .relaxed)
        }
    }

    /// Accepts until ``beginStopping()`` and a shutdown of the listener.
    func acceptLoop() {
        while !stopping.load(ordering: .acquiring) {
            let accepted: Int32
            do throws(SystemError) {
                // accept4 is not imported into Swift; FD_CLOEXEC follows at once (the window matters
                // only if another thread forks and execs in between).
                accepted = try SystemCall.run("accept(\(address))") { accept(listener, nil, nil) }
            } catch {
                if stopping.load(ordering: .acquiring) { break }
                ioErrors.add(1, ordering: .relaxed)
                switch error.errno.rawValue {
                case ECONNABORTED, EPROTO, EPERM:
                    continue  // that one connection failed; keep going
                default:
                    // EMFILE/ENFILE/ENOBUFS/ENOMEM: back off rather than spin; the kernel keeps the backlog.
                    usleep(10_000)
                    continue
                }
            }
            if (try? SystemCall.run("fcntl(FD_CLOEXEC)", { fcntl(accepted, F_SETFD, FD_CLOEXEC) })) == nil {
                ioErrors.add(1, ordering: .relaxed)
            }
            admit(accepted)
        }
    }

    private func admit(_ descriptor: Int32) {
        let admitted = connections.withLock { open -> Bool in
            guard open.count < configuration.maxConnections else { return false }
            open.insert(descriptor)
            return true
        }
        guard admitted else {
            overloaded.add(1, ordering: .relaxed)
            // A short send timeout so that the accept thread never waits on a slow reader.
            do {
                try setTimeouts(descriptor, .milliseconds(50))
                try send(HTTPResponse.serviceUnavailable.serialized(includeBody: true), on: descriptor)
                lingeringClose(descriptor, for: .milliseconds(50))
            } catch {
                ioErrors.add(1, ordering: .relaxed)
            }
            finish(descriptor, registered: false)
            return
        }
        do {
            _ = try DedicatedThread(name: "tg-http-conn", detached: true) { [self] in
                serve(descriptor)
                finish(descriptor, registered: true)
            }
        } catch {
            ioErrors.add(1, ordering: .relaxed)
            finish(descriptor, registered: true)
        }
    }

    /// Unregisters (if registered) and closes a connection.
    private func finish(_ descriptor: Int32, registered: Bool) {
        if registered {
            connections.withLock { _ = $0.remove(descriptor) }
        }
        if (try? SystemCall.close(descriptor, what: "close(connection)")) == nil {
            ioErrors.add(1, ordering: .relaxed)
        }
    }

    /// Reads one request head, answers it, and half-closes the connection.
    private func serve(_ descriptor: Int32) {
        let response: HTTPResponse
        var isHead = false
        do {
            try setTimeouts(descriptor, configuration.readTimeout)
            switch try readHead(descriptor) {
            case .complete(let head):
                switch HTTPRequestParser.parse(head) {
                case .request(let request):
                    isHead = request.method == "HEAD"
                    response = handler(request)
                    handled.add(1, ordering: .relaxed)
                case .reject(let answer):
                    response = answer
                    rejected.add(1, ordering: .relaxed)
                }
            case .tooLarge:
                response = .headTooLarge
                rejected.add(1, ordering: .relaxed)
            case .timedOut:
                response = .requestTimeout
                rejected.add(1, ordering: .relaxed)
            case .closedEarly:
                return  // the client went away; nobody to answer
            }
            try send(response.serialized(includeBody: !isHead), on: descriptor)
            lingeringClose(descriptor, for: .milliseconds(200))
        } catch {
            ioErrors.add(1, ordering: .relaxed)
        }
    }

    private enum HeadRead {
        case complete([UInt8])
        case tooLarge
        case timedOut
        case closedEarly
    }

    /// Reads until the end of the head, the size limit, the deadline or end of stream.
    private func readHead(_ descriptor: Int32) throws(SystemError) -> HeadRead {
        let limit = max(configuration.maxRequestBytes, 16)
        let deadline = MonotonicClock.nanoseconds() &+ UInt64(clamping: nanoseconds(configuration.readTimeout))
        var buffer = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while true {
            let outcome = buffer.withUnsafeMutableBytes { bytes -> Result<Int, SystemError> in
                guard let base = bytes.baseAddress else { return .success(0) }
                do throws(SystemError) {
                    return .success(try SystemCall.run("recv(connection on \(address))") {
                        recv(descriptor, base + filled, bytes.count - filled, 0)
                    })
                } catch {
                    return .failure(error)
                }
            }
            let count: Int
            switch outcome {
            case .success(let received):
                count = received
            case .failure(let error) where error.errno == .wouldBlock:
                return .timedOut  // SO_RCVTIMEO expired
            case .failure(let error):
                throw error
            }
            if count == 0 {
                return .closedEarly
            }
            filled += count
            let end = buffer.withUnsafeBytes { HTTPRequestParser.endOfHead(in: UnsafeRawBufferPointer(rebasing: $0[0..<filled])) }
            if let end {
                return .complete(Array(buffer[0..<end]))
            }
            if filled >= limit {
                return .tooLarge
            }
            if MonotonicClock.nanoseconds() > deadline {
                return .timedOut  // a trickling client: the whole head must arrive within the timeout
            }
        }
    }

    /// Sends FIN, then reads and discards what the client still sends until it closes or `limit`
    /// passes. Closing with unread input makes the kernel send RST, which can destroy the
    /// answer before the client reads it (RFC 9112 §9.6 asks servers to close in stages).
    private func lingeringClose(_ descriptor: Int32, for limit: Duration) {
        _ = shutdown(descriptor, Int32(SHUT_WR))  // ENOTCONN if the client already left: nothing to do
        let deadline = MonotonicClock.nanoseconds() &+ UInt64(clamping: nanoseconds(limit))
        var timeout = timeval(tv_sec: 0, tv_usec: Int(nanoseconds(limit) / 1_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while MonotonicClock.nanoseconds() < deadline {
            let count = withUnsafeMutableBytes(of: &scratch) { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }  // end of stream, timeout or error: done either way
        }
    }

    /// Sends all of `bytes` on a connection.
    private func send(_ bytes: [UInt8], on descriptor: Int32) throws(SystemError) {
        try sendAll(bytes, on: descriptor, call: "send(connection on \(address))")
    }

    /// Shuts every open connection down (their blocked `recv`/`send` return) and waits for their
    /// threads to unregister, up to `timeout`.
    func shutDownConnectionsAndWait(timeout: Duration) {
        let deadline = MonotonicClock.nanoseconds() &+ UInt64(clamping: nanoseconds(timeout))
        while true {
            let remaining = connections.withLock { open -> Int in
                for descriptor in open {
                    _ = shutdown(descriptor, Int32(SHUT_RDWR))  // ENOTCONN for a finished peer is fine
                }
                return open.count
            }
            if remaining == 0 || MonotonicClock.nanoseconds() > deadline {
                return
            }
            usleep(2_000)  // stop() is rare: a short poll is simpler than a condition variable
        }
    }
}

/// A duration in nanoseconds, clamped at zero.
func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0 else { return 0 }
    return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ attoseconds / 1_000_000_000
}
