public import LinuxSupport

extension PrometheusSamples {
    /// The sum of every sample of `name` whose labels include `matching`; 0 when there is none.
    public func total(_ name: String, matching: [String: String] = [:]) -> Double {
        sum(name, matching) ?? 0
    }

    /// `tollgate_verdicts_total` as a map from "action/reason" to count.
    public var verdicts: [String: Double] {
        var result: [String: Double] = [:]
        for sample in samples where sample.name == "tollgate_verdicts_total" {
            result["\(sample.labels["action"] ?? "?")/\(sample.labels["reason"] ?? "?")"] = sample.value
        }
        return result
    }
}
