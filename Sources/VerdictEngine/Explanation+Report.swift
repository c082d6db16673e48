import NetworkTypes
import PolicyModel

/// The machine-readable form of an explanation (`tollgate explain --output json`, `--batch`).
public struct ExplanationReport: Codable, Sendable, Hashable {
    public struct Direction: Codable, Sendable, Hashable {
        public var pod: String
        public var isolated: Bool
        public var isolatingPolicies: [String]
        public var allowingRules: [String]
        /// The tier that decided the direction (`Admin`, `NetworkPolicy`, `Baseline`); absent when none did.
        public var tier: String?
        /// The first matching AdminNetworkPolicy rule, with its action.
        public var adminRule: String?
        /// The first matching BaselineAdminNetworkPolicy rule, when the baseline was consulted.
        public var baselineRule: String?
    }

    public var allowed: Bool
    /// A denial in a namespace in audit mode: let through, logged and counted.
    public var audited: Bool
    public var verdict: String
    public var reason: String
    public var source: String
    public var destination: String
    public var sourcePod: String?
    public var destinationPod: String?
    public var `protocol`: String
    public var port: UInt16?
    /// One line per reason: the rules that allowed the connection, or the isolation that denied it.
    public var reasons: [String]
    public var egress: Direction?
    public var ingress: Direction?
}

extension Explanation {
    /// The reasons in short form: `allowed by ns/policy ingress[0]`, `x/a is not isolated for egress`,
    /// `x/b is isolated for ingress by ns/p1, ns/p2 and no rule allows it`.
    public var reasons: [String] {
        var result: [String] = []
        for (label, report) in [("egress", egress), ("ingress", ingress)] {
            guard let report else {
                result.append("\(label): no policy applies (not a pod)")
                continue
            }
            let pod = "\(report.pod.namespace)/\(report.pod.name)"
            if let rule = report.adminRule {
                switch rule.action {
                case .allow: result.append("\(label): allowed by \(rule)")
                case .deny: result.append("\(label): denied by \(rule)")
                case .pass: result.append("\(label): passed by \(rule)")
                }
                if rule.action != .pass { continue }
            }
            if !report.isolated, let rule = report.baselineRule {
                let outcome = rule.action == .allow ? "allowed" : rule.action == .deny ? "denied" : "passed to the default"
                result.append("\(label): \(pod) is not isolated; \(outcome) by \(rule)")
            } else if !report.isolated {
                result.append("\(label): \(pod) is not isolated")
            } else if report.allowingRules.isEmpty {
                let policies = report.isolatingPolicies.map { "\($0.namespace)/\($0.name)" }.joined(separator: ", ")
                result.append("\(label): \(pod) is isolated by \(policies) and no rule allows this connection")
            } else {
                for rule in report.allowingRules {
                    result.append("\(label): allowed by \(rule.policy.namespace)/\(rule.policy.name) \(label)[\(rule.index)]")
                }
            }
        }
        return result
    }

    public var report: ExplanationReport {
        func direction(_ report: DirectionReport?) -> ExplanationReport.Direction? {
            report.map {
                ExplanationReport.Direction(
                    pod: "\($0.pod.namespace)/\($0.pod.name)", isolated: $0.isolated,
                    isolatingPolicies: $0.isolatingPolicies.map { "\($0.namespace)/\($0.name)" },
                    allowingRules: $0.allowingRules.map {
                        "\($0.policy.namespace)/\($0.policy.name) \($0.direction == .ingress ? "ingress" : "egress")[\($0.index)]"
                    },
                    tier: $0.decidingTier?.rawValue, adminRule: $0.adminRule?.description,
                    baselineRule: $0.baselineRule?.description)
            }
        }
        return ExplanationReport(
            allowed: verdict.isAllowed, audited: verdict.audited, verdict: verdict.isAllowed ? "ALLOW" : "DENY", reason: verdict.reason.description,
            source: flow.source.description, destination: flow.destination.description,
            sourcePod: sourcePod.map { "\($0.namespace)/\($0.name)" },
            destinationPod: destinationPod.map { "\($0.namespace)/\($0.name)" }, protocol: flow.transport.description,
            port: flow.transport.hasPorts ? flow.destinationPort : nil, reasons: reasons, egress: direction(egress),
            ingress: direction(ingress))
    }
}
