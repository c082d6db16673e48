internal import CNetfilterConntrack
internal import Glibc
public import NetworkTypes

/// The kernel's connection tracking table of the current network namespace, over ctnetlink
/// (libnetfilter_conntrack): list the entries of a family and delete single entries.
///
/// The corresponding C functions are `nfct_open(CONNTRACK, 0)`, `nfct_query(NFCT_Q_DUMP)` with a callback
/// registered by `nfct_callback_register`, and `nfct_query(NFCT_Q_DESTROY)`. This file is the only one that holds
/// the `@convention(c)` callback and its `Unmanaged` context.
///
/// Not thread-safe: one thread (the daemon's reload thread) uses an instance at a time.
public final class ConntrackTable {
    /// `struct nfct_handle *`, owned.
    private let handle: OpaquePointer

    /// Opens a ctnetlink socket in the caller's network namespace (needs `CAP_NET_ADMIN`).
    ///
    /// - Throws: ``ConntrackError`` naming `nfct_open`.
    public init() throws(ConntrackError) {
        guard let handle = nfct_open(UInt8(truncatingIfNeeded: CONNTRACK), 0) else {
            throw ConntrackError(call: "nfct_open(CONNTRACK)", errno: Glibc.errno)
        }
        self.handle = handle
    }

    deinit {
        // Nothing useful can be done with a failure to close a netlink socket while being destroyed.
        _ = nfct_close(handle)
    }

    /// Every entry of `family` in the table, as the kernel reports them in one dump.
    ///
    /// - Throws: ``ConntrackError`` naming `nfct_query(NFCT_Q_DUMP)` or `nfct_callback_register`.
    public func entries(family: AddressFamily) throws(ConntrackError) -> [ConntrackEntry] {
        try entries(family: family) { _ in true }
    }

    /// The entries of `family` for which `keep` returns true. `keep` sees every entry of the dump as it is
    /// decoded, so a table of millions of entries never has to be held at once; it must not use this table (a
    /// dump is in progress).
    ///
    /// - Throws: ``ConntrackError`` naming `nfct_query(NFCT_Q_DUMP)` or `nfct_callback_register`.
    public func entries(
        family: AddressFamily, where keep: (ConntrackEntry) -> Bool
    ) throws(ConntrackError) -> [ConntrackEntry] {
        let outcome: Result<[ConntrackEntry], ConntrackError> = withoutActuallyEscaping(keep) { keep in
            let collector = DumpCollector(keep: keep)
            let context = Unmanaged.passUnretained(collector).toOpaque()
            guard nfct_callback_register(handle, NFCT_T_ALL, collectEntry, context) == 0 else {
                return .failure(ConntrackError(call: "nfct_callback_register", errno: Glibc.errno))
            }
            defer { nfct_callback_unregister(handle) }
            var dumpedFamily = UInt32(family == .ipv4 ? AF_INET : AF_INET6)
            let result = withExtendedLifetime(collector) { nfct_query(handle, NFCT_Q_DUMP, &dumpedFamily) }
            guard result == 0 else {
                return .failure(ConntrackError(call: "nfct_query(NFCT_Q_DUMP, \(family))", errno: Glibc.errno))
            }
            return .success(collector.entries)
        }
        return try outcome.get()
    }

    /// Deletes `entry` from the table.
    ///
    /// - Returns: `false` when the entry was already gone (`ENOENT`: it expired or was replaced meanwhile).
    /// - Throws: ``ConntrackError`` naming `nfct_new` or `nfct_query(NFCT_Q_DESTROY)`.
    @discardableResult
    public func delete(_ entry: ConntrackEntry) throws(ConntrackError) -> Bool {
        guard let conntrack = nfct_new() else {
            throw ConntrackError(call: "nfct_new", errno: ENOMEM)
        }
        defer { nfct_destroy(conntrack) }
        Self.describe(entry, into: conntrack)
        if nfct_query(handle, NFCT_Q_DESTROY, UnsafeRawPointer(conntrack)) == 0 { return true }
        let error = Glibc.errno
        if error == ENOENT { return false }
        throw ConntrackError(call: "nfct_query(NFCT_Q_DESTROY, \(entry))", errno: error)
    }

