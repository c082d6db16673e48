import Testing

@testable import LinuxSupport

@Suite struct PrometheusTextTests {
    @Test func writesCountersGaugesAndHistogramsInExpositionFormat() throws {
        var out = PrometheusText()
        try out.appendCounter(
            "tollgate_verdicts_total", help: "Verdicts given, by verdict.",
            samples: [
                .init(labels: [.init("verdict", "accept")], value: 10),
                .init(labels: [.init("verdict", "drop")], value: 2),
            ])
        try out.appendGauge("tollgate_policies", help: "Loaded policies.", value: 3)
        try out.appendHistogram(
            "tollgate_verdict_seconds", help: "Time to a verdict.",
            histograms: [
                .init(labels: [.init("queue", "0")], upperBounds: [0.000001, 0.00001, 0.5], cumulativeCounts: [1, 4, 4], sum: 0.25, count: 5)
            ])
        let expected = """
            # HELP tollgate_verdicts_total Verdicts given, by verdict.
            # TYPE tollgate_verdicts_total counter
            tollgate_verdicts_total{verdict="accept"} 10
            tollgate_verdicts_total{verdict="drop"} 2
            # HELP tollgate_policies Loaded policies.
            # TYPE tollgate_policies gauge
            tollgate_policies 3
            # HELP tollgate_verdict_seconds Time to a verdict.
            # TYPE tollgate_verdict_seconds histogram
            tollgate_verdict_seconds_bucket{queue="0",le="1e-06"} 1
            tollgate_verdict_seconds_bucket{queue="0",le="1e-05"} 4
            tollgate_verdict_seconds_bucket{queue="0",le="0.5"} 4
            tollgate_verdict_seconds_bucket{queue="0",le="+Inf"} 5
            tollgate_verdict_seconds_sum{queue="0"} 0.25
            tollgate_verdict_seconds_count{queue="0"} 5

            """
        #expect(out.text == expected)
    }

    @Test func escapesLabelValuesAndHelp() throws {
        var out = PrometheusText()
        try out.appendGauge(
            "g", help: "a \\ b\nc \"q\"", samples: [.init(labels: [.init("path", "C:\\x \"y\"\nz")], value: 1.5)])
        #expect(out.text == "# HELP g a \\\\ b\\nc \"q\"\n# TYPE g gauge\ng{path=\"C:\\\\x \\\"y\\\"\\nz\"} 1.5\n")
    }

    @Test(arguments: [
        (0.0, "0"), (-3.0, "-3"), (0.1, "0.1"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"),
        (Double.nan, "NaN"), (1e300, "1e+300"), (123456789.0, "123456789"),
    ])
    func formatsValues(value: Double, text: String) {
        #expect(PrometheusText.format(value) == text)
    }

    @Test(arguments: [
        ("", false), ("a", true), ("_a:b_1", true), ("1a", false), ("a-b", false), ("a b", false), ("é", false),
    ])
    func validatesMetricNames(name: String, valid: Bool) {
        #expect(PrometheusText.isValidMetricName(name) == valid)
    }

    @Test func rejectsInvalidNamesRepeatsAndBadHistograms() {
        var out = PrometheusText()
        #expect(throws: InvalidValueError(what: "metric name", value: "bad-name", reason: "must match [a-zA-Z_:][a-zA-Z0-9_:]*")) {
            try out.appendGauge("bad-name", help: "", value: 1)
        }
        #expect(throws: InvalidValueError(what: "label name", value: "__x", reason: "must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __")) {
            try out.appendGauge("g", help: "", samples: [.init(labels: [.init("__x", "v")], value: 1)])
        }
        #expect(throws: InvalidValueError(what: "label name", value: "le", reason: "reserved for this metric type")) {
            try out.appendHistogram("h", help: "", histograms: [.init(labels: [.init("le", "1")], upperBounds: [], cumulativeCounts: [], sum: 0, count: 0)])
        }
        #expect(throws: InvalidValueError(what: "histogram", value: "h", reason: "bucket counts must be cumulative and at most the total count")) {
            try out.appendHistogram("h", help: "", histograms: [.init(upperBounds: [1, 2], cumulativeCounts: [3, 2], sum: 0, count: 3)])
        }
        #expect(throws: InvalidValueError(what: "histogram", value: "h", reason: "bucket bounds must be finite and strictly increasing")) {
            try out.appendHistogram("h", help: "", histograms: [.init(upperBounds: [2, 1], cumulativeCounts: [1, 1], sum: 0, count: 1)])
        }
        #expect(throws: InvalidValueError(what: "counter value", value: "-1.0", reason: "a counter of c cannot be negative or NaN")) {
            try out.appendCounter("c", help: "", value: -1)
        }
        #expect(out.text == "")  // nothing half-written by a rejected family
        #expect(throws: InvalidValueError(what: "metric name", value: "g", reason: "the family was already written")) {
            try out.appendGauge("g", help: "", value: 1)
            try out.appendGauge("g", help: "", value: 2)
        }
        #expect(out.text == "# HELP g \n# TYPE g gauge\ng 1\n")
    }
}
