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
    var apiVersion: String
    var kind: String
    /// The namespace of the broken object and of its neighbour ("ok"); empty for a cluster-scoped kind.
    var namespace: String
    var objectName: String
    /// The lines of `spec`, without their two-space indent.
    var body: [String]
    var neighbour: Neighbour
    /// (field path, line, message) of each expected error, in order.
    var errors: [(path: String, line: Int?, message: String)]

    var testDescription: String { name }

    private func metadata(_ objectName: String) -> String {
        namespace.isEmpty ? "metadata: {name: \(objectName)}" : "metadata: {name: \(objectName), namespace: \(namespace)}"
    }

    /// The whole file.
    var text: String {
        ([
            "apiVersion: v1", "kind: Namespace", "metadata: {name: ok}", "---",
            "apiVersion: \(apiVersion)", "kind: \(kind)", metadata(objectName), "spec:",
        ] + body.map { "  " + $0 } + [
            "---", "apiVersion: \(neighbour.apiVersion)", "kind: \(neighbour.kind)", metadata("good"), neighbour.spec,
        ]).joined(separator: "\n")
    }

    /// `errors`, as the loader reports them for broken.yaml.
    var expectedErrors: [PolicyError] {
        errors.map {
            PolicyError(
                file: "broken.yaml", documentIndex: 1,
                object: ObjectKey(kind: kind, namespace: namespace, name: objectName), fieldPath: $0.path,
                line: $0.line, message: $0.message)
        }
    }

    /// The objects that must load despite the broken one: the Namespace ok and the neighbour.
    var survivorKeys: [ObjectKey] {
        [
            ObjectKey(kind: "Namespace", namespace: "", name: "ok"),
            ObjectKey(kind: neighbour.kind, namespace: namespace, name: "good"),
        ]
    }

    /// Loads `text` as broken.yaml.
    func load() -> FileLoadResult { ManifestLoader.load(text: text, file: "broken.yaml") }
}
