/// A failed system call: which call (with its argument where that helps, such as an address
/// or a path) and the `errno` it left.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, such as `"bind(127.0.0.1:9470)"` or `"inotify_add_watch(/etc/tollgate)"`.
    public let call: String
    /// The error number the call left in `errno`.
    public let errno: Errno

    /// Creates an error for `call` failing with `errno`.
    public init(call: String, errno: Errno) {
        self.call = call
        self.errno = errno
    }

    /// `"bind(127.0.0.1:9470) failed: Address already in use (EADDRINUSE, errno 98)"`.
    public var description: String {
        "\(call) failed: \(errno)"
    }
}
