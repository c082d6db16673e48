/// An HTTP/1.1 request head as ``HTTPServer`` hands it to its handler (RFC 9112 §3).
public struct HTTPRequest: Hashable, Sendable {
    /// The method token, case-sensitive as RFC 9110 §9.1 says: `"GET"` or `"HEAD"` by the time a handler sees it.
    public var method: String
    /// The path of the origin-form target, without the query: `"/metrics"`. Not percent-decoded.
    public var path: String
    /// The query after `?`, without it, not percent-decoded; `nil` when the target has no `?`.
    public var query: String?
    /// The protocol version text: `"HTTP/1.1"` or `"HTTP/1.0"`.
    public var version: String
    /// Header fields, names lowercased; repeated fields are joined with `", "` (RFC 9110 §5.3).
    public var headers: [String: String]

    /// Creates a request (the server builds these; tests and handlers may too).
    public init(
        method: String, path: String, query: String? = nil, version: String = "HTTP/1.1",
        headers: [String: String] = [:]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
    }
}
