/// Writes the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/).
///
/// A value type that accumulates text: build one per scrape, append families, read ``text``.
/// Each family gets its `# HELP` and `# TYPE` lines once, followed by its samples. Names are
/// validated; label values and help text are escaped.
///
/// ```
/// var out = PrometheusText()
/// try out.appendCounter("tollgate_verdicts_total", help: "Verdicts given.",
///                       samples: [.init(labels: [.init("verdict", "accept")], value: 10)])
/// ```
public struct PrometheusText: Sendable {
    /// The `Content-Type` for a scrape answer in this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// One `name="value"` label pair.
    public struct Label: Hashable, Sendable {
        /// The label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
        public var name: String
        /// The label value: any UTF-8; backslash, double quote and newline are escaped on output.
        public var value: String

        /// Creates a label pair.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One counter or gauge sample: its labels and value.
    public struct Sample: Hashable, Sendable {
        /// The labels that distinguish this sample within its family.
        public var labels: [Label]
        /// The value (`+Inf`, `-Inf` and `NaN` are written as such).
        public var value: Double

        /// Creates a sample.
        public init(labels: [Label] = [], value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    /// One histogram: cumulative counts per upper bound, the sum and the count of observations.
    public struct Histogram: Hashable, Sendable {
        /// The labels that distinguish this histogram within its family.
        public var labels: [Label]
        /// Finite bucket upper bounds, strictly increasing; the `+Inf` bucket is added on output.
        public var upperBounds: [Double]
        /// Cumulative counts: observations at or below each bound; same length as ``upperBounds``.
        public var cumulativeCounts: [UInt64]
        /// The sum of all observations.
        public var sum: Double
        /// The number of observations (the `+Inf` bucket and `_count`).
        public var count: UInt64

        /// Creates a histogram sample.
        public init(labels: [Label] = [], upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double, count: UInt64) {
            self.labels = labels
            self.upperBounds = upperBounds
            self.cumulativeCounts = cumulativeCounts
            self.sum = sum
            self.count = count
        }
    }

    /// The exposition text written so far.
    public private(set) var text: String = ""
    private var familyNames: Set<String> = []

    /// Creates an empty exposition.
    public init() {}

    /// Appends a counter family (`# TYPE name counter`).
    ///
    /// - Throws: ``InvalidValueError`` for an invalid or repeated metric name, an invalid label
    ///   name, or a negative or NaN counter value.
    public mutating func appendCounter(_ name: String, help: String, samples: [Sample]) throws(InvalidValueError) {
        for sample in samples where sample.value.isNaN || sample.value < 0 {
            throw InvalidValueError(what: "counter value", value: "\(sample.value)", reason: "a counter of \(name) cannot be negative or NaN")
        }
        try appendSimple(name, type: "counter", help: help, samples: samples)
    }

    /// Appends a counter family with one unlabelled sample.
    public mutating func appendCounter(_ name: String, help: String, value: Double) throws(InvalidValueError) {
        try appendCounter(name, help: help, samples: [Sample(value: value)])
    }

    /// Appends a gauge family (`# TYPE name gauge`).
    ///
    /// - Throws: ``InvalidValueError`` for an invalid or repeated metric name or an invalid label name.
    public mutating func appendGauge(_ name: String, help: String, samples: [Sample]) throws(InvalidValueError) {
        try appendSimple(name, type: "gauge", help: help, samples: samples)
    }

    /// Appends a gauge family with one unlabelled sample.
    public mutating func appendGauge(_ name: String, help: String, value: Double) throws(InvalidValueError) {
        try appendGauge(name, help: help, samples: [Sample(value: value)])
    }

    /// Appends a histogram family: `name_bucket{le="..."}` per bound plus `le="+Inf"`, `name_sum`, `name_count`.
    ///
    /// - Throws: ``InvalidValueError`` for invalid names (including a label named `le`), bounds that
    ///   are not finite and strictly increasing, counts of the wrong length, decreasing, or above ``Histogram/count``.
    public mutating func appendHistogram(_ name: String, help: String, histograms: [Histogram]) throws(InvalidValueError) {
        try Self.validateMetricName(name)
        for histogram in histograms {
            try Self.validateLabels(histogram.labels, reserved: ["le"])
            guard histogram.upperBounds.count == histogram.cumulativeCounts.count else {
                throw InvalidValueError(what: "histogram", value: name, reason: "\(histogram.upperBounds.count) bounds but \(histogram.cumulativeCounts.count) counts")
            }
            var previousBound = -Double.infinity
            for bound in histogram.upperBounds {
                guard bound.isFinite, bound > previousBound else {
                    throw InvalidValueError(what: "histogram", value: name, reason: "bucket bounds must be finite and strictly increasing")
                }
                previousBound = bound
            }
            var previousCount: UInt64 = 0
            for count in histogram.cumulativeCounts {
                guard count >= previousCount, count <= histogram.count else {
                    throw InvalidValueError(what: "histogram", value: name, reason: "bucket counts must be cumulative and at most the total count")
                }
                previousCount = count
            }
        }
        try beginFamily(name, type: "histogram", help: help)
        for histogram in histograms {
            for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
                appendLine(name + "_bucket", labels: histogram.labels + [Label("le", Self.format(bound))], value: String(count))
            }
            appendLine(name + "_bucket", labels: histogram.labels + [Label("le", "+Inf")], value: String(histogram.count))
            appendLine(name + "_sum", labels: histogram.labels, value: Self.format(histogram.sum))
            appendLine(name + "_count", labels: histogram.labels, value: String(histogram.count))
        }
    }

