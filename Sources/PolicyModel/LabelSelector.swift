/// A Kubernetes label selector (`matchLabels` and `matchExpressions`, all of which must hold).
/// An empty selector selects everything.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    /// Required key/value pairs, sorted by key.
    public let matchLabels: Labels
    public let matchExpressions: [LabelSelectorRequirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [LabelSelectorRequirement] = []) {
        self.matchLabels = Labels(matchLabels)
        self.matchExpressions = matchExpressions
    }

    /// The selector that selects everything.
    public static let everything = LabelSelector()

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    /// Whether `labels` satisfy every requirement of the selector.
    public func matches(_ labels: Labels) -> Bool {
        for pair in matchLabels where labels[pair.key] != pair.value { return false }
        for requirement in matchExpressions where !requirement.matches(labels) { return false }
        return true
    }

    /// The selector in the text form kubectl uses (`app=web,tier in (a,b),!legacy`); empty is `<all>`.
    public var description: String {
        if isEmpty { return "<all>" }
        var parts = matchLabels.map { "\($0.key)=\($0.value)" }
        parts += matchExpressions.map(\.description)
        return parts.joined(separator: ",")
    }
}

/// One `matchExpressions` entry.
public struct LabelSelectorRequirement: Hashable, Sendable, CustomStringConvertible {
    /// The operators of `matchExpressions`.
    public enum Operator: String, Hashable, Sendable, CaseIterable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    public let key: String
    public let `operator`: Operator
    /// Sorted, unique values; empty for `Exists` and `DoesNotExist`.
    public let values: [String]

    public init(key: String, operator: Operator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = Array(Set(values)).sorted()
    }

    /// `In`: the key is present with one of the values. `NotIn`: the key is absent or has none of the values.
    /// `Exists`: the key is present. `DoesNotExist`: the key is absent.
    public func matches(_ labels: Labels) -> Bool {
        let value = labels[key]
        switch `operator` {
        case .in: return value.map { values.contains($0) } ?? false
        case .notIn: return value.map { !values.contains($0) } ?? true
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        }
    }

    public var description: String {
        switch `operator` {
        case .in: return "\(key) in (\(values.joined(separator: ",")))"
        case .notIn: return "\(key) notin (\(values.joined(separator: ",")))"
        case .exists: return key
        case .doesNotExist: return "!\(key)"
        }
    }
}
