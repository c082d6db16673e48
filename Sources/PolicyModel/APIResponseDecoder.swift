/// Decodes Kubernetes API responses, list bodies and watch events, through the same ``ObjectDecoder`` as manifest
/// files, so an object means the same and fails with the same messages whichever way it arrives.
///
/// Shapes follow the API reference (https://kubernetes.io/docs/reference/using-api/api-concepts/): a list is
/// `{"kind": "PodList", "metadata": {"resourceVersion": "…", "continue": "…"}, "items": [...]}` whose items carry
/// no `kind` or `apiVersion` (the list's resource supplies them); a watch event is one JSON object per line,
/// `{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": {...}}`, where an ERROR's object is a
/// `Status` with a `code` (410: the resource version is too old, list again).
public enum APIResponseDecoder {
    /// One page of a list response.
    public struct ListPage: Sendable {
        /// The items that decoded cleanly (skipped kinds are not included).
        public var objects: [ManifestObject] = []
        /// Items whose kind and name could be read but which failed to decode.
        public var rejectedKeys: [ObjectKey] = []
        /// `metadata.resourceVersion` of the list: where a watch starts.
        public var resourceVersion: String?
        /// `metadata.continue`: the token of the next page, nil on the last page.
        public var continueToken: String?
        /// Every problem with an item, located by item index and field.
        public var errors: [PolicyError] = []
    }

    /// The type of a watch event.
    public enum EventType: String, Sendable, Hashable {
        /// An object was created (or is reported at the start of a watch).
        case added = "ADDED"
        /// An object changed.
        case modified = "MODIFIED"
        /// An object was deleted; the object is its last state.
        case deleted = "DELETED"
        /// No change: the object carries only a newer `resourceVersion` to resume from.
        case bookmark = "BOOKMARK"
        /// The watch failed; the object is a `Status`.
        case error = "ERROR"
    }

    /// One decoded watch event.
    public struct WatchEvent: Sendable {
        /// What happened.
        public var type: EventType
        /// The object, when it decoded cleanly (nil for bookmarks, errors, skipped kinds and invalid objects).
        public var object: ManifestObject?
        /// The object's key, whenever its kind and name could be read, valid or not.
        public var key: ObjectKey?
        /// `object.metadata.resourceVersion`: where the watch resumes after this event.
        public var resourceVersion: String?
        /// An ERROR event's `Status.code` (410 means the watch must list again).
        public var statusCode: Int?
        /// An ERROR event's `Status.message` (or `reason`).
        public var statusMessage: String?
        /// Problems with the object, located by field.
        public var errors: [PolicyError] = []
    }

    /// Decodes one list page of the resource `kind`/`apiVersion`. `source` names where it came from in errors.
    ///
    /// - Throws: ``PolicyError`` when the body is not JSON or not a list.
    public static func decodeList(
        _ text: String, kind: String, apiVersion: String, source: String
    ) throws(PolicyError) -> ListPage {
        let root = try document(text, source: source)
        guard case .mapping = root else {
            throw PolicyError(file: source, message: "the list response is \(root.typeName), not an object")
        }
        let outer = ObjectDecoder(file: source, documentIndex: nil)
        let metadata = outer.mapping(root["metadata"], "metadata")
        var page = ListPage()
        page.resourceVersion = outer.string(metadata?["resourceVersion"], "metadata.resourceVersion")
        page.continueToken = outer.string(metadata?["continue"], "metadata.continue").flatMap { $0.isEmpty ? nil : $0 }
        let items = outer.sequence(root["items"], "items")
        if let problem = outer.errors.first { throw problem.withoutLine }
        var notes: [String] = []
        for (index, item) in items.enumerated() {
            let decoder = ObjectDecoder(file: source, documentIndex: nil)
            let filled = withType(item, kind: kind, apiVersion: apiVersion)
            if let object = decoder.decodeObject(filled, path: "items[\(index)]", notes: &notes) {
                page.objects.append(object)
            } else if !decoder.errors.isEmpty, let key = decoder.object {
                page.rejectedKeys.append(key)
            }
            page.errors += decoder.errors.map(\.withoutLine)
        }
        return page
    }

    /// Decodes one line of a watch stream of the resource `kind`/`apiVersion`.
    ///
    /// - Throws: ``PolicyError`` when the line is not a JSON object with a known `type` and an `object`.
    public static func decodeEvent(
        _ line: String, kind: String, apiVersion: String, source: String
    ) throws(PolicyError) -> WatchEvent {
        let root = try document(line, source: source)
        let outer = ObjectDecoder(file: source, documentIndex: nil)
        guard case .mapping = root else {
            throw PolicyError(file: source, message: "the watch event is \(root.typeName), not an object")
        }
        guard let typeText = outer.string(root["type"], "type") else {
            throw PolicyError(file: source, fieldPath: "type", message: "is required")
        }
        guard let type = EventType(rawValue: typeText) else {
            throw PolicyError(
                file: source, fieldPath: "type",
                message: "unknown event type \"\(typeText)\"; expected ADDED, MODIFIED, DELETED, BOOKMARK or ERROR")
        }
        guard let objectNode = outer.mapping(root["object"], "object") else {
            throw outer.errors.first?.withoutLine
                ?? PolicyError(file: source, fieldPath: "object", message: "is required")
        }
        var event = WatchEvent(type: type)
        let metadata = outer.mapping(objectNode["metadata"], "object.metadata")
        event.resourceVersion = outer.string(metadata?["resourceVersion"], "object.metadata.resourceVersion")
        switch type {
        case .bookmark:
            guard event.resourceVersion != nil else {
                throw PolicyError(
                    file: source, fieldPath: "object.metadata.resourceVersion", message: "a bookmark needs one")
            }
        case .error:
            event.statusCode = outer.integer(objectNode["code"], "object.code")
            event.statusMessage =
                outer.string(objectNode["message"], "object.message") ?? outer.string(objectNode["reason"], "object.reason")
        case .added, .modified, .deleted:
            let decoder = ObjectDecoder(file: source, documentIndex: nil)
            var notes: [String] = []
            let filled = withType(objectNode, kind: kind, apiVersion: apiVersion)
            event.object = decoder.decodeObject(filled, path: "object", notes: &notes)
            event.key = event.object?.key ?? decoder.object
            event.errors = decoder.errors.map(\.withoutLine)
        }
        return event
    }

    /// Parses one JSON document with ``JSONNodeParser``, which gives the same scalar kinds as the manifest
    /// parser gives a `.json` manifest file.
    private static func document(_ text: String, source: String) throws(PolicyError) -> ManifestNode {
        do throws(ManifestSyntaxError) {
            return try JSONNodeParser.parse(text)
        } catch {
            throw PolicyError(file: source, message: error.message)
        }
    }

    /// `node` with `kind` and `apiVersion` filled in where absent (list items carry neither).
    private static func withType(_ node: ManifestNode, kind: String, apiVersion: String) -> ManifestNode {
        guard case .mapping(var entries, let line) = node else { return node }
        if node["apiVersion"] == nil { entries.insert(("apiVersion", .scalar(apiVersion, kind: .string, line: nil)), at: 0) }
        if node["kind"] == nil { entries.insert(("kind", .scalar(kind, kind: .string, line: nil)), at: 0) }
        return .mapping(entries, line: line)
    }
}

extension PolicyError {
    /// The error without a line number: an API response is one line, so the parser's line says nothing.
    fileprivate var withoutLine: PolicyError {
        var copy = self
        copy.line = nil
        return copy
    }
}
