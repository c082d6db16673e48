import Foundation
import PolicyModel

#if canImport(Glibc)
    import Glibc
#endif

/// The policy directory as a source of objects, with per-file last-known-good state: a file that fails to load
/// keeps contributing the objects it had when it last loaded cleanly (none, if it never did), so one bad edit
/// never changes enforcement; the rest of the change still applies.
///
/// Reloads parse only the files whose identity (device, inode, size, modification and change times, all through
/// symbolic links) changed since they were last parsed; the others reuse their parsed objects, and the outcome
/// carries the change as ``Outcome/changes``, worked out from the changed files alone, so a change to one file
/// among thousands costs that file's parse and its objects, not the directory's. Objects are keyed by kind,
/// namespace and name (``ObjectKey``).
public final class PolicyDirectorySource {
    /// What a reload produced.
    public struct Outcome: Sendable {
        /// The objects in force: the files that loaded, and the last good objects of those that did not.
        public var objects: [ManifestObject]
        /// Errors of this load (files whose last good objects were kept, or the directory itself).
        public var errors: [PolicyError]
        /// Whether the directory exists and could be listed.
        public var directoryReadable: Bool
        /// Files whose errors made the source fall back to their last good objects.
        public var filesKeptFromLastGood: [String]
        /// Files parsed by this load (the others were unchanged and reused).
        public var filesParsed = 0
        /// The change since the previous load, when it could be worked out from the changed files alone; nil
        /// when every object must be compared (the first load, or a change that touches an object defined in
        /// more than one file).
        public var changes: ObjectChanges? = nil

        /// An outcome with the given parts.
        public init(
            objects: [ManifestObject], errors: [PolicyError], directoryReadable: Bool, filesKeptFromLastGood: [String],
            filesParsed: Int = 0
        ) {
            self.objects = objects
            self.errors = errors
            self.directoryReadable = directoryReadable
            self.filesKeptFromLastGood = filesKeptFromLastGood
            self.filesParsed = filesParsed
        }

    }