    /// Keeps a deleted connection from being picked up again in the other direction, by leaving a tombstone in
    /// its place: an entry with the connection's original tuple (so the client's next packets are tracked as new,
    /// queued and judged) and a reply tuple from the unspecified address (so the server's packets match nothing,
    /// and the entry the kernel would pick up for them clashes with the tombstone at confirmation and is dropped).
    ///
    /// Without it, TCP's mid-stream pick-up (`nf_conntrack_tcp_loose`) or any UDP packet from the server could
    /// start a new entry in the reverse direction, judged as server-to-client and often allowed, after which the
    /// client's packets travel as its replies and the connection lives on. Only for TCP, UDP and SCTP.
    ///
    /// - Parameter lifetime: Seconds the tombstone lasts (packets of the blocked connection refresh it).
    /// - Returns: false for other protocols, or when the tuple kept being taken by a new entry.
    /// - Throws: ``ConntrackError`` naming `nfct_new` or `nfct_query(NFCT_Q_CREATE)`.
    @discardableResult
    public func block(_ entry: ConntrackEntry, lifetime: UInt32) throws(ConntrackError) -> Bool {
        guard entry.transport.hasPorts, !entry.isTombstone else { return false }
        let reversed = ConntrackEntry(
            source: entry.replySource, destination: entry.source, transport: entry.transport,
            sourcePort: entry.replySourcePort, destinationPort: entry.sourcePort, zone: entry.zone)
        var forward = entry
        forward.id = nil
        for _ in 0..<3 {
            guard let conntrack = nfct_new() else {
                throw ConntrackError(call: "nfct_new", errno: ENOMEM)
            }
            defer { nfct_destroy(conntrack) }
            Self.describe(forward, into: conntrack)
            switch entry.source {
            case .v4(let source):
                nfct_set_attr_u32(conntrack, ATTR_REPL_IPV4_SRC, 0)
                nfct_set_attr_u32(conntrack, ATTR_REPL_IPV4_DST, source.rawValue.bigEndian)
            case .v6(let source):
                withUnsafeBytes(of: UInt128(0)) { nfct_set_attr(conntrack, ATTR_REPL_IPV6_SRC, $0.baseAddress) }
                withUnsafeBytes(of: source.rawValue.bigEndian) {
                    nfct_set_attr(conntrack, ATTR_REPL_IPV6_DST, $0.baseAddress)
                }
            }
            nfct_set_attr_u8(conntrack, ATTR_REPL_L3PROTO, UInt8(entry.source.family == .ipv4 ? AF_INET : AF_INET6))
            nfct_set_attr_u8(conntrack, ATTR_REPL_L4PROTO, entry.transport.rawValue)
            nfct_set_attr_u16(conntrack, ATTR_REPL_PORT_SRC, entry.destinationPort.bigEndian)
            nfct_set_attr_u16(conntrack, ATTR_REPL_PORT_DST, entry.sourcePort.bigEndian)
            nfct_set_attr_u32(conntrack, ATTR_TIMEOUT, lifetime)
            if entry.transport == .tcp {
                // The kernel's TCP tracker starts from a state: established, as the connection was.
                nfct_set_attr_u8(conntrack, ATTR_TCP_STATE, UInt8(TCP_CONNTRACK_ESTABLISHED.rawValue))
            }
            if nfct_query(handle, NFCT_Q_CREATE, UnsafeRawPointer(conntrack)) == 0 { return true }
            let error = Glibc.errno
            guard error == EEXIST else {
                throw ConntrackError(call: "nfct_query(NFCT_Q_CREATE, tombstone for \(entry))", errno: error)
            }
            // A packet picked the connection up again in between, in either direction: remove that and retry.
            try delete(forward)
            try delete(reversed)
        }
        return false
    }

    /// Fills a new `struct nf_conntrack` with the original tuple (and id and zone) of `entry`.
    private static func describe(_ entry: ConntrackEntry, into conntrack: OpaquePointer) {
        switch (entry.source, entry.destination) {
        case (.v4(let source), .v4(let destination)):
            nfct_set_attr_u8(conntrack, ATTR_L3PROTO, UInt8(AF_INET))
            nfct_set_attr_u32(conntrack, ATTR_IPV4_SRC, source.rawValue.bigEndian)
            nfct_set_attr_u32(conntrack, ATTR_IPV4_DST, destination.rawValue.bigEndian)
        case (.v6(let source), .v6(let destination)):
            nfct_set_attr_u8(conntrack, ATTR_L3PROTO, UInt8(AF_INET6))
            withUnsafeBytes(of: source.rawValue.bigEndian) { nfct_set_attr(conntrack, ATTR_IPV6_SRC, $0.baseAddress) }
            withUnsafeBytes(of: destination.rawValue.bigEndian) {
                nfct_set_attr(conntrack, ATTR_IPV6_DST, $0.baseAddress)
            }
        default:
            // Mixed families cannot come from the kernel; describe the source family only, and the kernel rejects it.
            nfct_set_attr_u8(conntrack, ATTR_L3PROTO, UInt8(entry.source.family == .ipv4 ? AF_INET : AF_INET6))
        }
        nfct_set_attr_u8(conntrack, ATTR_L4PROTO, entry.transport.rawValue)
        if entry.transport.hasPorts {
            nfct_set_attr_u16(conntrack, ATTR_PORT_SRC, entry.sourcePort.bigEndian)
            nfct_set_attr_u16(conntrack, ATTR_PORT_DST, entry.destinationPort.bigEndian)
        } else if entry.transport == .icmp || entry.transport == .icmpv6 {
            nfct_set_attr_u8(conntrack, ATTR_ICMP_TYPE, entry.icmpType)
            nfct_set_attr_u8(conntrack, ATTR_ICMP_CODE, entry.icmpCode)
            nfct_set_attr_u16(conntrack, ATTR_ICMP_ID, entry.icmpIdentifier.bigEndian)
        }
        if entry.zone != 0 { nfct_set_attr_u16(conntrack, ATTR_ZONE, entry.zone) }
        if let id = entry.id { nfct_set_attr_u32(conntrack, ATTR_ID, id) }
    }

