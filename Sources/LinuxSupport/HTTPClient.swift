internal import Glibc

/// A blocking HTTP/1.1 client (RFC 9112) for small documents from a local endpoint, such as the daemon's
/// `/status` and `/metrics`: one connection per request, `Connection: close`, the body read to the end of the
/// stream (or to `Content-Length`). No TLS, redirects, chunked bodies or keep-alive.
///
/// Every system call is bounded by ``timeout`` (`SO_SNDTIMEO` also bounds `connect`, `SO_RCVTIMEO` each `recv`),
/// so a request never hangs on a peer that accepts and stays silent.
public struct HTTPClient: Sendable {
    /// Where requests go.
    public let address: ListenAddress
    /// The limit for connecting and for each send and receive.
    public let timeout: Duration
    /// The largest response accepted, head and body, in bytes.
    public let maxResponseBytes: Int
    /// The `User-Agent` field sent with each request.
    public let userAgent: String

    /// Creates a client for `address`.
    public init(address: ListenAddress, timeout: Duration, maxResponseBytes: Int = 8 << 20, userAgent: String) {
        self.address = address
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
    }

    /// Sends `GET path` and returns the response, whatever its status. The response's ``HTTPResponse/headers``
    /// hold the fields other than `Content-Type`, names lower-cased (field names are case-insensitive, RFC 9110 §5.1)
    /// and repeated fields joined with `", "` (RFC 9110 §5.3), as ``HTTPRequest/headers``.
    ///
    /// - Throws: ``HTTPClientError/system(_:)`` when connecting, sending or receiving fails (such as
    ///   `connect(127.0.0.1:9470)` with `ECONNREFUSED`); ``HTTPClientError/malformedResponse(path:reason:)`` when
    ///   the answer is not a complete HTTP/1.x response or exceeds ``maxResponseBytes``;
    ///   ``HTTPClientError/invalidPath(_:)`` when `path` cannot be sent (nothing is contacted then).
    public func get(_ path: String) throws(HTTPClientError) -> HTTPResponse {
        guard path.hasPrefix("/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalidPath(path)
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nUser-Agent: \(userAgent)\r\nAccept: */*\r\n"
            + "Connection: close\r\n\r\n"
        let received: [UInt8]
        do throws(SystemError) {
            received = try exchange(Array(request.utf8))
        } catch {
            throw .system(error)
        }
        return try Self.parseResponse(received, path: path, limit: maxResponseBytes)
    }

    /// Connects, sends `request` and reads until the server closes or more than ``maxResponseBytes`` arrived.
    private func exchange(_ request: [UInt8]) throws(SystemError) -> [UInt8] {
        let descriptor = try SystemCall.run("socket(\(address))") {
            socket(address.socketFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        // The answer is complete (or the request failed) by the time this runs; a close error changes neither.
        defer { _ = try? SystemCall.close(descriptor, what: "close(\(address))") }
        try setTimeouts(descriptor, timeout)
        _ = try SystemCall.run("connect(\(address))") { address.withSocketAddress { connect(descriptor, $0, $1) } }
        try sendAll(request, on: descriptor, call: "send(\(address))")
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while response.count <= maxResponseBytes {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in
                    try SystemCall.run("recv(\(address))") { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
                }
            }.get()
            if count == 0 { return response }
            response.append(contentsOf: chunk[0..<count])
        }
        return response  // over the limit: parseResponse says so
    }

    /// Parses a whole response as received up to the end of the stream: status line, fields, body.
    static func parseResponse(_ bytes: [UInt8], path: String, limit: Int) throws(HTTPClientError)
        -> HTTPResponse
    {
        func malformed(_ reason: String) -> HTTPClientError { .malformedResponse(path: path, reason: reason) }
        guard bytes.count <= limit else { throw malformed("the response exceeds \(limit) bytes") }
        guard let headEnd = bytes.withUnsafeBytes({ HTTPRequestParser.endOfHead(in: $0) }) else {
            throw malformed("no end of header in \(bytes.count) bytes")
        }
        var lines: [String] = []
        var start = 0
        for index in 0..<headEnd where bytes[index] == UInt8(ascii: "\n") {
            let end = index > start && bytes[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
            lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = index + 1
        }
        let statusLine = lines.first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].utf8.count == 3,
            let status = Int(parts[1])
        else {
            throw malformed("bad status line \"\(statusLine.prefix(80))\"")
        }
        var contentType = ""
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw malformed("bad header field \"\(line.prefix(80))\"")
            }
            let name = line[..<colon].lowercased()
            // Optional whitespace around the value is not part of it (RFC 9110 §5.6.3).
            let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            var value = line[line.index(after: colon)...].drop(while: isSpace)
            while let last = value.last, isSpace(last) { value = value.dropLast() }
            if name == "content-type" {
                contentType = String(value)
            } else {
                headers[name] = headers[name].map { $0 + ", " + value } ?? String(value)  // RFC 9110 §5.3
            }
        }
        var body = Array(bytes[headEnd...])
        if let encoding = headers["transfer-encoding"] {
            throw malformed("Transfer-Encoding \(encoding) is not supported (expected Content-Length or end of stream)")
        }
        if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0 else {
                throw malformed("bad Content-Length \"\(lengthText.prefix(40))\"")
            }
            guard body.count >= length else { throw malformed("the body ended after \(body.count) of \(length) bytes") }
            body.removeLast(body.count - length)
        }
        return HTTPResponse(status: status, contentType: contentType, body: body, headers: headers)
    }
}
