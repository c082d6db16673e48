import Foundation
import KernelAllowCache
import LinuxSupport
import NetworkTypes
import Testing

/// The netlink encoding checked against the kernel itself: elements added through `AllowSetSocket` inside a fresh
/// network namespace must show up in `ipset list` exactly, for both families, and a flush must empty the sets.
@Suite("AllowSetSocket", .serialized, .enabled(if: QueueTestNamespace.isSupported, "needs root, ip and iptables"))
struct AllowSetSocketTests {
    static let v4 = AllowSetName("tg-test-v4")!
    static let v6 = AllowSetName("tg-test-v6")!

    static func flow(_ source: String, _ destination: String, _ transport: IPProtocol, _ port: UInt16) throws -> FlowKey {
        FlowKey(
            source: try #require(IPAddress(source)), destination: try #require(IPAddress(destination)),
            transport: transport, sourcePort: 40000, destinationPort: port)
    }

    /// The members of `set`, as `ipset list` prints them, without their remaining timeouts.
    static func members(_ namespace: QueueTestNamespace, _ set: AllowSetName) throws -> [String] {
        let listing = try QueueTestNamespace.run(["ip", "netns", "exec", namespace.name, "ipset", "list", set.text])
        guard let start = listing.range(of: "Members:\n") else { return [] }
        return listing[start.upperBound...].split(separator: "\n").map { line in
            String(line.split(separator: " ").first ?? "")
        }.sorted()
    }

    /// A new network namespace with both sets created.
    static func namespace(_ tag: String) throws -> QueueTestNamespace {
        let namespace = try QueueTestNamespace(tag: tag)
        try namespace.exec(["ipset", "create", v4.text, "hash:ip,port,ip", "family", "inet", "timeout", "60"])
        try namespace.exec(["ipset", "create", v6.text, "hash:ip,port,ip", "family", "inet6", "timeout", "60"])
        return namespace
    }

    @Test func addedElementsAppearExactlyAndFlushEmptiesTheSets() throws {
        let namespace = try Self.namespace("allowset-add")
        let v4 = try Self.flow("10.244.1.10", "10.244.2.10", .tcp, 8080)
        let v4udp = try Self.flow("10.244.1.10", "10.244.2.10", .udp, 53)
        let v4sctp = try Self.flow("192.168.1.1", "10.244.2.11", .sctp, 5000)
        let v6 = try Self.flow("fd00:244::1:10", "fd00:244::2:10", .tcp, 443)
        let icmp = try Self.flow("10.244.1.10", "10.244.2.10", .icmp, 0)
        let (added, refusedICMP, written, errors) = try namespace.onThread { () throws -> (Int, Bool, Int, Int) in
            let socket = try AllowSetSocket()
            var messages = AllowSetMessages(capacity: 4096)
            var added = 0
            for (set, flow) in [(Self.v4, v4), (Self.v4, v4udp), (Self.v4, v4sctp), (Self.v6, v6)]
            where messages.appendAdd(to: set, flow: flow, timeout: 30) {
                added += 1
            }
            // No ports, no element.
            let refusedICMP = !messages.appendAdd(to: Self.v4, flow: icmp, timeout: 30)
            try socket.send(&messages)
            usleep(50_000)
            return (added, refusedICMP, messages.messages, socket.drainReplies().errors)
        }
        #expect(added == 4 && refusedICMP && written == 4 && errors == 0)
        #expect(
            try Self.members(namespace, Self.v4)
                == ["10.244.1.10,tcp:8080,10.244.2.10", "10.244.1.10,udp:53,10.244.2.10", "192.168.1.1,sctp:5000,10.244.2.11"])
        #expect(try Self.members(namespace, Self.v6) == ["fd00:244::1:10,tcp:443,fd00:244::2:10"])

