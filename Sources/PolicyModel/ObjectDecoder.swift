import NetworkTypes

/// Decodes one Kubernetes object from a `ManifestNode`, collecting every error instead of stopping at the first.
final class ObjectDecoder {
    let file: String
    let documentIndex: Int?
    var object: ObjectKey?
    private(set) var errors: [PolicyError] = []
    /// Objects of kinds Tollgate does not enforce, skipped with a note.
    var skippedKinds = 0

    init(file: String, documentIndex: Int?) {
        self.file = file
        self.documentIndex = documentIndex
    }

    func fail(_ path: String, _ node: ManifestNode?, _ message: String) {
        errors.append(
            PolicyError(
                file: file, documentIndex: documentIndex, object: object, fieldPath: path, line: node?.line,
                message: message))
    }

    // MARK: Typed field access

    func mapping(_ node: ManifestNode?, _ path: String) -> ManifestNode? {
        guard let node, !node.isNull else { return nil }
        guard case .mapping = node else {
            fail(path, node, "must be an object, got \(node.typeName)")
            return nil
        }
        return node
    }

    func sequence(_ node: ManifestNode?, _ path: String) -> [ManifestNode] {
        guard let node, !node.isNull else { return [] }
        guard case .sequence(let items, _) = node else {
            fail(path, node, "must be a list, got \(node.typeName)")
            return []
        }
        return items
    }

    func string(_ node: ManifestNode?, _ path: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let text, let kind, _) = node, kind != .null else {
            fail(path, node, "must be a string, got \(node.typeName)")
            return nil
        }
        return text
    }

    func integer(_ node: ManifestNode?, _ path: String) -> Int? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let text, .integer, _) = node, let value = Int(text) else {
            fail(path, node, "must be an integer, got \(node.typeName)")
            return nil
        }
        return value
    }

    func boolean(_ node: ManifestNode?, _ path: String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let text, .boolean, _) = node else {
            fail(path, node, "must be true or false, got \(node.typeName)")
            return nil
        }
        return ["true", "True", "TRUE"].contains(text)
    }

    /// A string-to-string map such as `labels`; every key and value is validated as a label.
    func labels(_ node: ManifestNode?, _ path: String) -> [String: String] {
        guard let map = mapping(node, path), case .mapping(let entries, _) = map else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in entries {
            let fieldPath = "\(path).\(key)"
            if let problem = Validation.labelKeyProblem(key) { fail(fieldPath, value, problem) }
            // Label values are strings, but people write `version: 2`; the API server rejects that, so do we.
            guard case .scalar(let text, let kind, _) = value, kind != .null else {
                fail(fieldPath, value, "label value must be a string, got \(value.typeName)")
                continue
            }
            if kind != .string {
                fail(fieldPath, value, "label value must be a string; quote it: \"\(text)\"")
                continue
            }
            if let problem = Validation.labelValueProblem(text) { fail(fieldPath, value, problem) }
            result[key] = text
        }
        return result
    }

    /// Reports fields of `node` outside `known`: a misspelt field in a policy changes what it allows.
    func rejectUnknownFields(_ node: ManifestNode, _ path: String, known: Set<String>) {
        guard case .mapping(let entries, _) = node else { return }
        for (key, value) in entries where !known.contains(key) {
            let prefix = path.isEmpty ? "" : "\(path)."
            fail(
                prefix + key, value,
                "unknown field \"\(key)\"; expected one of: \(known.sorted().joined(separator: ", "))")
        }
    }

    // MARK: Shared shapes

    func labelSelector(_ node: ManifestNode?, _ path: String) -> LabelSelector? {
        guard let map = mapping(node, path) else { return nil }
        rejectUnknownFields(map, path, known: ["matchLabels", "matchExpressions"])
        let matchLabels = labels(map["matchLabels"], "\(path).matchLabels")
        var requirements: [LabelSelectorRequirement] = []
        for (index, item) in sequence(map["matchExpressions"], "\(path).matchExpressions").enumerated() {
            let itemPath = "\(path).matchExpressions[\(index)]"
            guard let expression = mapping(item, itemPath) else { continue }
            rejectUnknownFields(expression, itemPath, known: ["key", "operator", "values"])
            guard let key = string(expression["key"], "\(itemPath).key") else {
                fail("\(itemPath).key", expression, "is required")
                continue
            }
            if let problem = Validation.labelKeyProblem(key) { fail("\(itemPath).key", expression["key"], problem) }
            guard let operatorText = string(expression["operator"], "\(itemPath).operator") else {
                fail("\(itemPath).operator", expression, "is required")
                continue
            }
            guard let op = LabelSelectorRequirement.Operator(rawValue: operatorText) else {
                fail(
                    "\(itemPath).operator", expression["operator"],
                    "unknown operator \"\(operatorText)\"; expected In, NotIn, Exists or DoesNotExist")
                continue
            }
            var values: [String] = []
            for (valueIndex, valueNode) in sequence(expression["values"], "\(itemPath).values").enumerated() {
                let valuePath = "\(itemPath).values[\(valueIndex)]"
                guard let value = string(valueNode, valuePath) else { continue }
                if let problem = Validation.labelValueProblem(value) { fail(valuePath, valueNode, problem) }
                values.append(value)
            }
            let needsValues = op == .in || op == .notIn
            if needsValues && values.isEmpty {
                fail("\(itemPath).values", expression, "must be non-empty when operator is \(op.rawValue)")
                continue
            }
            if !needsValues && !values.isEmpty {
                fail("\(itemPath).values", expression["values"], "must be empty when operator is \(op.rawValue)")
                continue
            }
            requirements.append(LabelSelectorRequirement(key: key, operator: op, values: values))
        }
        return LabelSelector(matchLabels: matchLabels, matchExpressions: requirements)
    }

    func transportProtocol(_ node: ManifestNode?, _ path: String) -> TransportProtocol? {
        guard let text = string(node, path) else { return .tcp }  // the API server's default
        guard let value = TransportProtocol(rawValue: text) else {
            fail(path, node, "unsupported protocol \"\(text)\"; expected TCP, UDP or SCTP")
            return nil
        }
        return value
    }

    func prefix(_ node: ManifestNode?, _ path: String) -> IPPrefix? {
        guard let text = string(node, path) else {
            fail(path, node, "is required")
            return nil
        }
        guard let value = IPPrefix(text) else {
            fail(path, node, "\"\(text)\" is not a valid CIDR (expected ADDRESS/LENGTH, such as 10.0.0.0/8 or fd00::/64)")
            return nil
        }
        return value
    }
}
