internal import Glibc

/// An IP address and TCP port to listen on, parsed from `HOST:PORT`.
///
/// Accepted forms: `127.0.0.1:9470`, `0.0.0.0:9470`, `[::1]:9470`, `[::]:9470`, `localhost:9470`
/// (meaning `127.0.0.1`). IPv6 literals (RFC 4291 §2.2) must be in brackets, as in URLs (RFC 3986 §3.2.2).
/// Port 0 asks the kernel for a free port; ``HTTPServer/address`` then reports the one it chose.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Hashable, Sendable {
        /// IPv4 (`AF_INET`).
        case ipv4
        /// IPv6 (`AF_INET6`).
        case ipv6
    }

    /// The address family of ``host``.
    public let family: Family
    /// The address in canonical text form (`"127.0.0.1"`, `"::1"`), without brackets.
    public let host: String
    /// The TCP port; 0 before binding means "any free port".
    public let port: UInt16

    /// Creates an address from an IP literal (no brackets) or `localhost`, and a port.
    ///
    /// - Throws: ``InvalidValueError`` if `host` is not an IPv4 or IPv6 literal.
    public init(host: String, port: UInt16) throws(InvalidValueError) {
        let literal = host == "localhost" ? "127.0.0.1" : host
        if let canonical = Self.canonical(literal, family: AF_INET) {
            self.family = .ipv4
            self.host = canonical
        } else if let canonical = Self.canonical(literal, family: AF_INET6) {
            self.family = .ipv6
            self.host = canonical
        } else {
            throw InvalidValueError(
                what: "listen address", value: host,
                reason: "the host must be an IPv4 literal, an IPv6 literal or localhost")
        }
        self.port = port
    }

    /// Parses `HOST:PORT`, such as `127.0.0.1:9470` or `[::1]:9470`.
    ///
    /// - Throws: ``InvalidValueError`` saying what is wrong (missing port, unbracketed IPv6, port out of range...).
    public init(parsing text: String) throws(InvalidValueError) {
        func invalid(_ reason: String) -> InvalidValueError {
            InvalidValueError(what: "listen address", value: text, reason: reason)
        }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw invalid("missing \"]\" after the IPv6 address")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw invalid("expected \":PORT\" after \"]\", as in [::1]:9470")
            }
            portPart = rest.dropFirst()
            guard hostPart.contains(":") else {
                throw invalid("brackets are only for IPv6 addresses")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw invalid("expected HOST:PORT, as in 127.0.0.1:9470 or [::1]:9470")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw invalid("an IPv6 address must be in brackets, as in [::1]:9470")
            }
        }
        guard !hostPart.isEmpty else {
            throw invalid("missing host (use 0.0.0.0 or [::] to listen on every address)")
        }
        guard !portPart.isEmpty else {
            throw invalid("missing port")
        }
        guard portPart.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            portPart.utf8.count <= 5, let port = UInt16(portPart)
        else {
            throw invalid("the port must be a number from 0 to 65535")
        }
        do {
            try self.init(host: String(hostPart), port: port)
        } catch {
            throw invalid("\"\(hostPart)\" is not an IPv4 or IPv6 address (or localhost)")
        }
    }

    /// The same host with another port (used to report the port the kernel chose for port 0).
    public func withPort(_ port: UInt16) -> ListenAddress {
        ListenAddress(family: family, host: host, port: port)
    }

    /// `127.0.0.1:9470` or `[::1]:9470`.
    public var description: String {
        switch family {
        case .ipv4: return "\(host):\(port)"
        case .ipv6: return "[\(host)]:\(port)"
        }
    }

    private init(family: Family, host: String, port: UInt16) {
        self.family = family
        self.host = host
        self.port = port
    }

    /// The canonical text of `literal` in `family`, or `nil` if it is not such an address
    /// (the corresponding C functions are `inet_pton` and `inet_ntop`).
    private static func canonical(_ literal: String, family: Int32) -> String? {
        var storage = in6_addr()  // large enough for either family
        guard inet_pton(family, literal, &storage) == 1 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN)) { buffer in
            guard let base = buffer.baseAddress,
                inet_ntop(family, &storage, base, socklen_t(buffer.count)) != nil
            else { return nil }
            return String(cString: base)
        }
    }
}

extension ListenAddress {
    /// Calls `body` with this address as a C `sockaddr_in`/`sockaddr_in6` and its length.
    func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            _ = inet_pton(AF_INET, host, &address.sin_addr)  // host is canonical: cannot fail
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)  // host is canonical: cannot fail
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// The C address family constant.
    var socketFamily: Int32 {
        family == .ipv4 ? AF_INET : AF_INET6
    }
}
