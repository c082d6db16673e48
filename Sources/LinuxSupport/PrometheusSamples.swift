/// The samples of a Prometheus text exposition, version 0.0.4 (the format ``PrometheusText`` writes;
/// https://prometheus.io/docs/instrumenting/exposition_formats/), for clients such as `tollgate status`.
///
/// A sample line is `name{label="value",...} value [timestamp]`, the label block optional. Comments (`# HELP`,
/// `# TYPE`, any `#` line), blank lines and lines that are not valid samples are skipped: a reader of counters
/// wants the samples it can use, not a failure because of one odd line.
public struct PrometheusSamples: Hashable, Sendable {
    /// One sample line.
    public struct Sample: Hashable, Sendable {
        /// The metric name, with any `_bucket`, `_sum` or `_count` suffix as written.
        public var name: String
        /// The labels, values unescaped.
        public var labels: [String: String]
        /// The value (`+Inf`, `-Inf` and `NaN` included).
        public var value: Double

        /// Creates a sample.
        public init(name: String, labels: [String: String] = [:], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// The samples, in the order of the text.
    public var samples: [Sample]

    /// Parses `text`, skipping comments, blank lines and malformed lines.
    public init(parsing text: String) {
        samples = text.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line in
            Self.sample(Array(line.last == UInt8(ascii: "\r") ? line.dropLast() : line))
        }
    }

    /// The sum of every sample named `name` whose labels include all of `matching`; nil when there is none.
    public func sum(_ name: String, _ matching: [String: String] = [:]) -> Double? {
        var total: Double? = nil
        for sample in samples
        where sample.name == name && matching.allSatisfy({ sample.labels[$0.key] == $0.value }) {
            total = (total ?? 0) + sample.value
        }
        return total
    }

    /// The distinct values of `label` on samples named `name`, in the order they first appear.
    public func labelValues(_ name: String, _ label: String) -> [String] {
        var seen: [String] = []
        for sample in samples where sample.name == name {
            if let value = sample.labels[label], !seen.contains(value) { seen.append(value) }
        }
        return seen
    }

    // MARK: - Parsing

    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")

    /// One line's sample, or nil for a comment, a blank line or anything malformed.
    private static func sample(_ line: [UInt8]) -> Sample? {
        var index = 0
        skipBlanks(line, &index)
        guard index < line.count, line[index] != UInt8(ascii: "#") else { return nil }
        let nameStart = index
        while index < line.count, isNameByte(line[index]) { index += 1 }
        guard index > nameStart else { return nil }
        let name = String(decoding: line[nameStart..<index], as: UTF8.self)
        guard PrometheusText.isValidMetricName(name) else { return nil }
        skipBlanks(line, &index)
        var labels: [String: String] = [:]
        if index < line.count, line[index] == UInt8(ascii: "{") {
            index += 1
            guard let parsed = labelBlock(line, &index) else { return nil }
            labels = parsed
        }
        skipBlanks(line, &index)
        let valueStart = index
        while index < line.count, line[index] != space, line[index] != tab { index += 1 }
        guard let value = number(String(decoding: line[valueStart..<index], as: UTF8.self)) else { return nil }
        // An optional integer timestamp (milliseconds) may follow; nothing else may.
        skipBlanks(line, &index)
        if index < line.count {
            if line[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < line.count, line[index] >= UInt8(ascii: "0"), line[index] <= UInt8(ascii: "9") { index += 1 }
            guard index > digits else { return nil }
            skipBlanks(line, &index)
        }
        guard index == line.count else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Parses `name="value",...}` after the opening brace; leaves `index` past the closing brace.
    private static func labelBlock(_ line: [UInt8], _ index: inout Int) -> [String: String]? {
        var labels: [String: String] = [:]
        while true {
            skipBlanks(line, &index)
            guard index < line.count else { return nil }
            if line[index] == UInt8(ascii: "}") {
                index += 1
                return labels
            }
            let nameStart = index
            while index < line.count, isNameByte(line[index]), line[index] != UInt8(ascii: ":") { index += 1 }
            let labelName = String(decoding: line[nameStart..<index], as: UTF8.self)
            skipBlanks(line, &index)
            guard !labelName.isEmpty, index + 1 < line.count, line[index] == UInt8(ascii: "=") else { return nil }
            index += 1
            skipBlanks(line, &index)
            guard index < line.count, line[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var value: [UInt8] = []
            while true {
                guard index < line.count else { return nil }  // no closing quote
                let byte = line[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    guard index < line.count else { return nil }
                    let escaped = line[index]
                    index += 1
                    value.append(escaped == UInt8(ascii: "n") ? UInt8(ascii: "\n") : escaped)
                } else {
                    value.append(byte)
                }
            }
            labels[labelName] = String(decoding: value, as: UTF8.self)
            skipBlanks(line, &index)
            if index < line.count, line[index] == UInt8(ascii: ",") { index += 1 }
        }
    }

    /// A sample value: a decimal or exponent number, `+Inf`, `-Inf` or `NaN`.
    private static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            // Double(_:) also takes "inf", "nan" and hexadecimal forms; the format uses none of them.
            guard let first = text.utf8.first,
                first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                    || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")),
                !text.contains("x"), !text.contains("X")
            else { return nil }
            return Double(text)
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }

    private static func skipBlanks(_ line: [UInt8], _ index: inout Int) {
        while index < line.count, line[index] == space || line[index] == tab { index += 1 }
    }
}
