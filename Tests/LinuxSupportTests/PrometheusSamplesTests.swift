import Testing

@testable import LinuxSupport

@Suite struct PrometheusSamplesTests {
    typealias Sample = PrometheusSamples.Sample

    @Test func readsBackWhatPrometheusTextWrites() throws {
        var out = PrometheusText()
        try out.appendCounter(
            "tollgate_verdicts_total", help: "Verdicts.",
            samples: [
                .init(labels: [.init("action", "accept"), .init("reason", "a \"quoted\"\\path\nline")], value: 10),
                .init(labels: [.init("action", "drop"), .init("reason", "")], value: 0.5),
            ])
        try out.appendGauge("tollgate_ratio", help: "A gauge.", value: -.infinity)
        try out.appendGauge("tollgate_unknown", help: "Not a number.", value: .nan)
        try out.appendHistogram(
            "tollgate_seconds", help: "Latency.",
            histograms: [.init(upperBounds: [0.001], cumulativeCounts: [2], sum: 0.0015, count: 3)])
        let parsed = PrometheusSamples(parsing: out.text)
        // NaN is not equal to itself: compare it on its own, the rest as whole values.
        #expect(parsed.samples.count == 8)
        #expect(parsed.samples.filter { $0.name == "tollgate_unknown" }.map { $0.value.isNaN } == [true])
        #expect(
            parsed.samples.filter { $0.name != "tollgate_unknown" } == [
                Sample(name: "tollgate_verdicts_total", labels: ["action": "accept", "reason": "a \"quoted\"\\path\nline"], value: 10),
                Sample(name: "tollgate_verdicts_total", labels: ["action": "drop", "reason": ""], value: 0.5),
                Sample(name: "tollgate_ratio", value: -.infinity),
                Sample(name: "tollgate_seconds_bucket", labels: ["le": "0.001"], value: 2),
                Sample(name: "tollgate_seconds_bucket", labels: ["le": "+Inf"], value: 3),
                Sample(name: "tollgate_seconds_sum", value: 0.0015),
                Sample(name: "tollgate_seconds_count", value: 3),
            ])
    }

    @Test func skipsCommentsBlankAndMalformedLinesAndAcceptsTimestampsAndLooseSpacing() {
        let text = """
            # HELP a_total Something.
            # TYPE a_total counter
            a_total 1

            a_total{ x = "1" , y="2", } 2 1700000000000
            \tb 3e2\t
            c +Inf
            9starts_with_a_digit 1
            no_value
            unclosed{x="1" 1
            unterminated{x="1} 1
            bad_value{x="1"} twelve
            hex 0x10
            trailing_text 1 2 3
            dangling_escape{x="\\
            crlf 4\r
            """
        #expect(
            PrometheusSamples(parsing: text).samples == [
                Sample(name: "a_total", value: 1), Sample(name: "a_total", labels: ["x": "1", "y": "2"], value: 2),
                Sample(name: "b", value: 300), Sample(name: "c", value: .infinity), Sample(name: "crlf", value: 4),
            ])
    }

    @Test func sumsMatchingSamplesAndListsLabelValuesInFirstSeenOrder() {
        let samples = PrometheusSamples(
            parsing: """
                v{action="accept",reason="r2",queue="0"} 1
                v{action="accept",reason="r1",queue="1"} 2
                v{action="drop",reason="r2",queue="0"} 4
                w{reason="r3"} 8
                """)
        #expect(samples.sum("v") == 7)
        #expect(samples.sum("v", ["action": "accept"]) == 3)
        #expect(samples.sum("v", ["action": "accept", "queue": "0"]) == 1)
        #expect(samples.sum("v", ["action": "audit"]) == nil)
        #expect(samples.sum("absent") == nil)
        #expect(samples.labelValues("v", "reason") == ["r2", "r1"])
        #expect(samples.labelValues("v", "absent") == [])
    }

    @Test func everyTruncationOfAValidLineParsesOrIsSkippedWithoutTrapping() {
        let line = Array(#"tollgate_verdicts_total{action="accept",reason="x\"y"} 12 1700000000000"#.utf8)
        var parsed: [Sample] = []
        for length in 0...line.count {
            parsed += PrometheusSamples(parsing: String(decoding: line[0..<length], as: UTF8.self)).samples
        }
        // Only cuts inside the value or the timestamp leave a valid sample: "1", then "12" with 0 to 13 more
        // characters (a blank and a timestamp prefix).
        let expected = Sample(
            name: "tollgate_verdicts_total", labels: ["action": "accept", "reason": "x\"y"], value: 12)
        var one = expected
        one.value = 1
        #expect(parsed == [one] + Array(repeating: expected, count: 15))
    }
}
