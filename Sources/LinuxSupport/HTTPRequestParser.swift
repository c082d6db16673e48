/// Parses an HTTP/1.1 request head (RFC 9112 §2–§5) from bytes, never trapping on malformed input.
enum HTTPRequestParser {
    /// What parsing a head produced: a request for the handler, or an answer to send at once.
    enum Outcome: Hashable, Sendable {
        /// A well-formed GET or HEAD request.
        case request(HTTPRequest)
        /// An error answer (400, 405, 505).
        case reject(HTTPResponse)
    }

    /// The index just past the blank line that ends the head (`CRLF CRLF`, or bare `LF LF` as
    /// RFC 9112 §2.2 allows a recipient to accept), or `nil` if it is not in `bytes` yet.
    static func endOfHead(in bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                    return index + 2
                }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    return index + 3
                }
            }
            index += 1
        }
        return nil
    }

    /// Parses a complete head (request line, fields, blank line).
    static func parse(_ head: some Collection<UInt8>) -> Outcome {
        var lines: [ArraySlice<UInt8>] = []
        let bytes = Array(head)
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            var end = index
            if end > start, bytes[end - 1] == UInt8(ascii: "\r") {
                end -= 1
            }
            lines.append(bytes[start..<end])
            start = index + 1
        }
        // Drop the empty line(s) that end the head.
        while let last = lines.last, last.isEmpty {
            lines.removeLast()
        }
        guard let requestLine = lines.first else {
            return .reject(.badRequest)
        }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return .reject(.badRequest)
        }
        let method = parts[0]
        let target = parts[1]
        let version = parts[2]
        guard method.allSatisfy(isTokenCharacter) else {
            return .reject(.badRequest)
        }
        guard version.starts(with: Array("HTTP/".utf8)), version.count == 8,
            version.dropFirst(5).enumerated().allSatisfy({ offset, byte in
                offset == 1 ? byte == UInt8(ascii: ".") : isDigit(byte)
            })
        else {
            return .reject(.badRequest)
        }
        let versionText = String(decoding: version, as: UTF8.self)
        guard versionText == "HTTP/1.1" || versionText == "HTTP/1.0" else {
            return .reject(.versionNotSupported)
        }
        // Origin-form only (RFC 9112 §3.2.1): a path starting with "/", visible ASCII.
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .reject(.badRequest)
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            // Obsolete line folding and whitespace before the colon are rejected (RFC 9112 §5.1, §5.2).
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(isTokenCharacter)
            else {
                return .reject(.badRequest)
            }
            let rawValue = line[line.index(after: colon)...]
            guard rawValue.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                return .reject(.badRequest)
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: trimmed(rawValue), as: UTF8.self)
            if let existing = headers[name] {
                headers[name] = existing + ", " + value
            } else {
                headers[name] = value
            }
        }
        let methodText = String(decoding: method, as: UTF8.self)
        guard methodText == "GET" || methodText == "HEAD" else {
            return .reject(.methodNotAllowed)
        }
        let targetText = String(decoding: target, as: UTF8.self)
        let path: String
        let query: String?
        if let questionMark = targetText.firstIndex(of: "?") {
            path = String(targetText[..<questionMark])
            query = String(targetText[targetText.index(after: questionMark)...])
        } else {
            path = targetText
            query = nil
        }
        return .request(HTTPRequest(method: methodText, path: path, query: query, version: versionText, headers: headers))
    }

    /// `tchar` of RFC 9110 §5.6.2.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Strips optional whitespace (spaces and tabs) at both ends.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}
