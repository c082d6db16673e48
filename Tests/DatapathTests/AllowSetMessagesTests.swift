import KernelAllowCache
import NetworkTypes
import Testing

/// The nft encoding of the allow cache's messages against what nft itself sends for the same operations.
///
/// Fixtures: the bytes of nft's `sendmsg`, captured on this project's VM (nftables v1.0.6, kernel 6.18) in a
/// network namespace holding the sets exactly as `RuleRenderer` renders them for the nft back end, with
///
///     strace -e trace=sendmsg -e write=3 -x -s 4096 nft add element inet tollgate allow-v4 \
///         '{ 10.244.1.10 . tcp . 8080 . 10.244.2.10 timeout 50s }'
///     strace ... nft add element inet tollgate allow-v6 '{ fd00:244::1:10 . udp . 53 . fd00:244::2:10 timeout 50s }'
///     strace ... nft flush set inet tollgate allow-v4
///
/// (the `-e write=3` hex dump of the batch nft sends after its cache lookups). Compared message by message: type,
/// flags, nfgenmsg and every top-level attribute whole (nested attributes byte for byte), ignoring sequence numbers,
/// and with two known differences: nft adds `NFTA_SET_ELEM_LIST_SET_ID` (type 4, the id of the set in nft's own
/// cache; the kernel finds the set by name), which Tollgate does not send, and Tollgate asks for an
/// acknowledgement of a flush (`NLM_F_ACK`) so that it can wait for it.
@Suite("AllowSetMessages")
struct AllowSetMessagesTests {
    static let addIPv4 = """
        14 00 00 00 10 00 01 00 00 00 00 00 00 00 00 00 00 00 00 0a 68 00 00 00 0c 0a 01 04 01 00 00 00 00 00 00 00 \
        01 00 00 00 0d 00 01 00 74 6f 6c 6c 67 61 74 65 00 00 00 00 0d 00 02 00 61 6c 6c 6f 77 2d 76 34 00 00 00 00 \
        08 00 04 00 00 00 00 03 2c 00 03 80 28 00 01 80 0c 00 04 00 00 00 00 00 00 00 c3 50 18 00 01 80 14 00 01 00 \
        0a f4 01 0a 06 00 00 00 1f 90 00 00 0a f4 02 0a 14 00 00 00 11 00 01 00 02 00 00 00 00 00 00 00 00 00 00 0a
        """
    static let addIPv6 = """
        14 00 00 00 10 00 01 00 00 00 00 00 00 00 00 00 00 00 00 0a 80 00 00 00 0c 0a 01 04 01 00 00 00 00 00 00 00 \
        01 00 00 00 0d 00 01 00 74 6f 6c 6c 67 61 74 65 00 00 00 00 0d 00 02 00 61 6c 6c 6f 77 2d 76 36 00 00 00 00 \
        08 00 04 00 00 00 00 04 44 00 03 80 40 00 01 80 0c 00 04 00 00 00 00 00 00 00 c3 50 30 00 01 80 2c 00 01 00 \
        fd 00 02 44 00 00 00 00 00 00 00 00 00 01 00 10 11 00 00 00 00 35 00 00 fd 00 02 44 00 00 00 00 00 00 00 00 \
        00 02 00 10 14 00 00 00 11 00 01 00 02 00 00 00 00 00 00 00 00 00 00 0a
        """
    static let flushIPv4 = """
        14 00 00 00 10 00 01 00 00 00 00 00 00 00 00 00 00 00 00 0a 34 00 00 00 0e 0a 01 00 01 00 00 00 00 00 00 00 \
        01 00 00 00 0d 00 02 00 61 6c 6c 6f 77 2d 76 34 00 00 00 00 0d 00 01 00 74 6f 6c 6c 67 61 74 65 00 00 00 00 \
        14 00 00 00 11 00 01 00 02 00 00 00 00 00 00 00 00 00 00 0a
        """

    /// One netlink message without its sequence number and port id.
    struct Message: Equatable, CustomStringConvertible {
        var type: UInt16
        var flags: UInt16
        /// `struct nfgenmsg`: family, version, resource id (as sent).
        var header: [UInt8]
        /// Top-level attributes by type, each with its whole payload (nested ones included).
        var attributes: [UInt16: [UInt8]]

        var description: String {
            let attributes = attributes.keys.sorted().map { "\($0): \(hex(self.attributes[$0]!))" }
            return "type 0x\(String(type, radix: 16)) flags 0x\(String(flags, radix: 16)) nfgenmsg \(hex(header)) "
                + attributes.joined(separator: "; ")
        }
    }

