/// Python programs run inside pod namespaces (python3 is a test dependency, as in `scripts/lib/common.sh`).
enum Scripts {
    /// A TCP echo server on `port` (dual stack) that serves one connection at a time, echoing lines.
    static func echoServer(port: UInt16) -> String {
        """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", \(port)))
        s.listen(64)
        while True:
            c, _ = s.accept()
            while True:
                data = c.recv(4096)
                if not data:
                    break
                c.sendall(data)
            c.close()
        """
    }

    /// One long TCP connection to `address`:`port`: a line every 100 ms, `lines` times, each echo awaited.
    /// Prints the number of echoed lines.
    static func longConnection(address: String, port: UInt16, lines: Int) -> String {
        """
        import socket, time
        c = socket.create_connection(("\(address)", \(port)), timeout=5)
        echoed = 0
        for i in range(\(lines)):
            line = b"line %03d\\n" % i
            c.sendall(line)
            got = b""
            while len(got) < len(line):
                chunk = c.recv(4096)
                if not chunk:
                    break
                got += chunk
            if got == line:
                echoed += 1
            time.sleep(0.1)
        c.close()
        print(echoed)
        """
    }

    /// A TCP server on `port` (dual stack) that greets each connection with one line and closes it; one process,
    /// no fork, so that thousands of short connections cost little.
    static func greetingServer(port: UInt16) -> String {
        """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", \(port)))
        s.listen(1024)
        while True:
            c, _ = s.accept()
            try:
                c.sendall(b"tollgate-ok\\n")
            except OSError:
                pass
            c.close()
        """
    }

    /// Short TCP connections to `address`:`port` for `seconds`, each with `timeout`; a connection succeeds when
    /// the greeting arrives. Closes with a reset (SO_LINGER 0) so no TIME_WAIT piles up on the client. Prints
    /// `<successes> <failures>` and, for the first few failures, their errors on standard error.
    static func connectionLoop(address: String, port: UInt16, seconds: Double, timeout: Double, pause: Double) -> String {
        """
        import socket, struct, sys, time
        end = time.monotonic() + \(seconds)
        ok = failed = 0
        while time.monotonic() < end:
            try:
                c = socket.create_connection(("\(address)", \(port)), timeout=\(timeout))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                data = b""
                while not data.endswith(b"\\n"):
                    chunk = c.recv(64)
                    if not chunk:
                        break
                    data += chunk
                c.close()
                if data == b"tollgate-ok\\n":
                    ok += 1
                else:
                    failed += 1
                    if failed <= 5: print("short answer %r" % data, file=sys.stderr)
            except OSError as e:
                failed += 1
                if failed <= 5: print("error %s" % e, file=sys.stderr)
            if \(pause) > 0:
                time.sleep(\(pause))
        print(ok, failed)
        """
    }

    /// Sends `packet` (hex: an SCTP packet without IP header) to `address` through a raw IPPROTO_SCTP socket; the
    /// kernel adds the IP header. The kernel has no SCTP stack, so raw sockets are the only way to send SCTP.
    static func rawSCTP(address: String, hex: String) -> String {
        """
        import socket
        family = socket.AF_INET6 if ":" in "\(address)" else socket.AF_INET
        s = socket.socket(family, socket.SOCK_RAW, 132)
        s.sendto(bytes.fromhex("\(hex)"), ("\(address)", 0))
        """
    }
}
