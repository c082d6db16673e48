import Foundation

/// What loading one file produced: the valid objects, every error, and notes (skipped kinds, peers that match
/// nothing).
public struct FileLoadResult: Sendable {
    public var file: String
    public var objects: [ManifestObject] = []
    public var errors: [PolicyError] = []
    public var notes: [String] = []
    /// Objects of kinds Tollgate does not enforce (each also has a note).
    public var skipped = 0

    public init(file: String) { self.file = file }
}

/// What loading a directory produced, file by file, in path order.
public struct DirectoryLoadResult: Sendable {
    public var files: [FileLoadResult] = []
    /// Problems with the directory itself (missing, unreadable).
    public var directoryErrors: [PolicyError] = []

    public init() {}

    public var objects: [ManifestObject] { files.flatMap(\.objects) }
    public var errors: [PolicyError] { directoryErrors + files.flatMap(\.errors) }
    public var notes: [String] { files.flatMap(\.notes) }
    /// Objects of kinds Tollgate does not enforce, in every file.
    public var skipped: Int { files.reduce(0) { $0 + $1.skipped } }
}

/// Loads Kubernetes manifests: YAML (multi-document) and JSON, with `kind: List` unwrapped.
public enum ManifestLoader {
    /// The file name endings that hold manifests.
    public static let manifestExtensions: Set<String> = ["yaml", "yml", "json"]

    /// Whether a directory entry is a manifest to load. Hidden entries (including the `..data` and timestamped
    /// directories of a mounted ConfigMap, whose files are reached through the top-level links) and editors'
    /// temporary and backup files are not.
    public static func isManifestName(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("#") || name.hasSuffix("~") { return false }
        guard let dot = name.lastIndex(of: ".") else { return false }
        return manifestExtensions.contains(String(name[name.index(after: dot)...]).lowercased())
    }

    /// Decodes manifests from YAML or JSON text. `file` names the source in errors.
    public static func load(text: String, file: String) -> FileLoadResult {
        var result = FileLoadResult(file: file)
        let documents: [ManifestNode]
        do throws(ManifestSyntaxError) {
            documents = try ManifestNode.documents(yaml: text)
        } catch {
            result.errors.append(PolicyError(file: file, line: error.line, message: error.message))
            return result
        }
        // Two objects with the same key in one file: the API would hold one; keep the first and say so.
        var seen = Set<ObjectKey>()
        for (index, document) in documents.enumerated() {
            let before = result.objects.count
            decode(document: document, index: index, into: &result)
            var kept = Array(result.objects[..<before])
            for object in result.objects[before...] {
                if seen.insert(object.key).inserted {
                    kept.append(object)
                } else {
                    result.errors.append(
                        PolicyError(
                            file: file, documentIndex: index, object: object.key,
                            message: "defined more than once in this file; the first definition is used"))
                }
            }
            result.objects = kept
        }
        return result
    }

    private static func decode(document: ManifestNode, index: Int, into result: inout FileLoadResult) {
        let isList: Bool = {
            guard case .scalar(let kind, _, _)? = document["kind"] else { return false }
            return kind == "List" || kind.hasSuffix("List") && document["items"] != nil
        }()
        if isList {
            let decoder = ObjectDecoder(file: result.file, documentIndex: index)
            let items = decoder.sequence(document["items"], "items")
            result.errors += decoder.errors
            for (itemIndex, item) in items.enumerated() {
                let itemDecoder = ObjectDecoder(file: result.file, documentIndex: index)
                if let object = itemDecoder.decodeObject(item, path: "items[\(itemIndex)]", notes: &result.notes) {
                    result.objects.append(object)
                }
                result.errors += itemDecoder.errors
                result.skipped += itemDecoder.skippedKinds
            }
            return
        }
        let decoder = ObjectDecoder(file: result.file, documentIndex: index)
        if let object = decoder.decodeObject(document, path: "", notes: &result.notes) {
            result.objects.append(object)
        }
        result.errors += decoder.errors
        result.skipped += decoder.skippedKinds
    }

    /// Loads one file from disk.
    public static func load(fileAt path: String) -> FileLoadResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            var result = FileLoadResult(file: path)
            result.errors.append(PolicyError(file: path, message: "cannot read the file"))
            return result
        }
        guard let text = String(data: data, encoding: .utf8) else {
            var result = FileLoadResult(file: path)
            result.errors.append(PolicyError(file: path, message: "the file is not UTF-8 text"))
            return result
        }
        return load(text: text, file: path)
    }

    /// The manifest files under `directory`, recursively, sorted by path. Symbolic links to files are followed
    /// (a mounted ConfigMap's files are links); hidden directories are not entered.
    public static func manifestFiles(in directory: String) throws -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: directory])
        }
        guard isDirectory.boolValue else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: directory])
        }
        var files: [String] = []
        var pending = [directory]
        var visited = Set<String>()
        while let current = pending.popLast() {
            let real = (try? manager.destinationOfSymbolicLink(atPath: current)).map {
                $0.hasPrefix("/") ? $0 : (current as NSString).deletingLastPathComponent + "/" + $0
            } ?? current
            guard visited.insert((real as NSString).standardizingPath).inserted else { continue }
            for name in try manager.contentsOfDirectory(atPath: current) where !name.hasPrefix(".") {
                let path = current.hasSuffix("/") ? current + name : current + "/" + name
                var entryIsDirectory: ObjCBool = false
                guard manager.fileExists(atPath: path, isDirectory: &entryIsDirectory) else { continue }
                if entryIsDirectory.boolValue {
                    pending.append(path)
                } else if isManifestName(name) {
                    files.append(path)
                }
            }
        }
        return files.sorted()
    }

    /// Loads every manifest file under `directory`. Errors in one file never stop the others from loading.
    /// Objects defined in more than one file are reported; the one from the first file in path order is kept.
    public static func loadDirectory(_ directory: String) -> DirectoryLoadResult {
        var result = DirectoryLoadResult()
        let files: [String]
        do {
            files = try manifestFiles(in: directory)
        } catch {
            let exists = FileManager.default.fileExists(atPath: directory)
            result.directoryErrors.append(
                PolicyError(
                    file: directory,
                    message: exists ? "not a readable directory" : "the policy directory does not exist"))
            return result
        }
        var owners: [ObjectKey: String] = [:]
        for file in files {
            var loaded = load(fileAt: file)
            loaded.objects = loaded.objects.filter { object in
                if let owner = owners[object.key] {
                    loaded.errors.append(
                        PolicyError(file: file, object: object.key, message: "also defined in \(owner); that definition is used"))
                    return false
                }
                owners[object.key] = file
                return true
            }
            result.files.append(loaded)
        }
        return result
    }
}
