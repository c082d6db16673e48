/// An IPv6 address (RFC 8200, text form RFC 4291 section 2.2), held as a 128-bit number.
@frozen
public struct IPv6Address: Hashable, Comparable, Sendable {
    /// The address as a 128-bit number, first octet most significant.
    public var rawValue: UInt128

    @inlinable
    public init(rawValue: UInt128) { self.rawValue = rawValue }

    /// Parses RFC 4291 text: eight groups, `::` compression, and a trailing dotted-quad (`::ffff:192.0.2.1`).
    /// Zone identifiers (`%eth0`) are rejected.
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, !string.contains("%") else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        if let range = string.firstRange(of: "::") {
            sawDoubleColon = true
            let before = string[string.startIndex..<range.lowerBound]
            let after = string[range.upperBound...]
            if after.contains("::") { return nil }
            guard let h = IPv6Address.groups(before, allowIPv4Tail: after.isEmpty),
                let t = IPv6Address.groups(after, allowIPv4Tail: true)
            else { return nil }
            head = h
            tail = t
        } else {
            guard let all = IPv6Address.groups(Substring(string), allowIPv4Tail: true) else { return nil }
            head = all
        }
        let total = head.count + tail.count
        if sawDoubleColon {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        var value: UInt128 = 0
        for group in head { value = value << 16 | UInt128(group) }
        for _ in 0..<(8 - total) { value <<= 16 }
        for group in tail { value = value << 16 | UInt128(group) }
        rawValue = value
    }

    /// Splits colon-separated hexadecimal groups; an empty string is no groups.
    private static func groups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, field) in fields.enumerated() {
            if index == fields.count - 1, allowIPv4Tail, field.contains(".") {
                guard let v4 = IPv4Address(field) else { return nil }
                result.append(UInt16(v4.rawValue >> 16))
                result.append(UInt16(v4.rawValue & 0xFFFF))
                continue
            }
            guard !field.isEmpty, field.utf8.count <= 4, let group = UInt16(field, radix: 16) else { return nil }
            result.append(group)
        }
        return result
    }

    /// The eight 16-bit groups, first group first.
    public var groups: [UInt16] {
        (0..<8).map { UInt16(truncatingIfNeeded: rawValue >> (112 - 16 * $0)) }
    }

    /// The IPv4 address embedded in an IPv4-mapped address (`::ffff:a.b.c.d`), if this is one.
    public var ipv4Mapped: IPv4Address? {
        guard rawValue >> 32 == 0xFFFF else { return nil }
        return IPv4Address(rawValue: UInt32(truncatingIfNeeded: rawValue))
    }

    @inlinable
    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension IPv6Address: CustomStringConvertible {
    /// The RFC 5952 canonical text form: lower case, no leading zeros, the longest run of two or more zero groups
    /// (the first of equal runs) written as `::`, and IPv4-mapped addresses with a dotted-quad tail.
    public var description: String {
        if let v4 = ipv4Mapped { return "::ffff:\(v4)" }
        let g = groups
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if g[index] == 0 {
                var end = index
                while end < 8 && g[end] == 0 { end += 1 }
                if end - index > bestLength && end - index >= 2 {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            g[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