        try namespace.onThread { try AllowSetSocket().flush([(Self.v4, .ipv4), (Self.v6, .ipv6)]) }
        #expect(try Self.members(namespace, Self.v4) == [])
        #expect(try Self.members(namespace, Self.v6) == [])
    }

    @Test func errorsAreCountedNotThrown() throws {
        let namespace = try Self.namespace("allowset-err")
        let missing = try #require(AllowSetName("tg-test-missing"))
        let flow = try Self.flow("10.0.0.1", "10.0.0.2", .tcp, 80)
        let (errors, lastError, flushFailed) = try namespace.onThread { () throws -> (Int, Int32, Bool) in
            let socket = try AllowSetSocket()
            var messages = AllowSetMessages(capacity: 1024)
            messages.appendAdd(to: missing, flow: flow, timeout: 30)
            try socket.send(&messages)
            usleep(50_000)
            let replies = socket.drainReplies()
            var flushFailed = false
            do { try socket.flush([(missing, .ipv4)]) } catch { flushFailed = true }
            return (replies.errors, replies.lastError, flushFailed)
        }
        #expect(errors == 1 && lastError != 0 && flushFailed)
    }

    @Test func aFullBufferRefusesWithoutWriting() {
        var messages = AllowSetMessages(capacity: AllowSetMessages.maximumAddSize + 10)
        let flow = FlowKey(
            source: .v4(IPv4Address(10, 0, 0, 1)), destination: .v4(IPv4Address(10, 0, 0, 2)), transport: .tcp,
            sourcePort: 1, destinationPort: 2)
        let first = messages.appendAdd(to: Self.v4, flow: flow, timeout: 1)
        let written = messages.count
        let second = messages.appendAdd(to: Self.v4, flow: flow, timeout: 1)
        #expect(first && !second)
        #expect(messages.count == written && messages.messages == 1)
        messages.removeAll()
        #expect(messages.count == 0 && messages.messages == 0)
    }
}

/// The nft encoding checked against the kernel: elements added through `AllowSetSocket` to sets defined as the nft
/// back end renders them must show up in `nft list set` exactly, for both families; adding an element again
/// renews its timeout (the cache's refresh); a flush empties the sets; an add to a set that does not exist is an
/// error reply that is counted.
///
/// This kernel lacks the nft `queue` statement, so the nft back end's whole ruleset cannot be installed here: what
/// this covers is the sets, their element adds and flushes, not the datapath through them.
@Suite("AllowSetSocket, nft sets", .serialized, .enabled(if: QueueTestNamespace.isSupported, "needs root, ip and iptables"))
struct NFTAllowSetSocketTests {
    static let table = AllowSetName("tollgate")!
    static let v4 = AllowSetName("allow-v4")!
    static let v6 = AllowSetName("allow-v6")!
    static let kind = AllowSetKind.nftables(table: table)

    /// The sets exactly as `RuleRenderer` renders them for the nft back end with the allow cache on.
    static let definitions = """
        table inet tollgate {
        \tset allow-v4 {
        \t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr
        \t\tflags timeout
        \t\ttimeout 60s
        \t\tsize 262144
        \t}
        \tset allow-v6 {
        \t\ttype ipv6_addr . inet_proto . inet_service . ipv6_addr
        \t\tflags timeout
        \t\ttimeout 60s
        \t\tsize 262144
        \t}
        }

        """

    static func namespace(_ tag: String) throws -> QueueTestNamespace {
        let namespace = try QueueTestNamespace(tag: tag)
        let path = NSTemporaryDirectory() + "tollgate-\(tag)-\(getpid()).nft"
        try definitions.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try namespace.exec(["nft", "-f", path])
        return namespace
    }

