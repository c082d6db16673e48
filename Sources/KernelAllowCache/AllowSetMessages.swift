public import NetworkTypes

/// Which kernel sets the allow cache writes to, and so which netlink messages it sends.
public enum AllowSetKind: Sendable, Hashable {
    /// ip sets (`hash:ip,port,ip`), matched by the iptables back end's `-m set` rule: `IPSET_CMD_ADD` and
    /// `IPSET_CMD_FLUSH` messages of subsystem `NFNL_SUBSYS_IPSET`.
    case ipset
    /// Sets with timeouts in the nft table `table` (family `inet`, key `ipv4_addr . inet_proto . inet_service .
    /// ipv4_addr` or its IPv6 twin), matched by the nft back end's classify chain: `NFT_MSG_NEWSETELEM` and
    /// `NFT_MSG_DELSETELEM` messages of subsystem `NFNL_SUBSYS_NFTABLES`, inside an nfnetlink batch
    /// (`NFNL_MSG_BATCH_BEGIN` … `NFNL_MSG_BATCH_END`), which the kernel applies as one transaction.
    case nftables(table: AllowSetName)
}

/// Netlink messages for the kernel allow cache's sets, written into one preallocated buffer so that several go out
/// in one `sendto`. Only what the allow cache needs: add a (source, protocol:port, destination) element with a
/// timeout, and flush a set. Two encodings (``AllowSetKind``): ip sets (subsystem `NFNL_SUBSYS_IPSET`, protocol 7;
/// the constants are those of `<linux/netfilter/ipset/ip_set.h>`) and nft sets (subsystem `NFNL_SUBSYS_NFTABLES`;
/// the constants are those of `<linux/netfilter/nf_tables.h>` and `<linux/netfilter/nfnetlink.h>`).
///
/// Appending allocates nothing: the buffer is allocated once, and a message that does not fit is refused.
public struct AllowSetMessages: ~Copyable {
    /// `NFNL_SUBSYS_IPSET`.
    static let subsystem: UInt16 = 6
    /// `IPSET_PROTOCOL`: the kernel takes add and flush requests only at its own protocol version.
    static let protocolVersion: UInt8 = 7
    /// `IPSET_CMD_FLUSH`, `IPSET_CMD_ADD`.
    static let flushCommand: UInt16 = 4
    static let addCommand: UInt16 = 9
    /// `NLM_F_REQUEST`, `NLM_F_ACK`.
    static let request: UInt16 = 1
    static let acknowledge: UInt16 = 4
    /// `NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`.
    static let nested: UInt16 = 1 << 15
    static let networkOrder: UInt16 = 1 << 14
    /// Command-level attributes: `IPSET_ATTR_PROTOCOL`, `IPSET_ATTR_SETNAME`, `IPSET_ATTR_DATA`.
    static let attributeProtocol: UInt16 = 1
    static let attributeSetName: UInt16 = 2
    static let attributeData: UInt16 = 7
    /// Data attributes: `IPSET_ATTR_IP`, `IPSET_ATTR_PORT`, `IPSET_ATTR_TIMEOUT`, `IPSET_ATTR_PROTO`, `IPSET_ATTR_IP2`.
    static let attributeIP: UInt16 = 1
    static let attributePort: UInt16 = 4
    static let attributeTimeout: UInt16 = 6
    static let attributeTransport: UInt16 = 7
    static let attributeIP2: UInt16 = 20
    /// Inside `IPSET_ATTR_IP`: `IPSET_ATTR_IPADDR_IPV4`, `IPSET_ATTR_IPADDR_IPV6`.
    static let attributeIPv4: UInt16 = 1
    static let attributeIPv6: UInt16 = 2
    /// `NFNL_SUBSYS_NFTABLES`, `NFT_MSG_NEWSETELEM`, `NFT_MSG_DELSETELEM`, `NFNL_MSG_BATCH_BEGIN`,
    /// `NFNL_MSG_BATCH_END`, `NLM_F_CREATE`, `NFPROTO_INET`.
    static let nftSubsystem: UInt16 = 10
    static let newSetElement: UInt16 = 12
    static let deleteSetElement: UInt16 = 14
    static let batchBegin: UInt16 = 0x10
    static let batchEnd: UInt16 = 0x11
    static let create: UInt16 = 0x400
    static let inetFamily: UInt8 = 1
    /// `NFTA_SET_ELEM_LIST_TABLE`, `NFTA_SET_ELEM_LIST_SET`, `NFTA_SET_ELEM_LIST_ELEMENTS`; inside the elements
    /// `NFTA_LIST_ELEM`; inside an element `NFTA_SET_ELEM_KEY` and `NFTA_SET_ELEM_TIMEOUT`; inside the key
    /// `NFTA_DATA_VALUE`.
    static let listTable: UInt16 = 1
    static let listSet: UInt16 = 2
    static let listElements: UInt16 = 3
    static let listElement: UInt16 = 1
    static let elementKey: UInt16 = 1
    static let elementTimeout: UInt16 = 4
    static let dataValue: UInt16 = 1
    /// The largest add, in either encoding, with room for an nft batch's begin and end (20 bytes each). ipset:
    /// header 16 + nfgenmsg 4 + protocol 8 + name 36 + data (4 + 2 × 24 + 8 + 8 + 8) = 160. nft: header 16 +
    /// nfgenmsg 4 + table 36 + set 36 + elements (4 + 4 + timeout 12 + key (4 + 4 + 40)) = 160.
    public static let maximumAddSize = 200

