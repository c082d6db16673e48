internal import Glibc
public import NetworkTypes

/// The addresses configured on this host's interfaces (in the current network namespace).
public enum HostAddresses {
    /// Every IPv4 and IPv6 address of every interface that is up, except loopback addresses (127.0.0.0/8, ::1)
    /// and IPv6 link-local ones (fe80::/10), which never appear as a connection's address towards a pod; sorted,
    /// without duplicates. The corresponding C function is `getifaddrs`.
    ///
    /// - Throws: ``SystemError`` when the interface list cannot be read.
    public static func current() throws(SystemError) -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>? = nil
        _ = try SystemCall.run("getifaddrs") { getifaddrs(&list) }
        defer { freeifaddrs(list) }
        var result = Set<IPAddress>()
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard current.pointee.ifa_flags & UInt32(IFF_UP) != 0, let socketAddress = current.pointee.ifa_addr,
                let address = address(of: socketAddress), !isLocalOnly(address)
            else { continue }
            result.insert(address)
        }
        return result.sorted()
    }

    /// Whether `address` is loopback or IPv6 link-local.
    static func isLocalOnly(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4): return v4.rawValue >> 24 == 127
        case .v6(let v6):
            let bits = IPAddress.v6(v6).bits
            return bits == 1 || bits >> 118 == 0x3FA  // ::1, fe80::/10
        }
    }

    /// The address in a `sockaddr_in` or `sockaddr_in6`; nil for other families (packet sockets and the like).
    static func address(of socketAddress: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            return socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                .v4(IPv4Address(rawValue: UInt32(bigEndian: inet.pointee.sin_addr.s_addr)))
            }
        case AF_INET6:
            return socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                let bytes = withUnsafeBytes(of: inet6.pointee.sin6_addr) { Array($0) }
                let bits = bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
                return IPAddress(family: .ipv6, bits: bits)
            }
        default:
            return nil
        }
    }
}
