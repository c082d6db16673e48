import Glibc

/// One line of `/proc/net/netfilter/nfnetlink_queue`: the kernel's counters for one bound queue
/// (`seq_show` in net/netfilter/nfnetlink_queue.c).
public struct QueueStatistics: Hashable, Sendable {
    /// The queue number.
    public var queue: QueueNumber
    /// The netlink port id of the socket bound to the queue.
    public var peerPortID: UInt32
    /// Packets waiting for a verdict now.
    public var queueTotal: UInt32
    /// The copy mode (0 none, 1 meta, 2 packet).
    public var copyMode: UInt8
    /// The copy range in bytes.
    public var copyRange: UInt32
    /// Packets dropped because the queue was full (`queue_maxlen` reached, without fail-open).
    public var queueDropped: UInt32
    /// Packets dropped because the message could not be delivered to the socket (ENOBUFS), without fail-open.
    public var userDropped: UInt32
    /// The last packet id handed out.
    public var idSequence: UInt32

    /// Creates a statistics record.
    public init(
        queue: QueueNumber, peerPortID: UInt32, queueTotal: UInt32, copyMode: UInt8, copyRange: UInt32,
        queueDropped: UInt32, userDropped: UInt32, idSequence: UInt32
    ) {
        self.queue = queue
        self.peerPortID = peerPortID
        self.queueTotal = queueTotal
        self.copyMode = copyMode
        self.copyRange = copyRange
        self.queueDropped = queueDropped
        self.userDropped = userDropped
        self.idSequence = idSequence
    }

    /// The file the kernel writes, for the reading thread's network namespace (`/proc/net` follows the process's
    /// main thread, `thread-self` the calling thread, which matters after `setns`).
    public static let procPath = "/proc/thread-self/net/netfilter/nfnetlink_queue"

    /// Parses the file's text: one line per queue, nine whitespace-separated decimal columns (the last always 1).
    ///
    /// - Throws: ``NetfilterQueueError`` naming the line when a line has the wrong shape.
    public static func parse(_ text: String) throws(NetfilterQueueError) -> [QueueStatistics] {
        var result: [QueueStatistics] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            let numbers = fields.compactMap { UInt32($0) }
            guard fields.count == 9, numbers.count == 9, numbers[0] <= UInt16.max, numbers[3] <= UInt8.max else {
                throw NetfilterQueueError(
                    call: "parse \(procPath)", errno: EINVAL,
                    message: "line \(index + 1) is not nine decimal columns: \"\(line)\"")
            }
            result.append(QueueStatistics(
                queue: QueueNumber(UInt16(numbers[0])), peerPortID: numbers[1], queueTotal: numbers[2],
                copyMode: UInt8(numbers[3]), copyRange: numbers[4], queueDropped: numbers[5], userDropped: numbers[6],
                idSequence: numbers[7]))
        }
        return result
    }

    /// Reads and parses the statistics of every queue bound in the calling thread's network namespace.
    public static func read(path: String = procPath) throws(NetfilterQueueError) -> [QueueStatistics] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw NetfilterQueueError(call: "open", errno: errno, message: "cannot open \(path)")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var readError: Int32 = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                readError = errno
                break
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        let closeError = close(descriptor) == 0 ? 0 : errno
        if readError != 0 { throw NetfilterQueueError(call: "read", errno: readError, message: "cannot read \(path)") }
        if closeError != 0 { throw NetfilterQueueError(call: "close", errno: closeError, message: "cannot close \(path)") }
        return try parse(String(decoding: bytes, as: UTF8.self))
    }
}
