internal import Glibc
public import LinuxSupport
public import NetworkTypes

/// A netlink socket to the kernel's ip sets and nft sets (`NETLINK_NETFILTER`), non-blocking: the workers send
/// element adds without waiting, and the kernel's error replies (a full set, a set that vanished) are drained and
/// counted later. Not shared between threads.
public final class AllowSetSocket {
    private let descriptor: Int32
    private let receiveBuffer: UnsafeMutableRawBufferPointer

    /// Opens the socket in the caller's network namespace.
    ///
    /// - Throws: ``SystemError`` naming `socket`.
    public init() throws(SystemError) {
        descriptor = try SystemCall.run("socket(AF_NETLINK, NETLINK_NETFILTER)") {
            socket(
                AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                12 /* NETLINK_NETFILTER */)
        }
        // No bind: the kernel gives the socket a port id at its first send, and replies come back to it.
        receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 4)
    }

    deinit {
        try? SystemCall.close(descriptor)  // nothing is pending on a netlink socket we only sent on
        receiveBuffer.deallocate()
    }

    /// Ends `messages` (``AllowSetMessages/finish()``: an nft batch is closed) and sends them all in one datagram.
    /// The corresponding C function is `send`. The kernel handles the messages in this call, in the caller's
    /// context; an nft batch is one transaction.
    ///
    /// - Throws: ``SystemError`` (`EAGAIN` when the kernel cannot take it now: the adds are then lost, which costs
    ///   only queued packets later).
    public func send(_ messages: inout AllowSetMessages) throws(SystemError) {
        messages.finish()
        let bytes = messages.bytes
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = try SystemCall.run("send(ipset)") { Glibc.send(descriptor, base, bytes.count, 0) }
    }

    /// Reads every reply waiting (without blocking) and returns how many were errors, with the last error's
    /// errno (positive; ipset's own codes start at 4097).
    public func drainReplies() -> (errors: Int, lastError: Int32) {
        var errors = 0
        var lastError: Int32 = 0
        while true {
            let received = recv(descriptor, receiveBuffer.baseAddress, receiveBuffer.count, Int32(MSG_DONTWAIT))
            if received <= 0 { break }
            Self.forEachError(in: UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<received])) { code in
                errors += 1
                lastError = code
            }
        }
        return (errors, lastError)
    }

    /// Flushes `sets` (one per family) of `kind` and waits up to one second for the kernel's acknowledgements.
    ///
    /// - Throws: ``SystemError`` naming the set whose flush failed, or `poll` when no answer came.
    public func flush(_ sets: [(name: AllowSetName, family: AddressFamily)], kind: AllowSetKind = .ipset)
        throws(SystemError)
    {
        _ = drainReplies()
        var messages = AllowSetMessages(capacity: 512, kind: kind)
        for set in sets { messages.appendFlush(set.name, family: set.family) }
        try send(&messages)
        var answered = 0
        while answered < sets.count {
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = try SystemCall.run("poll(ipset flush)") { poll(&descriptorSet, 1, 1000) }
            if ready == 0 { throw SystemError(call: "poll(ipset flush): no answer", errno: Errno(rawValue: ETIMEDOUT)) }
            let received = recv(descriptor, receiveBuffer.baseAddress, receiveBuffer.count, Int32(MSG_DONTWAIT))
            if received <= 0 { continue }
            var failure: Int32 = 0
            answered += Self.forEachAcknowledgement(in: UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<received])) {
                failure = $0
            }
            if failure != 0 {
                throw SystemError(
                    call: "ipset flush \(sets.map(\.name.text).joined(separator: ", "))", errno: Errno(rawValue: failure))
            }
        }
    }

    /// Calls `body` with the errno of every `NLMSG_ERROR` message carrying an error in `bytes`.
    static func forEachError(in bytes: UnsafeRawBufferPointer, _ body: (Int32) -> Void) {
        _ = forEachAcknowledgement(in: bytes) { code in if code != 0 { body(code) } }
    }

    /// Calls `body` with the errno (0 for an acknowledgement) of every `NLMSG_ERROR` message in `bytes`; returns
    /// how many there were. A truncated message ends the walk.
    static func forEachAcknowledgement(in bytes: UnsafeRawBufferPointer, _ body: (Int32) -> Void) -> Int {
        var offset = 0
        var count = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            guard length >= 16, offset + length <= bytes.count else { break }
            if type == 2 /* NLMSG_ERROR */ && length >= 20 {
                let code = bytes.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self)
                body(-code)
                count += 1
            }
            offset += (length + 3) & ~3
        }
        return count
    }
}
