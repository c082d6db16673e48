internal import CNetfilterQueue
import Glibc

/// A netlink socket bound to one NFQUEUE queue: batched receive of queued packets and batched verdicts.
///
/// One socket per worker thread; it is not thread-safe and not `Sendable`. Everything the per-packet path touches —
/// receive buffers, `mmsghdr`/`iovec` arrays, the attribute table and the verdict buffer — is allocated once in
/// `init`; ``receive(into:)`` and ``sendVerdicts(_:)`` allocate nothing and take no locks.
///
/// Built on libmnl and libnetfilter_queue's `nfq_nlmsg_*` helpers. Closing the socket (deinit) makes the kernel
/// destroy the queue instance and drop every packet still waiting for a verdict (`nfqnl_rcv_nl_event`).
public final class NetfilterQueueSocket {
    /// The queue this socket is bound to.
    public let queue: QueueNumber
    /// The configuration the socket was opened with.
    public let configuration: QueueConfiguration
    /// The netlink port id the kernel knows this socket by (the "peer portid" column in the statistics).
    public let portID: UInt32

    /// How many times the kernel reported `ENOBUFS`: the receive buffer was full and messages were lost. The kernel
    /// dropped those packets (or accepted them, with fail-open) and counted them as "user dropped".
    public private(set) var receiveBufferOverflows = 0
    /// How many error answers the kernel sent for verdicts (an unknown packet id gives `ENOENT`).
    public private(set) var verdictErrors = 0
    /// The `errno` of the most recent verdict error, zero if none.
    public private(set) var lastVerdictErrno: Int32 = 0
    /// Datagrams cut because they were larger than a receive buffer (`MSG_TRUNC`).
    public private(set) var truncatedMessages = 0
    /// Netlink messages that could not be parsed; after the first, batch verdicts are no longer used.
    public private(set) var malformedMessages = 0
    /// Calls to ``receive(into:)`` that delivered at least one packet.
    public private(set) var receiveCalls = 0
    /// Packets delivered by ``receive(into:)``.
    public private(set) var receivedPackets = 0
    /// `NFQNL_MSG_VERDICT_BATCH` messages sent.
    public private(set) var batchVerdictMessages = 0
    /// `NFQNL_MSG_VERDICT` messages sent.
    public private(set) var singleVerdictMessages = 0
    /// `sendto` calls that carried verdicts.
    public private(set) var verdictSends = 0

    private let socket: OpaquePointer
    private let descriptor: Int32
    private let capacity: Int
    private let messageBufferSize: Int
    private let receiveBuffers: UnsafeMutableRawPointer
    private let messages: UnsafeMutablePointer<tg_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let attributes: UnsafeMutablePointer<UnsafeMutablePointer<nlattr>?>
    private let sendBuffer: UnsafeMutableRawPointer
    private let sendBufferSize: Int
    /// Packets received and not yet verdicted; batch verdicts are exact only when one send covers all of them.
    private var outstanding = 0
    private var batchVerdictsAllowed = true

    /// The largest netlink verdict message: header, nfgenmsg, verdict header attribute and mark attribute.
    private static let verdictMessageRoom = 64
    private static let packetMessageType = UInt16(NFNL_SUBSYS_QUEUE) << 8 | UInt16(NFQNL_MSG_PACKET.rawValue)
    private static let attributeCount = Int(__NFQA_MAX.rawValue)

