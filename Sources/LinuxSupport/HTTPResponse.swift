/// What a handler answers: status, content type and body. ``HTTPServer`` adds `Content-Length`
/// and `Connection: close` (RFC 9112 §9.6) and omits the body for `HEAD`.
public struct HTTPResponse: Hashable, Sendable {
    /// The status code, such as 200 or 404.
    public var status: Int
    /// The `Content-Type` value, such as `"text/plain; version=0.0.4; charset=utf-8"`.
    public var contentType: String
    /// The body bytes.
    public var body: [UInt8]
    /// Extra header fields (such as `Allow` on a 405), written in name order.
    public var headers: [String: String]

    /// Creates a response.
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8] = [], headers: [String: String] = [:]) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// Creates a response with a UTF-8 text body.
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", text: String, headers: [String: String] = [:]) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8), headers: headers)
    }

    /// 200 with a text body.
    public static func ok(_ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: 200, contentType: contentType, text: text)
    }

    /// 404 Not Found, for paths the handler does not serve.
    public static let notFound = HTTPResponse(status: 404, text: "not found\n")
    /// 400 Bad Request, for a request head that is not valid HTTP/1.1.
    public static let badRequest = HTTPResponse(status: 400, text: "bad request\n")
    /// 405 Method Not Allowed with `Allow: GET, HEAD` (RFC 9110 §15.5.6).
    public static let methodNotAllowed = HTTPResponse(
        status: 405, text: "method not allowed\n", headers: ["Allow": "GET, HEAD"])
    /// 408 Request Timeout, when the request head does not arrive within the read timeout.
    public static let requestTimeout = HTTPResponse(status: 408, text: "request timeout\n")
    /// 431 Request Header Fields Too Large, when the head exceeds the size limit (RFC 6585 §5).
    public static let headTooLarge = HTTPResponse(status: 431, text: "request header fields too large\n")
    /// 503 Service Unavailable, when too many connections are open.
    public static let serviceUnavailable = HTTPResponse(status: 503, text: "too many connections\n")
    /// 505 HTTP Version Not Supported.
    public static let versionNotSupported = HTTPResponse(status: 505, text: "http version not supported\n")

    /// The reason phrase for ``status`` (RFC 9110 §15).
    public var reasonPhrase: String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    /// The bytes on the wire: status line, header fields, blank line, and the body unless `includeBody` is false.
    func serialized(includeBody: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reasonPhrase)\r\n"
        head += "Content-Type: \(Self.sanitized(contentType))\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            head += "\(Self.sanitized(name)): \(Self.sanitized(value))\r\n"
        }
        head += "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if includeBody {
            bytes.append(contentsOf: body)
        }
        return bytes
    }

    /// Removes CR and LF so that a handler's value cannot split the header (response splitting).
    private static func sanitized(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }
}
