/// Why an ``HTTPClient`` request got no usable answer.
public enum HTTPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call failed: nothing listens (`ECONNREFUSED`), the timeout expired (`EAGAIN`), the peer reset...
    case system(SystemError)
    /// The peer answered, but not with an HTTP/1.x response this client can read.
    case malformedResponse(path: String, reason: String)
    /// The request was not sent: the path cannot go on a request line.
    case invalidPath(String)

    /// `"connect(127.0.0.1:9470) failed: ..."`, `"GET /status: bad status line \"...\""`.
    public var description: String {
        switch self {
        case .system(let error): return "\(error)"
        case .malformedResponse(let path, let reason): return "GET \(path): \(reason)"
        case .invalidPath(let path):
            return "GET \"\(path)\" not sent: a path starts with / and holds no spaces or controls"
        }
    }
}
