internal import Glibc

/// A POSIX error number, as left in `errno` by a failed system call.
///
/// The corresponding C variable is `errno`; names follow `<errno.h>`.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw C error number.
    public let rawValue: Int32

    /// Wraps a raw C error number.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The value of `errno` for the calling thread, read now.
    public static var current: Errno {
        Errno(rawValue: errno)
    }

    /// `EINTR`: the call was interrupted by a signal handler.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EAGAIN`/`EWOULDBLOCK`: the operation would block, or a socket timeout expired.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EADDRINUSE`: the local address is already in use.
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `ENOENT`: no such file or directory.
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `EBADF`: bad file descriptor.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `EINVAL`: invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `ECONNREFUSED`: nobody listens on the remote address.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `EPIPE`: the peer closed the connection.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ECONNRESET`: the peer reset the connection.
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `ENAMETOOLONG`: a path or socket name is too long.
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// `EACCES`: permission denied.
    public static let permissionDenied = Errno(rawValue: EACCES)

    /// The symbolic name (`"EADDRINUSE"`) when known, else `"errno N"`.
    public var name: String {
        switch rawValue {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case ESRCH: return "ESRCH"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case EBADF: return "EBADF"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EFAULT: return "EFAULT"
        case EBUSY: return "EBUSY"
        case EEXIST: return "EEXIST"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EINVAL: return "EINVAL"
        case EMFILE: return "EMFILE"
        case ENFILE: return "ENFILE"
        case ENOSPC: return "ENOSPC"
        case EPIPE: return "EPIPE"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        case ENOTSOCK: return "ENOTSOCK"
        case EADDRINUSE: return "EADDRINUSE"
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL"
        case EAFNOSUPPORT: return "EAFNOSUPPORT"
        case ECONNRESET: return "ECONNRESET"
        case ECONNREFUSED: return "ECONNREFUSED"
        case ENOBUFS: return "ENOBUFS"
        case ENOTCONN: return "ENOTCONN"
        case ETIMEDOUT: return "ETIMEDOUT"
        case ENOSYS: return "ENOSYS"
        default: return "errno \(rawValue)"
        }
    }

    /// The C library's message for this error (the corresponding C function is `strerror_r`).
    public var message: String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer -> String in
            guard let base = buffer.baseAddress else { return name }
            // The XSI variant: returns 0 and fills the buffer on success.
            guard strerror_r(rawValue, base, buffer.count) == 0 else { return name }
            buffer[buffer.count - 1] = 0
            return String(cString: base)
        }
    }

    /// `"Address already in use (EADDRINUSE, errno 98)"`.
    public var description: String {
        "\(message) (\(name), errno \(rawValue))"
    }
}
