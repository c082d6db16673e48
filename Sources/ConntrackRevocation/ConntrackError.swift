internal import Glibc

/// A failed call into libnetfilter_conntrack (ctnetlink, the kernel's `nfnetlink_conntrack` subsystem), naming
/// the call and the `errno` it left.
public struct ConntrackError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The C call and what it was asked, such as `nfct_query(NFCT_Q_DUMP, IPv4)`.
    public var call: String
    /// The `errno` value the call left.
    public var errno: Int32

    /// Creates an error for `call` with `errno`.
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `<call>: <strerror> (errno <n>)`.
    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
