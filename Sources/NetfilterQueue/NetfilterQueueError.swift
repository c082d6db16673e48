internal import CNetfilterQueue
import Glibc

/// A failed system or library call on an NFQUEUE socket: the call, its `errno`, and what it means for the queue.
public struct NetfilterQueueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The C call that failed (`mnl_socket_open`, `recvmmsg`, `sendto`, a configuration command …).
    public var call: String
    /// The `errno` value the call left, or the negated error of the kernel's netlink answer.
    public var errno: Int32
    /// A human explanation, e.g. "queue 3 is already bound by another process".
    public var message: String

    /// Creates an error.
    public init(call: String, errno: Int32, message: String) {
        self.call = call
        self.errno = errno
        self.message = message
    }

    /// Whether the kernel refused to bind because another netlink socket owns the queue (it answers `EPERM`).
    public var isQueueAlreadyBound: Bool { call == "bind queue" && message.contains("already bound by another") }

    public var description: String {
        "\(call): \(message) (errno \(self.errno): \(String(cString: strerror(self.errno))))"
    }
}
