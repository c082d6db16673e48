import Datapath
import LinuxSupport
import Logging
import NetworkTypes
import Yams

/// Turns YAML text into a ``ConfigurationFile``, collecting every problem with its key, line and value.
///
/// Types are checked on the YAML node, not coerced: `workers: "4"` (a quoted string) is an error, as is
/// `policyDir: 12` or `inCluster: "yes"`. A key with no value (`workers:`) is an error too: remove the key to use
/// the default. Anchors and aliases are refused; the file is flat and small.
struct ConfigurationFileParser {
    let path: String
    private(set) var problems: [ConfigurationFileError.Problem] = []

    init(path: String) {
        self.path = path
    }

    /// The parsed file; check ``problems`` before using it.
    mutating func parse(_ text: String) -> ConfigurationFile {
        var result = ConfigurationFile(path: path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, _) {
            // Yams rejects these before composing, without a line: find the second top-level occurrence of each.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for key in duplicates.sorted() {
                let hits = lines.indices.filter { lines[$0].hasPrefix(key + ":") }
                problems.append(.init(line: hits.count > 1 ? hits[1] + 1 : nil, key: key, message: "duplicate key"))
            }
            return result
        } catch let error as YamlError {
            problems.append(Self.syntaxProblem(error))
            return result
        } catch {
            problems.append(.init(line: nil, key: "", message: "invalid YAML: \(error)"))
            return result
        }
        // An empty file (or one holding only comments) sets nothing.
        guard let root else { return result }
        if case .scalar = root, Self.tagName(root) == .null { return result }
        guard let mapping = root.mapping else {
            problems.append(
                .init(line: root.mark?.line, key: "", message: "expected a mapping of keys such as \"policyDir: /etc/tollgate/policies.d\" at the top level"))
            return result
        }
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                problems.append(.init(line: keyNode.mark?.line, key: "", message: "a key must be a plain word"))
                continue
            }
            let name = keyScalar.string
            let line = keyNode.mark?.line
            guard let key = ConfigurationFile.Key(rawValue: name) else {
                problems.append(
                    .init(line: line, key: name, message: "unknown key (known keys: \(Self.knownKeys))"))
                continue
            }
            if result.lines[key] != nil {
                problems.append(.init(line: line, key: name, message: "duplicate key"))
                continue
            }
            result.lines[key] = line
            assign(key, value, to: &result)
        }
        return result
    }

    private static let knownKeys = ConfigurationFile.Key.allCases.map(\.rawValue).joined(separator: ", ")

    private mutating func assign(_ key: ConfigurationFile.Key, _ node: Node, to file: inout ConfigurationFile) {
        switch key {
        case .policyDir:
            file.policyDirectory = absolutePath(key, node)
        case .podCIDRs:
            file.podCIDRs = prefixes(key, node)
        case .exemptCIDRs:
            file.exemptCIDRs = prefixes(key, node)
        case .remoteClusterCIDRs:
            file.remoteClusterCIDRs = prefixes(key, node)
        case .nodeAddresses:
            file.nodeAddresses = prefixes(key, node)
        case .nodeName:
            guard let text = string(key, node) else { return }
            if let problem = DaemonConfiguration.nodeNameProblem(text) {
                problems.append(.init(line: node.mark?.line, key: key.rawValue, message: problem, value: text))
                return
            }
            file.nodeName = text
        case .workers:
            file.workers = integer(key, node, in: 1...64)
        case .workerPriority:
            file.workerPriority = integer(key, node, in: 0...99)
        case .kernelAllowCache:
            file.kernelAllowCache = boolean(key, node)
        case .queueNum:
            file.firstQueue = integer(key, node, in: 0...Int(UInt16.max)).map { UInt16($0) }
        case .pollIntervalMs:
            // 0 turns the safety-net listing off (inotify alone); otherwise at least 10 ms.
            if let value = integer(key, node, in: 0...3_600_000) {
                if value > 0 && value < 10 {
                    problems.append(
                        .init(line: node.mark?.line, key: key.rawValue, message: "must be 0 (off) or from 10 to 3600000", value: "\(value)"))
                } else {
                    file.pollIntervalMilliseconds = value
                }
            }
        case .failureMode:
            file.failureMode = choice(key, node, FailureMode.self, ["open", "closed"])
        case .backend:
            file.backend = choice(key, node, ConfigurationFile.Backend.self, ConfigurationFile.Backend.allCases.map(\.rawValue))
        case .logFormat:
            file.logFormat = choice(key, node, LogFormat.self, LogFormat.allCases.map(\.rawValue))
        case .podToNode:
            file.podToNode = choice(
                key, node, PodToNodeMode.self, PodToNodeMode.allCases.map(\.rawValue))
        case .logLevel:
            file.logLevel = choice(key, node, Logger.Level.self, Logger.Level.allCases.map(\.rawValue))
        case .metricsAddr:
            guard let text = string(key, node) else { return }
            do {
                file.metricsAddress = try ListenAddress(parsing: text)
            } catch {
                problems.append(.init(line: node.mark?.line, key: key.rawValue, message: error.reason, value: text))
            }
        case .kubeconfig:
            guard let text = string(key, node) else { return }
            if !text.isEmpty && !text.hasPrefix("/") {
                problems.append(.init(line: node.mark?.line, key: key.rawValue, message: "must be an absolute path or \"\"", value: text))
                return
            }
            file.kubeconfig = text
        case .inCluster:
            file.inCluster = boolean(key, node)
        case .audit:
            file.audit = boolean(key, node)
        case .revoke:
            file.revoke = boolean(key, node)
        case .denyLogRate:
            let tag = Self.tagName(node)
            guard case .scalar(let scalar) = node, tag == .int || tag == .float, let value = node.float else {
                typeProblem(key.rawValue, node, expected: "a number of lines per second")
                return
            }
            guard value >= 0, value <= 1_000_000 else {
                problems.append(
                    .init(line: node.mark?.line, key: key.rawValue, message: "must be from 0 to 1000000", value: scalar.string))
                return
            }
            file.denyLogRate = value
        }
    }

    private mutating func boolean(_ key: ConfigurationFile.Key, _ node: Node) -> Bool? {
        guard case .scalar = node, Self.tagName(node) == .bool, let value = node.bool else {
            typeProblem(key.rawValue, node, expected: "true or false")
            return nil
        }
        return value
    }

    // MARK: - Typed values

    /// A string scalar: plain text that YAML does not read as a number, boolean or null, or any quoted text.
    private mutating func string(_ key: ConfigurationFile.Key, _ node: Node) -> String? {
        guard case .scalar(let scalar) = node, Self.tagName(node) == .str else {
            typeProblem(key.rawValue, node, expected: "a string")
            return nil
        }
        return scalar.string
    }

    private mutating func absolutePath(_ key: ConfigurationFile.Key, _ node: Node) -> String? {
        guard let text = string(key, node) else { return nil }
        guard text.hasPrefix("/") else {
            problems.append(.init(line: node.mark?.line, key: key.rawValue, message: "must be an absolute path", value: text))
            return nil
        }
        return text
    }

    private mutating func integer(_ key: ConfigurationFile.Key, _ node: Node, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, Self.tagName(node) == .int, let value = node.int else {
            typeProblem(key.rawValue, node, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard range.contains(value) else {
            problems.append(
                .init(
                    line: node.mark?.line, key: key.rawValue,
                    message: "must be from \(range.lowerBound) to \(range.upperBound)", value: scalar.string))
            return nil
        }
        return value
    }

    private mutating func choice<T: RawRepresentable<String>>(
        _ key: ConfigurationFile.Key, _ node: Node, _ type: T.Type, _ allowed: [String]
    ) -> T? {
        let expected = "one of " + allowed.joined(separator: ", ")
        guard case .scalar(let scalar) = node, Self.tagName(node) == .str else {
            typeProblem(key.rawValue, node, expected: expected)
            return nil
        }
        guard allowed.contains(scalar.string), let value = T(rawValue: scalar.string) else {
            problems.append(.init(line: node.mark?.line, key: key.rawValue, message: "expected \(expected)", value: scalar.string))
            return nil
        }
        return value
    }

    /// A list of CIDRs; every bad item is reported with its index.
    private mutating func prefixes(_ key: ConfigurationFile.Key, _ node: Node) -> [IPPrefix]? {
        guard case .sequence(let sequence) = node else {
            typeProblem(key.rawValue, node, expected: "a list of CIDRs, such as [10.244.0.0/16] or [] for none")
            return nil
        }
        var result: [IPPrefix] = []
        var valid = true
        for (index, item) in sequence.enumerated() {
            let itemKey = "\(key.rawValue)[\(index)]"
            guard case .scalar(let scalar) = item, Self.tagName(item) == .str else {
                typeProblem(itemKey, item, expected: "a CIDR such as 10.244.0.0/16")
                valid = false
                continue
            }
            guard let prefix = IPPrefix(scalar.string) else {
                problems.append(
                    .init(line: item.mark?.line, key: itemKey, message: "not a valid CIDR (expected ADDRESS/LENGTH)", value: scalar.string))
                valid = false
                continue
            }
            result.append(prefix)
        }
        return valid ? result : nil
    }

    /// Records "expected X, got Y" for a node of the wrong kind.
    private mutating func typeProblem(_ key: String, _ node: Node, expected: String) {
        let (found, value) = Self.describe(node)
        problems.append(.init(line: node.mark?.line, key: key, message: "expected \(expected), got \(found)", value: value))
    }

    /// What a node is, in words, and its text when it is a scalar.
    private static func describe(_ node: Node) -> (String, String?) {
        switch node {
        case .scalar(let scalar):
            switch Self.tagName(node) {
            case .null: return ("no value (remove the key to use the default)", nil)
            case .int: return ("an integer", scalar.string)
            case .float: return ("a number", scalar.string)
            case .bool: return ("a boolean", scalar.string)
            case .str: return ("a string", scalar.string)
            default: return ("a scalar tagged \(node.tag.rawValue)", scalar.string)
            }
        case .sequence: return ("a list", nil)
        case .mapping: return ("a mapping", nil)
        case .alias: return ("an alias (anchors and aliases are not supported)", nil)
        }
    }

    /// The node's resolved tag (`!!str`, `!!int`...): YAML 1.1 implicit typing of plain scalars; quoted scalars are strings.
    private static func tagName(_ node: Node) -> Tag.Name {
        if case .scalar(let scalar) = node, scalar.style != .plain && scalar.style != .any { return .str }
        return Tag.Name(rawValue: node.tag.rawValue)
    }

    private static func syntaxProblem(_ error: YamlError) -> ConfigurationFileError.Problem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return .init(line: mark.line, key: "", message: "invalid YAML: " + (context.map { "\($0.text) " } ?? "") + problem)
        default:
            return .init(line: nil, key: "", message: "invalid YAML: \(error)")
        }
    }
}