    /// Opens a netlink socket, binds it to `queue` and configures copy mode, flags, queue length and buffers.
    ///
    /// The socket lives in the network namespace of the calling thread.
    /// - Throws: ``NetfilterQueueError``; binding a queue another socket owns fails with ``NetfilterQueueError/isQueueAlreadyBound``.
    public init(queue: QueueNumber, configuration: QueueConfiguration = QueueConfiguration()) throws(NetfilterQueueError) {
        precondition(configuration.batchCapacity > 0, "QueueConfiguration.batchCapacity must be positive")
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw NetfilterQueueError(call: "mnl_socket_open", errno: tg_errno(), message: "cannot open a netfilter netlink socket")
        }
        let descriptor = mnl_socket_get_fd(socket)
        let setupBufferSize = 8192
        let setupBuffer = UnsafeMutableRawPointer.allocate(byteCount: setupBufferSize, alignment: 16)
        defer { setupBuffer.deallocate() }
        do throws(NetfilterQueueError) {
            guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
                throw NetfilterQueueError(call: "mnl_socket_bind", errno: tg_errno(), message: "cannot bind the netlink socket")
            }
            try Self.configureSocket(descriptor, configuration)
            let portID = mnl_socket_get_portid(socket)
            try Self.request(socket, portID: portID, buffer: setupBuffer, size: setupBufferSize, call: "bind queue", queue: queue) {
                nlh in nfq_nlmsg_cfg_put_cmd(nlh, UInt16(AF_UNSPEC), UInt8(NFQNL_CFG_CMD_BIND.rawValue))
            }
            try Self.request(socket, portID: portID, buffer: setupBuffer, size: setupBufferSize, call: "set queue flags", queue: queue) {
                nlh in
                let flags = (configuration.failOpen ? UInt32(NFQA_CFG_F_FAIL_OPEN) : 0)
                    | (configuration.gso ? UInt32(NFQA_CFG_F_GSO) : 0)
                mnl_attr_put_u32(nlh, UInt16(NFQA_CFG_FLAGS.rawValue), flags.bigEndian)
                mnl_attr_put_u32(nlh, UInt16(NFQA_CFG_MASK.rawValue), UInt32(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO).bigEndian)
                if let length = configuration.maximumQueueLength { nfq_nlmsg_cfg_put_qmaxlen(nlh, length) }
            }
            // Copy mode last: until it is set the kernel queues nothing (copy mode NONE refuses packets).
            try Self.request(socket, portID: portID, buffer: setupBuffer, size: setupBufferSize, call: "set copy mode", queue: queue) {
                nlh in nfq_nlmsg_cfg_put_params(nlh, UInt8(NFQNL_COPY_PACKET.rawValue), Int32(configuration.copyRange))
            }
            self.portID = portID
        } catch {
            mnl_socket_close(socket)
            throw error
        }
        self.socket = socket
        self.descriptor = descriptor
        self.queue = queue
        self.configuration = configuration
        capacity = configuration.batchCapacity
        // Room for the packet bytes plus every attribute the kernel may add (interfaces, mark, hardware address,
        // timestamp, uid/gid, skb info, cap len): nfqnl_build_packet_message sizes its message the same way.
        messageBufferSize = (Int(configuration.copyRange) + 1024 + 15) & ~15
        receiveBuffers = .allocate(byteCount: messageBufferSize * capacity, alignment: 16)
        messages = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity)
        for index in 0..<capacity {
            iovecs[index] = iovec(iov_base: receiveBuffers + index * messageBufferSize, iov_len: messageBufferSize)
            var header = msghdr()
            header.msg_iov = iovecs + index
            header.msg_iovlen = 1
            messages[index] = tg_mmsghdr(msg_hdr: header, msg_len: 0)
        }
        attributes = .allocate(capacity: Self.attributeCount + 1)
        attributes.initialize(repeating: nil, count: Self.attributeCount + 1)
        sendBufferSize = max(capacity, 16) * Self.verdictMessageRoom
        sendBuffer = .allocate(byteCount: sendBufferSize, alignment: 16)
    }

    deinit {
        mnl_socket_close(socket)
        receiveBuffers.deallocate()
        messages.deallocate()
        iovecs.deallocate()
        attributes.deallocate()
        sendBuffer.deallocate()
    }

    // MARK: - Receive

    /// Receives up to `batch.capacity` (and the configured batch capacity) queued packets with one `recvmmsg` call.
    ///
    /// Waits for the first packet up to the configured receive timeout, then takes whatever else is already waiting
    /// (`MSG_WAITFORONE`). `EINTR` is retried; `ENOBUFS` is counted in ``receiveBufferOverflows`` and the receive
    /// continues. Every delivered packet must get exactly one verdict through ``sendVerdicts(_:)``.
    /// - Returns: the number of packets in `batch`; zero when the timeout passed with nothing queued.
    public func receive(into batch: inout ReceivedBatch) throws(NetfilterQueueError) -> Int {
        batch.removeAll()
        let length = UInt32(min(batch.capacity, capacity))
        var received: Int32
        while true {
            received = tg_recvmmsg(descriptor, messages, length, TG_MSG_WAITFORONE)
            if received >= 0 { break }
            let code = tg_errno()
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                return 0
            case ENOBUFS:
                // The kernel lost messages; their packets were dropped (or accepted with fail-open) and are not queued.
                receiveBufferOverflows += 1
                continue
            default:
                throw NetfilterQueueError(call: "recvmmsg", errno: code, message: "receive on queue \(queue) failed")
            }
        }
        for index in 0..<Int(received) {
            let message = messages[index]
            if message.msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 { truncatedMessages += 1 }
            let size = min(Int(message.msg_len), messageBufferSize)
            walkMessages(receiveBuffers + index * messageBufferSize, size, into: &batch)
        }
        outstanding += batch.count
        receivedPackets += batch.count
        if batch.count > 0 { receiveCalls += 1 }
        return batch.count
    }

    /// Walks the netlink messages of one datagram: packets go into `batch`, error answers are counted.
    private func walkMessages(_ base: UnsafeMutableRawPointer, _ size: Int, into batch: inout ReceivedBatch) {
        var offset = 0
        let headerSize = MemoryLayout<nlmsghdr>.size
        while size - offset >= headerSize {
            let message = base + offset
            let messageLength = Int(message.load(as: UInt32.self))
            guard messageLength >= headerSize, messageLength <= size - offset else {
                malformedMessages += 1
                batchVerdictsAllowed = false
                return
            }
            let type = message.load(fromByteOffset: 4, as: UInt16.self)
            if type == UInt16(NLMSG_ERROR) {
                if messageLength >= headerSize + 4 {
                    let error = message.load(fromByteOffset: headerSize, as: Int32.self)
                    if error != 0 {
                        verdictErrors += 1
                        lastVerdictErrno = -error
                    }
                }
            } else if type == Self.packetMessageType {
                if let packet = parsePacket(message.assumingMemoryBound(to: nlmsghdr.self)) {
                    if !batch.append(packet) {
                        // One packet per datagram is what the kernel sends; should that change, give it back.
                        sendRepeat(packet.packetID)
                    }
                } else {
                    malformedMessages += 1
                    batchVerdictsAllowed = false
                }
            }
            offset += (messageLength + 3) & ~3
        }
    }

    /// Reads the packet header, payload, mark and capture length attributes of an `NFQNL_MSG_PACKET` message.
    private func parsePacket(_ header: UnsafeMutablePointer<nlmsghdr>) -> ReceivedPacket? {
        guard nfq_nlmsg_parse(header, attributes) >= 0, let packetHeader = attributes[Int(NFQA_PACKET_HDR.rawValue)]
        else { return nil }
        // struct nfqnl_msg_packet_hdr: __be32 packet_id, __be16 hw_protocol, __u8 hook (length checked by the parse).
        let fields = UnsafeRawPointer(mnl_attr_get_payload(packetHeader)!)
        let packetID = UInt32(bigEndian: fields.loadUnaligned(as: UInt32.self))
        let hardwareProtocol = UInt16(bigEndian: fields.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        let hook = fields.load(fromByteOffset: 6, as: UInt8.self)
        var payload = UnsafeRawBufferPointer(start: nil, count: 0)
        if let attribute = attributes[Int(NFQA_PAYLOAD.rawValue)] {
            payload = UnsafeRawBufferPointer(
                start: mnl_attr_get_payload(attribute), count: Int(mnl_attr_get_payload_len(attribute)))
        }
        var mark: UInt32 = 0
        if let attribute = attributes[Int(NFQA_MARK.rawValue)] { mark = UInt32(bigEndian: mnl_attr_get_u32(attribute)) }
        var originalLength = payload.count
        if let attribute = attributes[Int(NFQA_CAP_LEN.rawValue)] {
            originalLength = Int(UInt32(bigEndian: mnl_attr_get_u32(attribute)))
        }
        return ReceivedPacket(
            packetID: packetID, hardwareProtocol: hardwareProtocol, hook: hook, mark: mark,
            originalLength: originalLength, payload: payload)
    }

    // MARK: - Setup helpers

    private static func configureSocket(_ descriptor: Int32, _ configuration: QueueConfiguration) throws(NetfilterQueueError) {
        var size = Int32(clamping: configuration.receiveBufferSize)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            // Without CAP_NET_ADMIN only SO_RCVBUF works, capped by net.core.rmem_max.
            guard setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, length) == 0 else {
                throw NetfilterQueueError(call: "setsockopt(SO_RCVBUF)", errno: tg_errno(), message: "cannot size the receive buffer")
            }
        }
        // Keep ENOBUFS reports on: a full receive buffer must be counted, not silently ignored.
        var off: Int32 = 0
        guard setsockopt(descriptor, Int32(SOL_NETLINK), NETLINK_NO_ENOBUFS, &off, length) == 0 else {
            throw NetfilterQueueError(call: "setsockopt(NETLINK_NO_ENOBUFS)", errno: tg_errno(), message: "cannot enable ENOBUFS reports")
        }
        if let timeout = configuration.receiveTimeout {
            let (seconds, attoseconds) = timeout.components
            var value = timeval(tv_sec: Int(max(seconds, 0)), tv_usec: Int(max(attoseconds, 0) / 1_000_000_000_000))
            if value.tv_sec == 0 && value.tv_usec == 0 { value.tv_usec = 1 }  // zero would mean "wait forever"
            guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw NetfilterQueueError(call: "setsockopt(SO_RCVTIMEO)", errno: tg_errno(), message: "cannot set the receive timeout")
            }
        }
    }

    private static var sequence: UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    /// Sends one `NFQNL_MSG_CONFIG` request with `NLM_F_ACK` and waits for the kernel's answer.
    ///
    /// A packet that arrives before the answer (copy mode was just enabled) is handed back with `NF_REPEAT`, so
    /// the hook queues it again once the socket is ready.
    private static func request(
        _ socket: OpaquePointer, portID: UInt32, buffer: UnsafeMutableRawPointer, size: Int, call: String,
        queue: QueueNumber, _ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) throws(NetfilterQueueError) {
        let characters = buffer.assumingMemoryBound(to: CChar.self)
        guard let header = nfq_nlmsg_put(characters, Int32(NFQNL_MSG_CONFIG.rawValue), UInt32(queue.rawValue)) else {
            throw NetfilterQueueError(call: "nfq_nlmsg_put", errno: EINVAL, message: "cannot build a config message")
        }
        header.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        let seq = sequence
        header.pointee.nlmsg_seq = seq
        fill(header)
        guard mnl_socket_sendto(socket, buffer, Int(header.pointee.nlmsg_len)) >= 0 else {
            throw NetfilterQueueError(call: call, errno: tg_errno(), message: "cannot send the \(call) request for queue \(queue)")
        }
        while true {
            let received = mnl_socket_recvfrom(socket, buffer, size)
            if received < 0 {
                let code = tg_errno()
                if code == EINTR { continue }
                throw NetfilterQueueError(call: call, errno: code, message: "no answer to the \(call) request for queue \(queue)")
            }
            var offset = 0
            let total = Int(received)
            let headerSize = MemoryLayout<nlmsghdr>.size
            while total - offset >= headerSize {
                let message = buffer + offset
                let length = Int(message.load(as: UInt32.self))
                guard length >= headerSize, length <= total - offset else { break }
                let type = message.load(fromByteOffset: 4, as: UInt16.self)
                let messageSeq = message.load(fromByteOffset: 8, as: UInt32.self)
                if type == UInt16(NLMSG_ERROR), messageSeq == seq, length >= headerSize + 4 {
                    let error = -message.load(fromByteOffset: headerSize, as: Int32.self)
                    if error == 0 { return }
                    throw NetfilterQueueError(call: call, errno: error, message: explain(error, call: call, queue: queue))
                }
                if type == packetMessageType {
                    // Parse just the id: the attribute after nfgenmsg is NFQA_PACKET_HDR (nfqnl_build_packet_message).
                    let attribute = headerSize + 4
                    if length >= attribute + 8 {
                        let id = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: attribute + 4, as: UInt32.self))
                        repeatPacket(socket, id, queue: queue)
                    }
                }
                offset += (length + 3) & ~3
            }
        }
    }

    /// Explains a refused configuration request.
    ///
    /// The kernel answers `EPERM` both when another socket owns the queue (`nfqnl_recv_config` checks the peer port
    /// id before the command) and when the caller lacks CAP_NET_ADMIN (nfnetlink); the statistics file tells the
    /// two apart. `EBUSY` means this very socket already bound the queue.
    private static func explain(_ error: Int32, call: String, queue: QueueNumber) -> String {
        switch (error, call) {
        case (EPERM, "bind queue"):
            if let owner = try? QueueStatistics.read().first(where: { $0.queue == queue }) {
                return "queue \(queue) is already bound by another process (netlink port id \(owner.peerPortID))"
            }
            return "not permitted to bind queue \(queue): binding needs CAP_NET_ADMIN in the socket's network namespace"
        case (EBUSY, "bind queue"): return "queue \(queue) is already bound by this socket"
        case (EPERM, _): return "not permitted on queue \(queue): configuring needs CAP_NET_ADMIN and the queue's socket"
        case (EOPNOTSUPP, _): return "the kernel does not support a requested flag on queue \(queue)"
        default: return "the kernel refused \(call) on queue \(queue)"
        }
    }

    private static func repeatPacket(_ socket: OpaquePointer, _ id: UInt32, queue: QueueNumber) {
        var storage = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &storage) { raw in
            let characters = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            guard let header = nfq_nlmsg_put(characters, Int32(NFQNL_MSG_VERDICT.rawValue), UInt32(queue.rawValue)) else { return }
            nfq_nlmsg_verdict_put(header, Int32(bitPattern: id), Int32(Verdict.repeat.rawValue))
            _ = mnl_socket_sendto(socket, raw.baseAddress!, Int(header.pointee.nlmsg_len))
        }
    }

    private func sendRepeat(_ id: UInt32) { Self.repeatPacket(socket, id, queue: queue) }

    // MARK: - Verdicts

    /// Sends every verdict of `verdicts` in one `sendto` (more only if the batch exceeds the preallocated buffer).
    ///
    /// Uses one `NFQNL_MSG_VERDICT_BATCH` for the leading run of plain accepts when that is exact, and one
    /// `NFQNL_MSG_VERDICT` per remaining packet (drops and marks are always individual).
    ///
    /// Kernel semantics (net/netfilter/nfnetlink_queue.c, `nfqnl_recv_verdict_batch` and `__nfqnl_enqueue_packet`,
    /// https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/net/netfilter/nfnetlink_queue.c):
    /// a batch verdict for id N applies to *every* packet still in the queue whose id is not after N (ids compared
    /// with wrap-around). Ids are assigned in queue order under the queue lock and messages are unicast under the
    /// same lock, so this socket sees ids in increasing order; a message lost to ENOBUFS is never enqueued (the
    /// packet is dropped, or accepted with fail-open), so gaps in ids hold no queued packets. Therefore a batch for
    /// id N is exact when this send covers every packet received and not yet verdicted, in increasing id order, and
    /// every packet up to N is a plain accept. Otherwise every verdict is sent individually.
    ///
    /// Errors the kernel reports for individual verdicts (e.g. `ENOENT` for an unknown id) arrive on the next
    /// receive and are counted in ``verdictErrors``.
    public func sendVerdicts(_ verdicts: borrowing VerdictBatch) throws(NetfilterQueueError) {
        let count = verdicts.count
        guard count > 0 else { return }
        var covered = 0
        if batchVerdictsAllowed && count == outstanding && count > 1 {
            var increasing = true
            for index in 1..<count where Int32(bitPattern: verdicts.storage[index].packetID &- verdicts.storage[index - 1].packetID) <= 0 {
                increasing = false
                break
            }
            if increasing {
                while covered < count, verdicts.storage[covered].verdict == .accept, verdicts.storage[covered].mark == nil {
                    covered += 1
                }
            }
        }
        var offset = 0
        if covered > 1 {
            offset = putVerdict(at: offset, type: NFQNL_MSG_VERDICT_BATCH.rawValue, id: verdicts.storage[covered - 1].packetID,
                verdict: .accept, mark: nil)
            batchVerdictMessages += 1
        } else {
            covered = 0
        }
        for index in covered..<count {
            if offset + Self.verdictMessageRoom > sendBufferSize {
                try flush(offset)
                offset = 0
            }
            let entry = verdicts.storage[index]
            offset = putVerdict(at: offset, type: NFQNL_MSG_VERDICT.rawValue, id: entry.packetID, verdict: entry.verdict,
                mark: entry.mark)
            singleVerdictMessages += 1
        }
        try flush(offset)
        outstanding = max(outstanding - count, 0)
    }

    private func putVerdict(at offset: Int, type: UInt32, id: UInt32, verdict: Verdict, mark: UInt32?) -> Int {
        let characters = (sendBuffer + offset).assumingMemoryBound(to: CChar.self)
        let header = nfq_nlmsg_put(characters, Int32(type), UInt32(queue.rawValue))!
        nfq_nlmsg_verdict_put(header, Int32(bitPattern: id), Int32(verdict.rawValue))
        if let mark { nfq_nlmsg_verdict_put_mark(header, mark) }
        return offset + ((Int(header.pointee.nlmsg_len) + 3) & ~3)
    }

    private func flush(_ length: Int) throws(NetfilterQueueError) {
        guard length > 0 else { return }
        while true {
            if mnl_socket_sendto(socket, sendBuffer, length) >= 0 {
                verdictSends += 1
                return
            }
            let code = tg_errno()
            if code == EINTR { continue }
            throw NetfilterQueueError(call: "sendto", errno: code, message: "cannot send verdicts on queue \(queue)")
        }
    }
}