    /// Reads an entry from a `struct nf_conntrack` the library handed to the dump callback; nil for a family
    /// other than IPv4 and IPv6 or an entry without addresses.
    fileprivate static func entry(from conntrack: OpaquePointer) -> ConntrackEntry? {
        func isSet(_ attribute: nf_conntrack_attr) -> Bool { nfct_attr_is_set(conntrack, attribute) > 0 }
        func address(_ v4: nf_conntrack_attr, _ v6: nf_conntrack_attr, family: UInt8) -> IPAddress? {
            if family == UInt8(AF_INET) {
                guard isSet(v4) else { return nil }
                return .v4(IPv4Address(rawValue: UInt32(bigEndian: nfct_get_attr_u32(conntrack, v4))))
            }
            guard isSet(v6), let bytes = nfct_get_attr(conntrack, v6) else { return nil }
            // 16 bytes in network order (struct in6_addr).
            return .v6(IPv6Address(rawValue: UInt128(bigEndian: bytes.loadUnaligned(as: UInt128.self))))
        }
        func port(_ attribute: nf_conntrack_attr) -> UInt16 {
            isSet(attribute) ? UInt16(bigEndian: nfct_get_attr_u16(conntrack, attribute)) : 0
        }
        let family = nfct_get_attr_u8(conntrack, ATTR_L3PROTO)
        guard family == UInt8(AF_INET) || family == UInt8(AF_INET6),
            let source = address(ATTR_IPV4_SRC, ATTR_IPV6_SRC, family: family),
            let destination = address(ATTR_IPV4_DST, ATTR_IPV6_DST, family: family)
        else { return nil }
        let transport = IPProtocol(rawValue: nfct_get_attr_u8(conntrack, ATTR_L4PROTO))
        let icmp = transport == .icmp || transport == .icmpv6
        return ConntrackEntry(
            source: source, destination: destination, transport: transport,
            sourcePort: transport.hasPorts ? port(ATTR_PORT_SRC) : 0,
            destinationPort: transport.hasPorts ? port(ATTR_PORT_DST) : 0,
            replySource: address(ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, family: family) ?? destination,
            replySourcePort: transport.hasPorts && isSet(ATTR_REPL_PORT_SRC) ? port(ATTR_REPL_PORT_SRC) : nil,
            icmpType: icmp && isSet(ATTR_ICMP_TYPE) ? nfct_get_attr_u8(conntrack, ATTR_ICMP_TYPE) : 0,
            icmpCode: icmp && isSet(ATTR_ICMP_CODE) ? nfct_get_attr_u8(conntrack, ATTR_ICMP_CODE) : 0,
            icmpIdentifier: icmp ? port(ATTR_ICMP_ID) : 0,
            zone: isSet(ATTR_ZONE) ? nfct_get_attr_u16(conntrack, ATTR_ZONE) : 0,
            id: isSet(ATTR_ID) ? nfct_get_attr_u32(conntrack, ATTR_ID) : nil)
    }
}

/// The entries one dump keeps; the dump callback's context.
private final class DumpCollector {
    let keep: (ConntrackEntry) -> Bool
    var entries: [ConntrackEntry] = []

    init(keep: @escaping (ConntrackEntry) -> Bool) { self.keep = keep }
}

/// The dump callback: appends each entry to the `DumpCollector` passed as context and asks for more.
private let collectEntry:
    @convention(c) (nf_conntrack_msg_type, OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = {
        _, conntrack, context in
        let more = Int32(truncatingIfNeeded: NFCT_CB_CONTINUE)
        guard let conntrack, let context else { return more }
        let collector = Unmanaged<DumpCollector>.fromOpaque(context).takeUnretainedValue()
        if let entry = ConntrackTable.entry(from: conntrack), collector.keep(entry) { collector.entries.append(entry) }
        return more
    }
