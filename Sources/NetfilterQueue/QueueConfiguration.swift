/// How a ``NetfilterQueueSocket`` asks the kernel to queue packets, and how it receives them.
public struct QueueConfiguration: Hashable, Sendable {
    /// How many bytes of each packet the kernel copies (`NFQNL_COPY_PACKET` range). 128 covers IPv6 with
    /// extension headers plus the transport ports.
    public var copyRange: UInt16
    /// `NFQA_CFG_F_FAIL_OPEN`: when the queue is full or the socket cannot take a message, the kernel accepts the
    /// packet instead of dropping it.
    public var failOpen: Bool
    /// `NFQA_CFG_F_GSO`: the kernel queues GSO super-packets whole instead of segmenting them first.
    public var gso: Bool
    /// `NFQA_CFG_QUEUE_MAXLEN`: how many packets may wait for a verdict; nil keeps the kernel default (1024).
    public var maximumQueueLength: UInt32?
    /// The socket receive buffer in bytes (`SO_RCVBUFFORCE`, falling back to `SO_RCVBUF` without CAP_NET_ADMIN).
    public var receiveBufferSize: Int
    /// The most messages one ``NetfilterQueueSocket/receive(into:)`` takes (one `recvmmsg` call).
    public var batchCapacity: Int
    /// How long a receive waits for the first message before returning zero (`SO_RCVTIMEO`); nil waits forever.
    public var receiveTimeout: Duration?

    /// Creates a configuration; the defaults suit a first-packet verdict worker.
    public init(
        copyRange: UInt16 = 128, failOpen: Bool = false, gso: Bool = true, maximumQueueLength: UInt32? = nil,
        receiveBufferSize: Int = 8 << 20, batchCapacity: Int = 64, receiveTimeout: Duration? = .milliseconds(200)
    ) {
        self.copyRange = copyRange
        self.failOpen = failOpen
        self.gso = gso
        self.maximumQueueLength = maximumQueueLength
        self.receiveBufferSize = receiveBufferSize
        self.batchCapacity = batchCapacity
        self.receiveTimeout = receiveTimeout
    }
}