    static func bytes(_ text: String) throws -> [UInt8] {
        try text.split(separator: " ").map { try #require(UInt8($0, radix: 16), "bad hex \($0)") }
    }

    /// Splits a netlink datagram into messages; fails the test on anything malformed.
    static func messages(_ bytes: [UInt8]) throws -> [Message] {
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { Int(u16(at)) | Int(u16(at + 2)) << 16 }
        var result: [Message] = []
        var offset = 0
        while offset < bytes.count {
            try #require(offset + 20 <= bytes.count, "truncated header at \(offset)")
            let length = u32(offset)
            try #require(length >= 20 && offset + length <= bytes.count, "bad length \(length) at \(offset)")
            var attributes: [UInt16: [UInt8]] = [:]
            var at = offset + 20
            while at < offset + length {
                let attributeLength = Int(u16(at))
                try #require(attributeLength >= 4 && at + attributeLength <= offset + length, "bad attribute at \(at)")
                attributes[u16(at + 2)] = Array(bytes[(at + 4)..<(at + attributeLength)])
                at += (attributeLength + 3) & ~3
            }
            result.append(
                Message(
                    type: u16(offset + 4), flags: u16(offset + 6), header: Array(bytes[(offset + 16)..<(offset + 20)]),
                    attributes: attributes))
            offset += (length + 3) & ~3
        }
        return result
    }

    /// nft's messages with its set id attribute removed from the element messages.
    static func withoutSetID(_ messages: [Message]) -> [Message] {
        messages.map { message in
            var message = message
            if message.type == 0x0a0c { message.attributes[4] = nil }
            return message
        }
    }

    static let table = AllowSetName("tollgate")!

    static func written(_ body: (inout AllowSetMessages) -> Bool) throws -> [Message] {
        var messages = AllowSetMessages(capacity: 1024, kind: .nftables(table: table))
        let written = body(&messages)
        #expect(written)
        messages.finish()
        return try Self.messages(Array(messages.bytes))
    }

    @Test func ipv4ElementAddMatchesNFT() throws {
        let flow = FlowKey(
            source: try #require(IPAddress("10.244.1.10")), destination: try #require(IPAddress("10.244.2.10")),
            transport: .tcp, sourcePort: 40000, destinationPort: 8080)
        let ours = try Self.written { $0.appendAdd(to: AllowSetName("allow-v4")!, flow: flow, timeout: 50) }
        #expect(ours == Self.withoutSetID(try Self.messages(Self.bytes(Self.addIPv4))))
    }

    @Test func ipv6ElementAddMatchesNFT() throws {
        let flow = FlowKey(
            source: try #require(IPAddress("fd00:244::1:10")), destination: try #require(IPAddress("fd00:244::2:10")),
            transport: .udp, sourcePort: 40000, destinationPort: 53)
        let ours = try Self.written { $0.appendAdd(to: AllowSetName("allow-v6")!, flow: flow, timeout: 50) }
        #expect(ours == Self.withoutSetID(try Self.messages(Self.bytes(Self.addIPv6))))
    }

    @Test func flushMatchesNFTPlusAcknowledgement() throws {
        let ours = try Self.written { $0.appendFlush(AllowSetName("allow-v4")!, family: .ipv4) }
        var expected = try Self.messages(Self.bytes(Self.flushIPv4))
        expected[1].flags |= 4  // NLM_F_ACK
        #expect(ours == expected)
    }

    /// Several adds share one batch: one begin, one element message each, one end.
    @Test func addsOfOneSendShareOneBatch() throws {
        let flows = try (0..<3).map { index in
            FlowKey(
                source: try #require(IPAddress("10.244.1.\(10 + index)")), destination: try #require(IPAddress("10.244.2.10")),
                transport: .tcp, sourcePort: 1, destinationPort: 80)
        }
        var messages = AllowSetMessages(capacity: 4 * AllowSetMessages.maximumAddSize, kind: .nftables(table: Self.table))
        var added = 0
        for flow in flows where messages.appendAdd(to: AllowSetName("allow-v4")!, flow: flow, timeout: 60) { added += 1 }
        let written = messages.messages
        #expect(added == 3 && written == 3)
        messages.finish()
        messages.finish()  // a second finish adds nothing
        let types = try Self.messages(Array(messages.bytes)).map(\.type)
        #expect(types == [0x10, 0x0a0c, 0x0a0c, 0x0a0c, 0x11])
        messages.removeAll()
        let (count, written2) = (messages.count, messages.messages)
        #expect(count == 0 && written2 == 0)
    }

    /// The buffer refuses an add that would leave no room for the batch's end; what was written still ends well.
    @Test func aFullNFTBufferStillEndsItsBatch() throws {
        var messages = AllowSetMessages(capacity: AllowSetMessages.maximumAddSize + 100, kind: .nftables(table: Self.table))
        let flow = FlowKey(
            source: try #require(IPAddress("fd00:244::1")), destination: try #require(IPAddress("fd00:244::2")),
            transport: .sctp, sourcePort: 1, destinationPort: 2)
        let first = messages.appendAdd(to: AllowSetName("allow-v6")!, flow: flow, timeout: 60)
        let second = messages.appendAdd(to: AllowSetName("allow-v6")!, flow: flow, timeout: 60)
        #expect(first && !second)
        messages.finish()
        #expect(try Self.messages(Array(messages.bytes)).map(\.type) == [0x10, 0x0a0c, 0x11])
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}
