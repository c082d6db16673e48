/// One packet the kernel queued, as delivered in a ``ReceivedBatch``.
///
/// `payload` points into the socket's receive buffers and stays valid only until the next receive on that socket.
@frozen
public struct ReceivedPacket {
    /// The kernel's id for this packet in its queue; a verdict names it.
    public var packetID: UInt32
    /// The link-layer protocol (`ETH_P_IP` 0x0800, `ETH_P_IPV6` 0x86DD), host byte order.
    public var hardwareProtocol: UInt16
    /// The netfilter hook that queued it (`NF_INET_PRE_ROUTING` 0 … `NF_INET_POST_ROUTING` 4).
    public var hook: UInt8
    /// The packet mark (`skb->mark`), zero when unset.
    public var mark: UInt32
    /// The packet's full length when the kernel copied less (`NFQA_CAP_LEN`); otherwise `payload.count`.
    public var originalLength: Int
    /// The first bytes of the packet, network header first, at most the configured copy range.
    public var payload: UnsafeRawBufferPointer

    /// Creates a received packet record.
    @inlinable
    public init(
        packetID: UInt32, hardwareProtocol: UInt16, hook: UInt8, mark: UInt32, originalLength: Int,
        payload: UnsafeRawBufferPointer
    ) {
        self.packetID = packetID
        self.hardwareProtocol = hardwareProtocol
        self.hook = hook
        self.mark = mark
        self.originalLength = originalLength
        self.payload = payload
    }
}
