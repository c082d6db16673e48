import Foundation
import Glibc
import NetfilterQueue
import Testing

/// Packets per second through the socket layer for UDP first packets, accept-all. Opt-in (it takes seconds and
/// wants a release build): `TOLLGATE_NFQ_BENCH=1 swift test -c release --filter NetfilterQueueThroughput`.
@Suite(.serialized, .enabled(if: QueueTestNamespace.isSupported && ProcessInfo.processInfo.environment["TOLLGATE_NFQ_BENCH"] != nil,
    "set TOLLGATE_NFQ_BENCH=1 (and run as root) to measure"))
struct NetfilterQueueThroughputTests {
    struct Report: Sendable {
        var packets: Int
        var seconds: Double
        var histogram: [Int: Int]
        var batchMessages: Int
        var singleMessages: Int
        var sends: Int
        var overflows: Int
        var statistics: QueueStatistics?
    }

    @Test func udpFirstPacketsAcceptAll() throws {
        let total = Int(ProcessInfo.processInfo.environment["TOLLGATE_NFQ_BENCH_PACKETS"] ?? "") ?? 200_000
        let namespace = try QueueTestNamespace(tag: "bench")
        try namespace.exec([
            "iptables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "--dport", "20000:59999",
            "-m", "conntrack", "--ctstate", "NEW", "-j", "NFQUEUE", "--queue-num", "21",
        ])
        // One socket, a new destination port per datagram: every datagram is a new (unreplied) flow.
        let sender = """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(\(total)):
                s.sendto(b"x", ("127.0.0.1", 20000 + i % 40000))
            """
        let report: Report = try namespace.onThread {
            let socket = try NetfilterQueueSocket(
                queue: QueueNumber(21),
                configuration: QueueConfiguration(maximumQueueLength: 65536, batchCapacity: 64, receiveTimeout: .milliseconds(500)))
            var batch = ReceivedBatch(capacity: 64)
            var verdicts = VerdictBatch(capacity: 64)
            var histogram: [Int: Int] = [:]
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", sender]
            try process.run()
            let clock = ContinuousClock()
            var first: ContinuousClock.Instant?
            var last = clock.now
            var packets = 0
            while packets < total {
                let count = try socket.receive(into: &batch)
                if count == 0 {
                    if first != nil { break }  // the sender finished and the queue is idle
                    continue
                }
                if first == nil { first = clock.now }
                verdicts.removeAll()
                for index in 0..<count { verdicts.append(packetID: batch[index].packetID, verdict: .accept) }
                try socket.sendVerdicts(verdicts)
                packets += count
                last = clock.now
                histogram[count, default: 0] += 1
            }
            process.waitUntilExit()
            let elapsed = (last - (first ?? last)).components
            return Report(
                packets: packets, seconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18,
                histogram: histogram, batchMessages: socket.batchVerdictMessages,
                singleMessages: socket.singleVerdictMessages, sends: socket.verdictSends,
                overflows: socket.receiveBufferOverflows,
                statistics: try QueueStatistics.read().first { $0.queue == QueueNumber(21) })
        }
        let buckets = [1, 2, 4, 8, 16, 32, 64].map { upper in
            (upper, report.histogram.filter { $0.key <= upper && $0.key > upper / 2 }.map(\.value).reduce(0, +))
        }
        print("""
            nfqueue throughput: \(report.packets) packets in \(String(format: "%.3f", report.seconds)) s = \
            \(Int(Double(report.packets) / max(report.seconds, 1e-9))) packets/s
            receive calls by batch size (≤n): \(buckets.map { "\($0.0):\($0.1)" }.joined(separator: " "))
            verdict messages: \(report.batchMessages) batch, \(report.singleMessages) single, \(report.sends) sendto; \
            ENOBUFS \(report.overflows); kernel: \(String(describing: report.statistics))
            """)
        // Every packet the kernel queued (its id sequence) got its verdict, and none is left waiting.
        #expect(report.packets == Int(report.statistics?.idSequence ?? 0))
        #expect(report.statistics?.queueTotal == 0)
    }
}
