/// Input that LinuxSupport rejects before making any system call: a malformed `HOST:PORT`,
/// an invalid Prometheus metric name, an unusable `NOTIFY_SOCKET`.
public struct InvalidValueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What the value was meant to be, such as `"listen address"` or `"metric name"`.
    public let what: String
    /// The rejected value, verbatim.
    public let value: String
    /// Why it was rejected.
    public let reason: String

    /// Creates an error for `value`, meant to be a `what`, rejected because of `reason`.
    public init(what: String, value: String, reason: String) {
        self.what = what
        self.value = value
        self.reason = reason
    }

    /// `"invalid listen address \"::1\": ..."`.
    public var description: String {
        "invalid \(what) \"\(value)\": \(reason)"
    }
}
