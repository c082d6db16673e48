import PolicyModel
import Testing

/// A broken object between two good ones: the errors it must produce, exactly. The file is always laid out the
/// same way, so that lines are known:
///
///     1  apiVersion: v1                           (document 0: Namespace ok)
///     2  kind: Namespace
///     3  metadata: {name: ok}
///     4  ---
///     5  apiVersion: <apiVersion>                 (document 1: the broken object)
///     6  kind: <kind>
///     7  metadata: {name: <objectName>}           (with `namespace: ok` for a namespaced kind)
///     8  spec:
///     9  <body, indented two spaces>
///     …  ---                                      (document 2: the good neighbour, named good)
///
/// Each kind's table builds its rows with a factory (`networkPolicy`, `adminPolicy`, `clusterPolicy`) that
/// fills in the kind, its apiVersion and its good neighbour.
struct BrokenObject: Sendable, CustomTestStringConvertible {
    /// The last document: a valid object of the broken one's family, which must still load.
    struct Neighbour: Sendable {
        var apiVersion: String
        var kind: String
        /// The `spec:` line, on one line.
        var spec: String
    }

    /// What the row checks, for test output.
    var name: String
    var testDescription: String { name }
    var apiVersion: String
    /// The broken object (document 1); an empty namespace for a cluster-scoped kind. Its neighbour shares its
    /// namespace.
    var object: ObjectKey
    /// The lines of `spec`, without their two-space indent.
    var body: [String]
    var neighbour: Neighbour
    /// (field path, line, message) of each expected error, in order.
    var errors: [(path: String, line: Int?, message: String)]

    private func metadata(_ name: String) -> String {
        let namespace = object.namespace.isEmpty ? "" : ", namespace: \(object.namespace)"
        return "metadata: {name: \(name)\(namespace)}"
    }

    /// The whole file.
    var text: String {
        ([
            "apiVersion: v1", "kind: Namespace", "metadata: {name: ok}", "---",
            "apiVersion: \(apiVersion)", "kind: \(object.kind)", metadata(object.name), "spec:",
        ] + body.map { "  " + $0 } + [
            "---", "apiVersion: \(neighbour.apiVersion)", "kind: \(neighbour.kind)", metadata("good"), neighbour.spec,
        ]).joined(separator: "\n")
    }

    /// `errors`, as the loader reports them for broken.yaml.
    var expectedErrors: [PolicyError] {
        errors.map {
            PolicyError(
                file: "broken.yaml", documentIndex: 1, object: object, fieldPath: $0.path, line: $0.line,
                message: $0.message)
        }
    }

    /// The objects that must load despite the broken one: the Namespace ok and the neighbour.
    var survivorKeys: [ObjectKey] {
        [
            ObjectKey(kind: "Namespace", namespace: "", name: "ok"),
            ObjectKey(kind: neighbour.kind, namespace: object.namespace, name: "good"),
        ]
    }

    /// Loads `text` as broken.yaml, expects exactly `expectedErrors` and the survivors (by key), and returns what
    /// loaded for further checks.
    @discardableResult
    func expectExactErrors(sourceLocation: SourceLocation = #_sourceLocation) -> FileLoadResult {
        let result = ManifestLoader.load(text: text, file: "broken.yaml")
        #expect(result.errors == expectedErrors, sourceLocation: sourceLocation)
        #expect(result.objects.map(\.key) == survivorKeys, sourceLocation: sourceLocation)
        return result
    }
}
