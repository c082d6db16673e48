import Foundation
import Glibc
import NetfilterQueue
import Testing
import TollgateTestSupport

/// Real NFQUEUE tests: each runs in its own namespace with its own queue number and port.
@Suite(
    .serialized, .offCooperativePool,
    .enabled(if: QueueTestNamespace.isSupported, "needs root, ip and iptables (network namespaces)"))
struct NetfilterQueueSocketTests {
    /// Queues new UDP flows to `port` on loopback in `namespace` to `queue`.
    private func queueUDP(_ namespace: QueueTestNamespace, port: UInt16, queue: UInt16) throws {
        try namespace.exec([
            "iptables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "--dport", String(port),
            "-m", "conntrack", "--ctstate", "NEW", "-j", "NFQUEUE", "--queue-num", String(queue),
        ])
    }

    struct Outcome: Sendable, Equatable {
        var delivered: Set<String>
        var queued: Set<String>
        var batchMessages: Int
        var singleMessages: Int
        var statistics: QueueStatistics?
        var portID: UInt32
    }

    /// Sends one datagram per payload from its own socket (so each is a new flow), receives them all from the
    /// queue, gives each the verdict `decide` names, and reports what reached the receiver.
    private func exchange(tag: String, queue: UInt16, port: UInt16, payloads: [String], decide: @escaping @Sendable (String) -> Verdict)
        throws -> Outcome
    {
        let namespace = try QueueTestNamespace(tag: tag)
        try queueUDP(namespace, port: port, queue: queue)
        return try namespace.onThread {
            let socket = try NetfilterQueueSocket(queue: QueueNumber(queue), configuration: QueueConfiguration(batchCapacity: 32))
            let receiver = try LoopbackUDP(bindPort: port)
            defer { receiver.close() }
            for payload in payloads {
                let sender = try LoopbackUDP()
                try sender.send(Array(payload.utf8), to: port)
                sender.close()
            }
            var batch = ReceivedBatch(capacity: 32)
            var verdicts = VerdictBatch(capacity: 32)
            var queued: Set<String> = []
            var attempts = 0
            while queued.count < payloads.count && attempts < 20 {
                attempts += 1
                let count = try socket.receive(into: &batch)
                verdicts.removeAll()
                for index in 0..<count {
                    let packet = batch[index]
                    // IPv4 header (20) + UDP header (8), then the payload this test sent.
                    let payload = String(decoding: packet.payload.dropFirst(28), as: UTF8.self)
                    queued.insert(payload)
                    verdicts.append(packetID: packet.packetID, verdict: decide(payload))
                }
                try socket.sendVerdicts(verdicts)
            }
            let delivered = Set(receiver.receiveAll().map { String(decoding: $0, as: UTF8.self) })
            let statistics = try QueueStatistics.read().first { $0.queue == QueueNumber(queue) }
            return Outcome(
                delivered: delivered, queued: queued, batchMessages: socket.batchVerdictMessages,
                singleMessages: socket.singleVerdictMessages, statistics: statistics, portID: socket.portID)
        }
    }

    @Test func acceptedDatagramsArriveAndDroppedOnesDoNot() throws {
        let payloads = (0..<8).map { "datagram-\($0)" }
        let outcome = try exchange(tag: "mix", queue: 11, port: 40011, payloads: payloads) { payload in
            Int(String(payload.last!))! % 2 == 0 ? .accept : .drop
        }
        #expect(outcome.queued == Set(payloads))
        #expect(outcome.delivered == Set(payloads.filter { Int(String($0.last!))! % 2 == 0 }))
        // Interleaved drops: no batch verdict can be exact past the first accept.
        #expect(outcome.batchMessages == 0)
        #expect(outcome.singleMessages == 8)
        #expect(outcome.statistics == QueueStatistics(
            queue: QueueNumber(11), peerPortID: outcome.portID, queueTotal: 0, copyMode: 2, copyRange: 128,
            queueDropped: 0, userDropped: 0, idSequence: 8))
    }

    @Test func acceptAllUsesBatchVerdicts() throws {
        let payloads = (0..<10).map { "all-\($0)" }
        let outcome = try exchange(tag: "all", queue: 12, port: 40012, payloads: payloads) { _ in .accept }
        #expect(outcome.queued == Set(payloads))
        #expect(outcome.delivered == Set(payloads))
        #expect(outcome.batchMessages >= 1)
        #expect(outcome.statistics?.queueTotal == 0)
    }

    @Test func leadingAcceptsThenDropsMixBatchAndSingleVerdicts() throws {
        let payloads = (0..<6).map { "lead-\($0)" }
        let outcome = try exchange(tag: "lead", queue: 13, port: 40013, payloads: payloads) { payload in
            Int(String(payload.last!))! < 4 ? .accept : .drop
        }
        #expect(outcome.queued == Set(payloads))
        #expect(outcome.delivered == Set(payloads.prefix(4)))
        #expect(outcome.statistics?.queueTotal == 0)
    }

    @Test func bindingAQueueAnotherSocketOwnsFailsClearly() throws {
        let namespace = try QueueTestNamespace(tag: "busy")
        let (error, owner): (NetfilterQueueError?, UInt32) = try namespace.onThread {
            let first = try NetfilterQueueSocket(queue: QueueNumber(14))
            defer { withExtendedLifetime(first) {} }
            do throws(NetfilterQueueError) {
                _ = try NetfilterQueueSocket(queue: QueueNumber(14))
                return (nil, first.portID)
            } catch {
                return (error, first.portID)
            }
        }
        // The kernel answers EPERM (nfqnl_recv_config checks the owner's port id before the bind command).
        #expect(error == NetfilterQueueError(
            call: "bind queue", errno: EPERM,
            message: "queue 14 is already bound by another process (netlink port id \(owner))"))
        #expect(error?.isQueueAlreadyBound == true)
    }

    @Test func verdictForAnUnknownPacketIsCounted() throws {
        let namespace = try QueueTestNamespace(tag: "enoent")
        let counts: [Int32] = try namespace.onThread {
            let socket = try NetfilterQueueSocket(
                queue: QueueNumber(15), configuration: QueueConfiguration(receiveTimeout: .milliseconds(100)))
            var verdicts = VerdictBatch(capacity: 1)
            verdicts.append(packetID: 4242, verdict: .accept)
            try socket.sendVerdicts(verdicts)
            var batch = ReceivedBatch(capacity: 4)
            let received = try socket.receive(into: &batch)
            return [Int32(received), Int32(socket.verdictErrors), socket.lastVerdictErrno]
        }
        #expect(counts == [0, 1, ENOENT])
    }

    @Test func receiveTimesOutWithZero() throws {
        let namespace = try QueueTestNamespace(tag: "idle")
        let (count, elapsed): (Int, Duration) = try namespace.onThread {
            let socket = try NetfilterQueueSocket(
                queue: QueueNumber(16), configuration: QueueConfiguration(receiveTimeout: .milliseconds(50)))
            var batch = ReceivedBatch(capacity: 4)
            let clock = ContinuousClock()
            let start = clock.now
            let count = try socket.receive(into: &batch)
            return (count, clock.now - start)
        }
        #expect(count == 0)
        #expect(elapsed >= .milliseconds(40) && elapsed < .seconds(2))
    }
}