    // MARK: - Formatting

    /// Formats a value as Prometheus parses it: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {  // 2^53: exact integers
            return String(Int64(value))
        }
        return String(value)  // shortest text that reads back to the same Double, e.g. 0.1 or 1e-05
    }

    /// Escapes a label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
    public static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Escapes help text: `\` → `\\`, newline → `\n` (quotes stay).
    public static func escapeHelp(_ help: String) -> String {
        var escaped = ""
        for character in help.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        isName(name, allowColon: true)
    }

    /// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`.
    public static func isValidLabelName(_ name: String) -> Bool {
        isName(name, allowColon: false) && !name.hasPrefix("__")
    }

    // MARK: - Private

    private mutating func appendSimple(_ name: String, type: String, help: String, samples: [Sample]) throws(InvalidValueError) {
        try Self.validateMetricName(name)
        for sample in samples {
            try Self.validateLabels(sample.labels, reserved: [])
        }
        try beginFamily(name, type: type, help: help)
        for sample in samples {
            appendLine(name, labels: sample.labels, value: Self.format(sample.value))
        }
    }

    private mutating func beginFamily(_ name: String, type: String, help: String) throws(InvalidValueError) {
        guard familyNames.insert(name).inserted else {
            throw InvalidValueError(what: "metric name", value: name, reason: "the family was already written")
        }
        text += "# HELP \(name) \(Self.escapeHelp(help))\n"
        text += "# TYPE \(name) \(type)\n"
    }

    private mutating func appendLine(_ name: String, labels: [Label], value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            text += labels.map { "\($0.name)=\"\(Self.escapeLabelValue($0.value))\"" }.joined(separator: ",")
            text += "}"
        }
        text += " " + value + "\n"
    }

    private static func validateMetricName(_ name: String) throws(InvalidValueError) {
        guard isValidMetricName(name) else {
            throw InvalidValueError(what: "metric name", value: name, reason: "must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
    }

    private static func validateLabels(_ labels: [Label], reserved: Set<String>) throws(InvalidValueError) {
        var seen: Set<String> = []
        for label in labels {
            guard isValidLabelName(label.name) else {
                throw InvalidValueError(what: "label name", value: label.name, reason: "must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __")
            }
            guard !reserved.contains(label.name) else {
                throw InvalidValueError(what: "label name", value: label.name, reason: "reserved for this metric type")
            }
            guard seen.insert(label.name).inserted else {
                throw InvalidValueError(what: "label name", value: label.name, reason: "repeated in one sample")
            }
        }
    }

    private static func isName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || byte == UInt8(ascii: "_") || (allowColon && byte == UInt8(ascii: ":"))
        }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }
}
