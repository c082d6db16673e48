public import LinuxSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The transport a connectivity probe uses.
public enum ProbeTransport: String, Sendable, CaseIterable {
    /// A TCP connection (RFC 9293); success means the handshake completed and the server's greeting arrived.
    case tcp
    /// A UDP datagram (RFC 768); success means the server's reply arrived.
    case udp
}

extension NetworkNamespace {
    /// The line every probe server sends; a client that reads it knows the exchange went both ways.
    public static let probeGreeting = "tollgate-ok"

    /// Starts a dual-stack probe server (`socat`) on `port` inside this namespace that answers every TCP
    /// connection or UDP datagram with `probeGreeting`, and waits until it listens. Terminate it when done
    /// (removing the namespace also kills it).
    public func startProbeServer(port: UInt16, transport: ProbeTransport) throws(NetworkNamespaceError)
        -> CommandRunner.BackgroundProcess
    {
        let server: CommandRunner.BackgroundProcess
        switch transport {
        case .tcp:
            server = try start(["socat", "TCP6-LISTEN:\(port),reuseaddr,fork,ipv6only=0", "EXEC:echo \(Self.probeGreeting)"])
        case .udp:
            // Not socat: its forked UDP children share the listening socket and may swallow the next datagram.
            // Replies leave from the address the routing table picks, so probe a namespace's primary address.
            let program = """
                import socket
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(("::", \(port)))
                while True:
                    data, peer = s.recvfrom(2048)
                    s.sendto(b"\(Self.probeGreeting)\\n", peer)
                """
            server = try start(["python3", "-c", program])
        }
        let filter = transport == .tcp ? "-Hltn" : "-Hlun"
        for _ in 0..<200 {
            let sockets = try execute(["ss", filter, "sport", "=", ":\(port)"])
            if sockets.succeeded && !sockets.standardOutput.isEmpty { return server }
            if !server.isRunning { break }
            usleep(10_000)
        }
        server.terminate()
        throw .commandFailed(
            command: server.arguments, exitStatus: -1, standardError: "probe server did not start listening on \(port)")
    }

    /// Whether a TCP connection or UDP exchange from this namespace to `address`:`port` completes within
    /// `timeout` (a probe server must be running there; see `startProbeServer(port:transport:)`).
    public func canConnect(
        to address: String, port: UInt16, transport: ProbeTransport, timeout: Duration = .seconds(5)
    ) -> Bool {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let host = address.contains(":") ? "[\(address)]" : address
        let target =
            switch transport {
            case .tcp: "TCP:\(host):\(port),connect-timeout=\(seconds)"
            case .udp: "UDP:\(host):\(port)"
            }
        // `-t`: after sending, wait as long as `timeout` for the answer (socat's default is half a second, too
        // short on a loaded machine).
        let probe = CommandRunner(prefix: runner.prefix, timeout: timeout + .seconds(3))
        // TCP sends nothing: the server answers without reading, and unread data at its close would turn into a
        // reset that can discard the greeting. UDP needs one datagram to be answered.
        let input = transport == .udp ? "probe\n" : nil
        let arguments = ["socat", "-T", "\(seconds)", "-t", "\(seconds)", "-", target]
        guard let result = try? probe.run(arguments, input: input) else {
            return false
        }
        return result.standardOutput.contains(Self.probeGreeting)
    }

    /// Whether `canConnect` from `source` to this namespace's `address`:`port` succeeds, with a probe server
    /// started here for the duration of the call.
    public func acceptsConnection(
        from source: NetworkNamespace, address: String, port: UInt16, transport: ProbeTransport,
        timeout: Duration = .seconds(5)
    ) throws(NetworkNamespaceError) -> Bool {
        let server = try startProbeServer(port: port, transport: transport)
        defer { server.terminate() }
        return source.canConnect(to: address, port: port, transport: transport, timeout: timeout)
    }
}
