internal import Glibc

/// The one way LinuxSupport calls the operating system: run the call, read `errno` at once,
/// retry on `EINTR`, and throw a ``SystemError`` naming the call otherwise.
public enum SystemCall {
    /// Runs `body`, a C call that returns `-1` and sets `errno` on failure, and returns its result.
    ///
    /// - Parameters:
    ///   - call: The name for errors, such as `"accept4"` or `"bind(127.0.0.1:9470)"`.
    ///   - retryOnInterrupt: Whether to call again after `EINTR`. Pass `false` for `close`,
    ///     whose descriptor is already released on Linux when it reports `EINTR`.
    ///   - body: The call itself.
    /// - Throws: ``SystemError`` with `call` and the `errno` left by the failing call.
    @inlinable
    public static func run<Result: FixedWidthInteger>(
        _ call: @autoclosure () -> String,
        retryOnInterrupt: Bool = true,
        _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result != -1 {
                return result
            }
            let error = Errno.current
            if error == .interrupted && retryOnInterrupt {
                continue
            }
            throw SystemError(call: call(), errno: error)
        }
    }

    /// Closes a descriptor, reporting failure rather than swallowing it.
    ///
    /// `EINTR` is not retried: on Linux the descriptor is released even then, and a retry could
    /// close a descriptor another thread has just been given. The corresponding C function is `close`.
    public static func close(_ descriptor: Int32, what: String = "close") throws(SystemError) {
        _ = try run(what, retryOnInterrupt: false) { Glibc.close(descriptor) }
    }
}