    /// Which sets the messages are for.
    public let kind: AllowSetKind
    private let storage: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    public private(set) var count = 0
    /// Messages written so far.
    public private(set) var messages = 0
    private var sequence: UInt32 = 0
    /// nft: a batch was begun and not yet ended.
    private var batchOpen = false

    /// A buffer of `capacity` bytes for messages to sets of `kind`.
    public init(capacity: Int, kind: AllowSetKind = .ipset) {
        self.kind = kind
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 4)
    }

    deinit { storage.deallocate() }

    /// The bytes written so far, for `send`.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    /// Forgets every message written.
    public mutating func removeAll() {
        count = 0
        messages = 0
        batchOpen = false
    }

    /// Ends what is written so that it can be sent: closes an open nft batch (`NFNL_MSG_BATCH_END`). Nothing to do
    /// for ip sets. There is always room: every append keeps it free.
    public mutating func finish() {
        guard batchOpen else { return }
        let start = count
        beginMessage(type: Self.batchEnd, family: 0, flags: Self.request, resource: Self.nftSubsystem)
        put32(UInt32(count - start), at: start)
        batchOpen = false
    }

    /// Appends "add (source, transport:destination port, destination) for `timeout` seconds to `set`"; an element
    /// already present gets the new timeout. Returns false (writing nothing) when the flow has no ports, the
    /// addresses' family differs from each other, or the buffer is full.
    @discardableResult
    public mutating func appendAdd(to set: AllowSetName, flow: FlowKey, timeout: UInt32) -> Bool {
        guard flow.transport.hasPorts, flow.source.family == flow.destination.family,
            count + Self.maximumAddSize <= storage.count
        else { return false }
        if case .nftables(let table) = kind {
            appendNFTAdd(table: table, set: set, flow: flow, timeout: timeout)
            return true
        }
        let start = count
        beginMessage(command: Self.addCommand, family: flow.source.family, flags: Self.request)
        appendAttribute(Self.attributeProtocol, byte: Self.protocolVersion)
        appendName(set)
        let data = beginNested(Self.attributeData)
        appendAddress(Self.attributeIP, flow.source)
        appendAttribute(Self.attributePort | Self.networkOrder, bigEndian16: flow.destinationPort)
        appendAttribute(Self.attributeTransport, byte: flow.transport.rawValue)
        appendAddress(Self.attributeIP2, flow.destination)
        appendAttribute(Self.attributeTimeout | Self.networkOrder, bigEndian32: timeout)
        endNested(data)
        endMessage(start)
        return true
    }

    /// Appends "flush `set`", asking for an acknowledgement. Returns false when the buffer is full.
    @discardableResult
    public mutating func appendFlush(_ set: AllowSetName, family: AddressFamily) -> Bool {
        guard count + 128 <= storage.count else { return false }
        if case .nftables(let table) = kind {
            // NFT_MSG_DELSETELEM without elements empties the set (as `nft flush set` does).
            openBatch()
            let start = count
            beginMessage(
                type: Self.nftSubsystem << 8 | Self.deleteSetElement, family: Self.inetFamily,
                flags: Self.request | Self.acknowledge, resource: 0)
            appendName(Self.listTable, table)
            appendName(Self.listSet, set)
            endMessage(start)
            return true
        }
        let start = count
        beginMessage(command: Self.flushCommand, family: family, flags: Self.request | Self.acknowledge)
        appendAttribute(Self.attributeProtocol, byte: Self.protocolVersion)
        appendName(set)
        endMessage(start)
        return true
    }

    // MARK: - nft

    /// `NFNL_MSG_BATCH_BEGIN` for the nftables subsystem, unless a batch is open already.
    private mutating func openBatch() {
        guard !batchOpen else { return }
        let start = count
        beginMessage(type: Self.batchBegin, family: 0, flags: Self.request, resource: Self.nftSubsystem)
        put32(UInt32(count - start), at: start)
        batchOpen = true
    }

    /// One `NFT_MSG_NEWSETELEM` with one element: the key is the concatenation source . protocol . port .
    /// destination, each field in network byte order and padded to 4 bytes (nft's concatenation layout); the
    /// timeout is in milliseconds, big-endian. Without `NLM_F_EXCL`, an element already present gets the new
    /// timeout (checked against the kernel by the tests).
    private mutating func appendNFTAdd(table: AllowSetName, set: AllowSetName, flow: FlowKey, timeout: UInt32) {
        openBatch()
        let start = count
        beginMessage(
            type: Self.nftSubsystem << 8 | Self.newSetElement, family: Self.inetFamily, flags: Self.request | Self.create,
            resource: 0)
        appendName(Self.listTable, table)
        appendName(Self.listSet, set)
        let elements = beginNested(Self.listElements)
        let element = beginNested(Self.listElement)
        appendHeader(Self.elementTimeout, payloadLength: 8)
        put32(0, at: count)
        put32((timeout &* 1000).bigEndian, at: count + 4)  // at most 4,294,967 s: the upper word stays 0
        count += 8
        let key = beginNested(Self.elementKey)
        let addressLength = flow.source.family == .ipv4 ? 4 : 16
        appendHeader(Self.dataValue, payloadLength: 2 * addressLength + 8)
        writeAddress(flow.source)
        put32(0, at: count)
        storage[count] = flow.transport.rawValue
        count += 4
        put32(0, at: count)
        put16(flow.destinationPort.bigEndian, at: count)
        count += 4
        writeAddress(flow.destination)
        endNested(key)
        endNested(element)
        endNested(elements)
        endMessage(start)
    }

    /// The address's bytes in network order (4 or 16).
    private mutating func writeAddress(_ address: IPAddress) {
        switch address {
        case .v4(let v4):
            put32(v4.rawValue.bigEndian, at: count)
            count += 4
        case .v6:
            var bits = address.bits
            for index in (0..<16).reversed() {
                storage[count + index] = UInt8(truncatingIfNeeded: bits)
                bits >>= 8
            }
            count += 16
        }
    }

    // MARK: - Writing

    private mutating func put16(_ value: UInt16, at offset: Int) {
        storage.storeBytes(of: value, toByteOffset: offset, as: UInt16.self)
    }

    private mutating func put32(_ value: UInt32, at offset: Int) {
        storage.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
    }

    private mutating func pad() {
        while count % 4 != 0 {
            storage[count] = 0
            count += 1
        }
    }

    /// `struct nlmsghdr` (length filled in by `endMessage`) and `struct nfgenmsg` for an ip set command.
    private mutating func beginMessage(command: UInt16, family: AddressFamily, flags: UInt16) {
        // nfgenmsg: NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10), NFNETLINK_V0, resource id 0.
        beginMessage(type: Self.subsystem << 8 | command, family: family == .ipv4 ? 2 : 10, flags: flags, resource: 0)
    }

    /// `struct nlmsghdr` (length filled in later) and `struct nfgenmsg` (`res_id` big-endian).
    private mutating func beginMessage(type: UInt16, family: UInt8, flags: UInt16, resource: UInt16) {
        sequence &+= 1
        put32(0, at: count)
        put16(type, at: count + 4)
        put16(flags, at: count + 6)
        put32(sequence, at: count + 8)
        put32(0, at: count + 12)
        storage[count + 16] = family
        storage[count + 17] = 0
        put16(resource.bigEndian, at: count + 18)
        count += 20
    }

    private mutating func endMessage(_ start: Int) {
        put32(UInt32(count - start), at: start)
        messages += 1
    }

    private mutating func appendHeader(_ type: UInt16, payloadLength: Int) {
        put16(UInt16(4 + payloadLength), at: count)
        put16(type, at: count + 2)
        count += 4
    }

    private mutating func appendAttribute(_ type: UInt16, byte: UInt8) {
        appendHeader(type, payloadLength: 1)
        storage[count] = byte
        count += 1
        pad()
    }

    private mutating func appendAttribute(_ type: UInt16, bigEndian16 value: UInt16) {
        appendHeader(type, payloadLength: 2)
        put16(value.bigEndian, at: count)
        count += 2
        pad()
    }

    private mutating func appendAttribute(_ type: UInt16, bigEndian32 value: UInt32) {
        appendHeader(type, payloadLength: 4)
        put32(value.bigEndian, at: count)
        count += 4
    }

    private mutating func appendName(_ name: AllowSetName) {
        appendName(Self.attributeSetName, name)
    }

    /// A NUL-terminated string attribute.
    private mutating func appendName(_ type: UInt16, _ name: AllowSetName) {
        appendHeader(type, payloadLength: name.count + 1)
        name.withBytes { bytes in
            for byte in bytes {
                storage[count] = byte
                count += 1
            }
        }
        pad()
    }

    private mutating func beginNested(_ type: UInt16) -> Int {
        let start = count
        appendHeader(type | Self.nested, payloadLength: 0)
        return start
    }

    private mutating func endNested(_ start: Int) {
        put16(UInt16(count - start), at: start)
    }

    private mutating func appendAddress(_ type: UInt16, _ address: IPAddress) {
        let nest = beginNested(type)
        switch address {
        case .v4(let v4):
            appendAttribute(Self.attributeIPv4 | Self.networkOrder, bigEndian32: v4.rawValue)
        case .v6:
            appendHeader(Self.attributeIPv6 | Self.networkOrder, payloadLength: 16)
            var bits = address.bits
            for index in (0..<16).reversed() {
                storage[count + index] = UInt8(truncatingIfNeeded: bits)
                bits >>= 8
            }
            count += 16
        }
        endNested(nest)
    }
}

/// The name of an allow set: at most 31 bytes (`IPSET_MAXNAMELEN` with its terminating zero), stored inline so that
/// writing it into a message on the packet path touches no reference count.
public struct AllowSetName: Hashable, Sendable, CustomStringConvertible {
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// The name's length in bytes.
    public let count: Int

    /// A name; nil when it is empty, longer than 31 bytes, or holds a zero byte.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 31, !bytes.contains(0) else { return nil }
        count = bytes.count
        withUnsafeMutableBytes(of: &storage) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
    }

    /// The name's bytes followed by its terminating zero.
    @inline(__always)
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0[0...count])) }
    }

    public static func == (lhs: AllowSetName, rhs: AllowSetName) -> Bool {
        lhs.count == rhs.count && lhs.storage == rhs.storage
    }

    public func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: $0) }
    }

    /// The name as text.
    public var text: String { withBytes { String(decoding: $0.dropLast(), as: UTF8.self) } }

    public var description: String { text }
}
