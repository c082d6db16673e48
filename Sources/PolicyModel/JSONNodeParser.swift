/// Parses one JSON value (RFC 8259) into a ``ManifestNode``, with the scalar kinds the YAML parser gives the same
/// text: a quoted string is a string, `true`/`false` a boolean, `null` null, a number an integer when it is
/// whole and fits in `Int`, otherwise a float. Duplicate keys are an error, as in manifests.
///
/// The Kubernetes API feed reads every list page and watch event through this parser: the YAML parser builds a
/// tree of its own first and reads JSON several times slower, which at 100,000 pods is minutes of CPU.
struct JSONNodeParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    static let maximumDepth = 256

    private init(_ text: String) { bytes = Array(text.utf8) }

    /// The value of `text`, which must hold exactly one JSON value (whitespace around it is allowed).
    static func parse(_ text: String) throws(ManifestSyntaxError) -> ManifestNode {
        var parser = JSONNodeParser(text)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> ManifestSyntaxError {
        ManifestSyntaxError(line: line, message: "invalid JSON: " + message)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            index += 1
        }
    }

    private mutating func value(depth: Int) throws(ManifestSyntaxError) -> ManifestNode {
        guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        let startLine = line
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var entries: [(key: String, value: ManifestNode)] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .mapping(entries, line: startLine)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                let key = try string()
                if entries.contains(where: { $0.key == key }) { throw error("duplicate key \"\(key)\"") }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after \"\(key)\"") }
                index += 1
                skipWhitespace()
                entries.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .mapping(entries, line: startLine)
                } else {
                    throw error("expected ',' or '}' in an object")
                }
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [ManifestNode] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .sequence(items, line: startLine)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input in a list") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .sequence(items, line: startLine)
                } else {
                    throw error("expected ',' or ']' in a list")
                }
            }
        case UInt8(ascii: "\""):
            return .scalar(try string(), kind: .string, line: startLine)
        case UInt8(ascii: "t"):
            try literal("true")
            return .scalar("true", kind: .boolean, line: startLine)
        case UInt8(ascii: "f"):
            try literal("false")
            return .scalar("false", kind: .boolean, line: startLine)
        case UInt8(ascii: "n"):
            try literal("null")
            return .scalar("null", kind: .null, line: startLine)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(ManifestSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw error("unknown literal; expected true, false or null") }
        index += count
    }

    private mutating func number() throws(ManifestSyntaxError) -> ManifestNode {
        let start = index
        var whole = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ parser: inout JSONNodeParser) -> Int {
            let from = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                parser.index += 1
            }
            return parser.index - from
        }
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw error("a number needs digits") }
        if integerDigits > 1 && bytes[index - integerDigits] == UInt8(ascii: "0") {
            throw error("a number must not start with 0")
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            whole = false
            index += 1
            guard digits(&self) > 0 else { throw error("a fraction needs digits") }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            whole = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
            guard digits(&self) > 0 else { throw error("an exponent needs digits") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        return .scalar(text, kind: whole && Int(text) != nil ? .integer : .float, line: line)
    }

    private mutating func string() throws(ManifestSyntaxError) -> String {
        index += 1  // the opening quote
        let start = index
        // The common case: no escapes, one slice of the input.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("a control character in a string must be escaped") }
            index += 1
        }
        var result = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: result, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw error("unexpected end of input in a string") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escaped)
                case UInt8(ascii: "b"): result.append(0x08)
                case UInt8(ascii: "f"): result.append(0x0C)
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair (RFC 8259 §7).
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("an unpaired UTF-16 surrogate") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("an unpaired UTF-16 surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("an invalid \\u escape") }
                    result.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw error("an invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
                }
            default:
                if byte < 0x20 { throw error("a control character in a string must be escaped") }
                result.append(byte)
            }
        }
        throw error("unexpected end of input in a string")
    }

    private mutating func hex4() throws(ManifestSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