    /// What identifies one version of a file's contents without reading it.
    public struct FileFingerprint: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
        var changedSeconds: Int
        var changedNanoseconds: Int
    }

    /// The name `/status` and logs use for this source.
    public let name = "directory"
    /// The directory read.
    public let directory: String
    private var lastGood: [String: [ManifestObject]] = [:]
    private var lastFingerprint: [String: FileFingerprint]? = nil
    /// Parsed files by path, with the fingerprint they had just before they were read.
    private var parsed: [String: (fingerprint: FileFingerprint, result: FileLoadResult)] = [:]
    /// The files of the last load, in path order.
    private var lastFiles: [String] = []
    /// The errors of each file at the last load (its own, and "also defined in" another file).
    private var fileErrors: [String: [PolicyError]] = [:]
    /// Files whose last good objects are in force because they have errors.
    private var keptFiles = Set<String>()
    /// The file holding each key (defining it, or contributing it from its last good objects); nil until a load
    /// has worked out every file.
    private var holders: [ObjectKey: String]? = nil
    /// Keys more than one file holds.
    private var contested = Set<ObjectKey>()

    /// A source reading `directory`; nothing is read until ``load()``.
    public init(directory: String) { self.directory = directory }

    /// The fingerprint of `path` (following symbolic links); nil when it cannot be read.
    public static func fingerprint(of path: String) -> FileFingerprint? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return FileFingerprint(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedSeconds: status.st_mtim.tv_sec, modifiedNanoseconds: status.st_mtim.tv_nsec,
            changedSeconds: status.st_ctim.tv_sec, changedNanoseconds: status.st_ctim.tv_nsec)
    }

    /// A cheap summary of the directory: the fingerprints of the manifest files. Nil when the directory cannot be
    /// read.
    public func fingerprint() -> [String: FileFingerprint]? {
        guard let files = try? ManifestLoader.manifestFiles(in: directory) else { return nil }
        var result: [String: FileFingerprint] = [:]
        for file in files {
            // A file that vanished between listing and stat is simply not part of the summary.
            if let print = Self.fingerprint(of: file) { result[file] = print }
        }
        return result
    }

    /// Whether the directory changed since the last load (the safety-net poll's question).
    public func hasChanged() -> Bool { fingerprint() != lastFingerprint }

    /// Loads the directory, parsing only files that changed.
    public func load() -> Outcome {
        let files: [String]
        do {
            files = try ManifestLoader.manifestFiles(in: directory)
        } catch {
            lastFingerprint = nil
            holders = nil
            let exists = FileManager.default.fileExists(atPath: directory)
            let problem = PolicyError(
                file: directory, message: exists ? "not a readable directory" : "the policy directory does not exist")
            // Keep everything that was last good: the directory may be in the middle of being replaced.
            return Outcome(
                objects: lastGood.keys.sorted().flatMap { lastGood[$0] ?? [] }, errors: [problem],
                directoryReadable: false, filesKeptFromLastGood: lastGood.keys.sorted())
        }
        var fingerprints: [String: FileFingerprint] = [:]
        var results: [FileLoadResult] = []
        /// Files parsed now, with the result they had before (nil for a new file).
        var reparsed: [String: FileLoadResult?] = [:]
        var stillPresent = Set<String>()
        for file in files {
            stillPresent.insert(file)
            let print = Self.fingerprint(of: file)
            if let print { fingerprints[file] = print }
            if let print, let cached = parsed[file], cached.fingerprint == print {
                results.append(cached.result)
                continue
            }
            // The fingerprint is taken before the read: a write in between makes the next load read it again.
            let result = ManifestLoader.load(fileAt: file)
            reparsed[file] = .some(parsed[file]?.result)
            if let print { parsed[file] = (print, result) } else { parsed[file] = nil }
            results.append(result)
        }
        let removed = lastFiles.filter { !stillPresent.contains($0) }
        for file in removed { reparsed[file] = .some(parsed[file]?.result) }
        parsed = parsed.filter { stillPresent.contains($0.key) }
        lastFingerprint = fingerprints
        lastFiles = files

        var outcome: Outcome
        if holders != nil, let changes = applyChangedFiles(results, reparsed: reparsed, removed: removed) {
            outcome = Outcome(
                objects: files.flatMap { lastGood[$0] ?? [] }, errors: files.flatMap { fileErrors[$0] ?? [] },
                directoryReadable: true, filesKeptFromLastGood: files.filter { keptFiles.contains($0) })
            outcome.changes = changes
        } else {
            outcome = loadWhole(results)
        }
        outcome.filesParsed = reparsed.count - removed.count
        return outcome
    }

    /// The change when only `reparsed` files (and `removed` ones) changed and none of them holds, held or now
    /// defines an object that another file also defines; nil otherwise (then ``loadWhole(_:)`` decides). Updates
    /// the per-file state when it returns a change.
    private func applyChangedFiles(
        _ results: [FileLoadResult], reparsed: [String: FileLoadResult?], removed: [String]
    ) -> ObjectChanges? {
        guard holders != nil else { return nil }
        let changedResults = results.filter { reparsed[$0.file] != nil }
        // Every key a changed file held or now defines must be its own alone.
        for file in reparsed.keys {
            let before = (reparsed[file] ?? nil)?.objects ?? []
            for object in before + (lastGood[file] ?? []) where contested.contains(object.key) { return nil }
        }
        for result in changedResults {
            var seen = Set<ObjectKey>()
            for object in result.objects {
                let key = object.key
                guard seen.insert(key).inserted, !contested.contains(key) else { return nil }
                if let holder = holders?[key], holder != result.file { return nil }
            }
        }
        var changes = ObjectChanges()
        // Taken out of the property, so the dictionary is changed in place rather than copied.
        var nextHolders = holders ?? [:]
        holders = nil
        for file in removed {
            for object in ((reparsed[file] ?? nil)?.objects ?? []) + (lastGood[file] ?? []) {
                nextHolders[object.key] = nil
            }
            changes.removed += (lastGood[file] ?? []).map(\.key)
            lastGood[file] = nil
            fileErrors[file] = nil
            keptFiles.remove(file)
        }
        for result in changedResults {
            let file = result.file
            let before = lastGood[file] ?? []
            for object in ((reparsed[file] ?? nil)?.objects ?? []) + before { nextHolders[object.key] = nil }
            let contribution: [ManifestObject]
            if result.errors.isEmpty {
                contribution = result.objects
                keptFiles.remove(file)
            } else {
                // A file applies whole or not at all: its last good objects stay (none, for a new file).
                contribution = before
                keptFiles.insert(file)
            }
            for object in result.objects + contribution { nextHolders[object.key] = file }
            let now = Set(contribution.map(\.key))
            changes.removed += before.map(\.key).filter { !now.contains($0) }
            changes.upserted += contribution
            lastGood[file] = contribution.isEmpty && !result.errors.isEmpty && before.isEmpty ? nil : contribution
            fileErrors[file] = result.errors
        }
        holders = nextHolders
        return changes
    }

    /// Works out the objects of every file again: objects defined in more than one file go to the first file in
    /// path order (as `ManifestLoader.loadDirectory` decides), and the later file gets an error, which makes it
    /// fall back to its last good objects. Rebuilds the per-file state.
    private func loadWhole(_ results: [FileLoadResult]) -> Outcome {
        var owners: [ObjectKey: String] = [:]
        var objects: [ManifestObject] = []
        var errors: [PolicyError] = []
        var kept: [String] = []
        var current: [String: [ManifestObject]] = [:]
        var currentErrors: [String: [PolicyError]] = [:]
        for var file in results {
            file.objects = file.objects.filter { object in
                if let owner = owners[object.key] {
                    file.errors.append(
                        PolicyError(
                            file: file.file, object: object.key, message: "also defined in \(owner); that definition is used"))
                    return false
                }
                owners[object.key] = file.file
                return true
            }
            errors += file.errors
            currentErrors[file.file] = file.errors
            if file.errors.isEmpty {
                current[file.file] = file.objects
                objects += file.objects
            } else if let previous = lastGood[file.file] {
                current[file.file] = previous
                objects += previous
                kept.append(file.file)
            } else {
                // A file applies whole or not at all: a new file with errors contributes nothing until fixed.
                kept.append(file.file)
            }
        }
        lastGood = current
        fileErrors = currentErrors
        keptFiles = Set(kept)
        // Who holds each key, counting both what a file defines now and what it contributes (its last good
        // objects, when it has errors): a key two files hold is contested, and a change touching it is worked out
        // here again rather than from the changed file alone.
        var nextHolders: [ObjectKey: String] = [:]
        var nextContested = Set<ObjectKey>()
        for file in results {
            for object in file.objects + (current[file.file] ?? []) {
                let key = object.key
                if let holder = nextHolders[key], holder != file.file {
                    nextContested.insert(key)
                } else {
                    nextHolders[key] = file.file
                }
            }
        }
        holders = nextHolders
        contested = nextContested
        return Outcome(objects: objects, errors: errors, directoryReadable: true, filesKeptFromLastGood: kept)
    }
}
