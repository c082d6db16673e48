import Yams

/// A parsed YAML or JSON value with the line it started on: the common input of every object decoder.
indirect enum ManifestNode {
    /// The kind of a scalar, as YAML's core schema (or JSON) resolves it.
    enum ScalarKind { case string, integer, boolean, null, float }

    case mapping([(key: String, value: ManifestNode)], line: Int?)
    case sequence([ManifestNode], line: Int?)
    case scalar(String, kind: ScalarKind, line: Int?)

    var line: Int? {
        switch self {
        case .mapping(_, let line), .sequence(_, let line), .scalar(_, _, let line): return line
        }
    }

    /// The value of `key` in a mapping.
    subscript(key: String) -> ManifestNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    var isNull: Bool {
        if case .scalar(_, .null, _) = self { return true }
        return false
    }

    /// A short name of the node's type for error messages.
    var typeName: String {
        switch self {
        case .mapping: return "an object"
        case .sequence: return "a list"
        case .scalar(_, .string, _): return "a string"
        case .scalar(_, .integer, _): return "an integer"
        case .scalar(_, .boolean, _): return "a boolean"
        case .scalar(_, .null, _): return "null"
        case .scalar(_, .float, _): return "a number"
        }
    }

    /// The most nodes a file may expand to: one per byte, plus a little. Without aliases YAML needs at least two
    /// bytes a node; with them a few hundred bytes can name billions of nodes (the "billion laughs" attack,
    /// CVE-2019-11253 in the Kubernetes API server).
    static func nodeBudget(forBytes bytes: Int) -> Int { 10_000 + bytes }

    /// Converts a Yams node, counting nodes against `budget`. Mapping keys must be scalars.
    init(yaml node: Node, budget: inout Int) throws(ManifestSyntaxError) {
        budget -= 1
        if budget < 0 {
            throw ManifestSyntaxError(
                line: node.mark?.line,
                message: "the file expands to far more nodes than its size allows (nested YAML aliases?)")
        }
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain {
                self = .scalar(scalar.string, kind: .string, line: line)
            } else if node.null != nil {
                self = .scalar(scalar.string, kind: .null, line: line)
            } else if node.int != nil {
                self = .scalar(scalar.string, kind: .integer, line: line)
            } else if node.bool != nil {
                self = .scalar(scalar.string, kind: .boolean, line: line)
            } else if node.float != nil {
                self = .scalar(scalar.string, kind: .float, line: line)
            } else {
                self = .scalar(scalar.string, kind: .string, line: line)
            }
        case .mapping(let mapping):
            var entries: [(key: String, value: ManifestNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ManifestSyntaxError(line: key.mark?.line, message: "a mapping key must be a scalar")
                }
                if entries.contains(where: { $0.key == keyScalar.string }) {
                    throw ManifestSyntaxError(line: key.mark?.line, message: "duplicate key \"\(keyScalar.string)\"")
                }
                entries.append((keyScalar.string, try ManifestNode(yaml: value, budget: &budget)))
            }
            self = .mapping(entries, line: line)
        case .sequence(let sequence):
            var items: [ManifestNode] = []
            for item in sequence { items.append(try ManifestNode(yaml: item, budget: &budget)) }
            self = .sequence(items, line: line)
        case .alias:
            throw ManifestSyntaxError(line: line, message: "unresolved YAML alias")
        }
    }

    /// Parses every document of a YAML stream. JSON is read the same way: it is YAML's flow style, and the
    /// parser then reports lines for JSON files too.
    static func documents(yaml text: String) throws(ManifestSyntaxError) -> [ManifestNode] {
        var result: [ManifestNode] = []
        do {
            // The sequence stops quietly at a syntax error and keeps it in `error`: a document after a typo
            // would otherwise vanish without a word.
            var sequence = try Yams.compose_all(yaml: text)
            var budget = nodeBudget(forBytes: text.utf8.count)
            while let node = sequence.next() {
                result.append(try ManifestNode(yaml: node, budget: &budget))
            }
            if let error = sequence.error { throw error }
        } catch let error as ManifestSyntaxError {
            throw error
        } catch let error as YamlError {
            throw ManifestSyntaxError(yamlError: error)
        } catch {
            throw ManifestSyntaxError(line: nil, message: "\(error)")
        }
        return result
    }
}

/// A file that is not well-formed YAML or JSON.
struct ManifestSyntaxError: Error {
    var line: Int?
    var message: String

    init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    init(yamlError: YamlError) {
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            line = mark.line
            message = "invalid YAML: " + (context.map { "\($0.text) " } ?? "") + problem
        default:
            line = nil
            message = "invalid YAML: \(yamlError)"
        }
    }
}
