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
            try socket.send(messages)
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
            try socket.send(messages)
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
