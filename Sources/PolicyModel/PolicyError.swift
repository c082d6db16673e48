/// A problem with a manifest, located as precisely as the input allows: file, document, object, field and line.
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file the object came from, or a source name such as `api` for the Kubernetes API feed.
    public var file: String
    /// The zero-based index of the YAML document within the file (JSON files have one document).
    public var documentIndex: Int?
    /// The object, when its kind and name could be read.
    public var object: ObjectKey?
    /// The field path in the object, such as `spec.ingress[0].ports[1].port`; empty for the whole object.
    public var fieldPath: String
    /// The one-based line in the file, when known.
    public var line: Int?
    /// What is wrong, said so that the author can fix it.
    public var message: String

    public init(
        file: String, documentIndex: Int? = nil, object: ObjectKey? = nil, fieldPath: String = "", line: Int? = nil,
        message: String
    ) {
        self.file = file
        self.documentIndex = documentIndex
        self.object = object
        self.fieldPath = fieldPath
        self.line = line
        self.message = message
    }

    /// `file:line: document N: Kind ns/name: field: message`.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let documentIndex { text += ": document \(documentIndex)" }
        if let object { text += ": \(object)" }
        if !fieldPath.isEmpty { text += ": \(fieldPath)" }
        return text + ": " + message
    }
}
