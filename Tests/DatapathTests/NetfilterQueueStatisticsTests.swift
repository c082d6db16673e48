import NetfilterQueue
import Testing

@Suite struct NetfilterQueueStatisticsTests {
    @Test func parsesEveryColumnOfEveryLine() throws {
        // The layout of seq_show in net/netfilter/nfnetlink_queue.c ("%5u %6u %5u %1u %5u %5u %5u %8u %2d"),
        // two lines as a kernel with two bound queues writes them.
        let text = """
                0  12345     3 2   128     7     9     1234  1
            65535 4294967295     0 1     0     0     0        0  1

            """
        let statistics = try QueueStatistics.parse(text)
        #expect(statistics == [
            QueueStatistics(
                queue: QueueNumber(0), peerPortID: 12345, queueTotal: 3, copyMode: 2, copyRange: 128, queueDropped: 7,
                userDropped: 9, idSequence: 1234),
            QueueStatistics(
                queue: QueueNumber(65535), peerPortID: 4_294_967_295, queueTotal: 0, copyMode: 1, copyRange: 0,
                queueDropped: 0, userDropped: 0, idSequence: 0),
        ])
    }

    @Test func emptyFileHasNoQueues() throws {
        #expect(try QueueStatistics.parse("") == [])
    }

    @Test(arguments: ["0 1 2 3 4 5 6 7", "0 1 2 3 4 5 6 7 1 9", "x 1 2 3 4 5 6 7 1", "70000 1 2 3 4 5 6 7 1", "0 1 2 300 4 5 6 7 1"])
    func malformedLineIsAnError(_ line: String) {
        #expect(throws: NetfilterQueueError.self) { try QueueStatistics.parse(line) }
    }
}