    /// `nft -j list set`: each element as "source . protocol . port . destination" with its seconds to expiry.
    static func members(_ namespace: QueueTestNamespace, _ set: AllowSetName) throws -> [String: Int] {
        let listing = try QueueTestNamespace.run(
            ["ip", "netns", "exec", namespace.name, "nft", "-j", "list", "set", "inet", "tollgate", set.text])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any])
        let objects = try #require(document["nftables"] as? [[String: Any]])
        let definition = try #require(objects.compactMap { $0["set"] as? [String: Any] }.first)
        var members: [String: Int] = [:]
        for entry in definition["elem"] as? [[String: Any]] ?? [] {
            let element = try #require(entry["elem"] as? [String: Any])
            let value = try #require(element["val"] as? [String: Any])
            let parts = try #require(value["concat"] as? [Any])
            members[parts.map { "\($0)" }.joined(separator: " . ")] = element["expires"] as? Int ?? -1
        }
        return members
    }

    @Test func addedElementsAppearExactlyRenewAndFlush() throws {
        let namespace = try Self.namespace("kcnft-add")
        let tcp = try AllowSetSocketTests.flow("10.244.1.10", "10.244.2.10", .tcp, 8080)
        let udp = try AllowSetSocketTests.flow("10.244.1.10", "10.244.2.10", .udp, 53)
        let sctp = try AllowSetSocketTests.flow("192.168.1.1", "10.244.2.11", .sctp, 5000)
        let v6 = try AllowSetSocketTests.flow("fd00:244::1:10", "fd00:244::2:10", .tcp, 443)
        let errors = try namespace.onThread { () throws -> Int in
            let socket = try AllowSetSocket()
            var messages = AllowSetMessages(capacity: 4096, kind: Self.kind)
            for (set, flow, timeout) in [(Self.v4, tcp, 20), (Self.v4, udp, 60), (Self.v4, sctp, 60), (Self.v6, v6, 60)] {
                let added = messages.appendAdd(to: set, flow: flow, timeout: UInt32(timeout))
                #expect(added)
            }
            try socket.send(&messages)
            usleep(50_000)
            return socket.drainReplies().errors
        }
        #expect(errors == 0)
        let before = try Self.members(namespace, Self.v4)
        #expect(Set(before.keys) == ["10.244.1.10 . tcp . 8080 . 10.244.2.10", "10.244.1.10 . udp . 53 . 10.244.2.10",
            "192.168.1.1 . sctp . 5000 . 10.244.2.11"])
        #expect((18...20).contains(before["10.244.1.10 . tcp . 8080 . 10.244.2.10"] ?? -1))
        #expect(Set(try Self.members(namespace, Self.v6).keys) == ["fd00:244::1:10 . tcp . 443 . fd00:244::2:10"])

        // Added again (as a worker does for every allowed connection it sees), the element gets the new timeout.
        let renewErrors = try namespace.onThread { () throws -> Int in
            let socket = try AllowSetSocket()
            var messages = AllowSetMessages(capacity: 1024, kind: Self.kind)
            messages.appendAdd(to: Self.v4, flow: tcp, timeout: 60)
            try socket.send(&messages)
            usleep(50_000)
            return socket.drainReplies().errors
        }
        #expect(renewErrors == 0)
        #expect((58...60).contains(try Self.members(namespace, Self.v4)["10.244.1.10 . tcp . 8080 . 10.244.2.10"] ?? -1))

        try namespace.onThread { try AllowSetSocket().flush([(Self.v4, .ipv4), (Self.v6, .ipv6)], kind: Self.kind) }
        #expect(try Self.members(namespace, Self.v4) == [:])
        #expect(try Self.members(namespace, Self.v6) == [:])
    }

    @Test func errorsAreCountedNotThrown() throws {
        let namespace = try Self.namespace("kcnft-err")
        let flow = try AllowSetSocketTests.flow("10.0.0.1", "10.0.0.2", .tcp, 80)
        let missing = try #require(AllowSetName("allow-missing"))
        let (errors, lastError, flushFailed) = try namespace.onThread { () throws -> (Int, Int32, Bool) in
            let socket = try AllowSetSocket()
            var messages = AllowSetMessages(capacity: 1024, kind: Self.kind)
            messages.appendAdd(to: missing, flow: flow, timeout: 30)
            try socket.send(&messages)
            usleep(50_000)
            let replies = socket.drainReplies()
            var flushFailed = false
            do { try socket.flush([(missing, .ipv4)], kind: Self.kind) } catch { flushFailed = true }
            return (replies.errors, replies.lastError, flushFailed)
        }
        #expect(errors == 1 && lastError == ENOENT && flushFailed)
    }
}
