import Foundation
import PolicyModel

/// The policy directory as a source of objects, with per-file last-known-good state: a file that fails to load
/// keeps contributing the objects it had when it last loaded cleanly (none, if it never did), so one bad edit
/// never changes enforcement; the rest of the change still applies.
final class PolicyDirectorySource {
    /// What a reload produced.
    struct Outcome {
        var objects: [ManifestObject]
        /// Errors of this load (files whose last good objects were kept, or the directory itself).
        var errors: [PolicyError]
        /// Whether the directory exists and could be listed.
        var directoryReadable: Bool
        /// Files whose errors made the source fall back to their last good objects.
        var filesKeptFromLastGood: [String]
    }

    let directory: String
    private var lastGood: [String: [ManifestObject]] = [:]
    private var lastFingerprint: [String: FileFingerprint]? = nil

    init(directory: String) { self.directory = directory }

    struct FileFingerprint: Hashable {
        var size: Int
        var modified: Double
        var inode: Int
    }

    /// A cheap summary of the directory: paths, sizes, modification times and inodes of the manifest files.
    /// Nil when the directory cannot be read.
    func fingerprint() -> [String: FileFingerprint]? {
        guard let files = try? ManifestLoader.manifestFiles(in: directory) else { return nil }
        var result: [String: FileFingerprint] = [:]
        for file in files {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { continue }
            result[file] = FileFingerprint(
                size: (attributes[.size] as? NSNumber)?.intValue ?? -1,
                modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0,
                inode: (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? 0)
        }
        return result
    }

    /// Whether the directory changed since the last load.
    func hasChanged() -> Bool { fingerprint() != lastFingerprint }

    /// Loads the directory.
    func load() -> Outcome {
        let print = fingerprint()
        let result = ManifestLoader.loadDirectory(directory)
        lastFingerprint = print
        if !result.directoryErrors.isEmpty {
            // Keep everything that was last good: the directory may be in the middle of being replaced.
            return Outcome(
                objects: lastGood.keys.sorted().flatMap { lastGood[$0]! }, errors: result.directoryErrors,
                directoryReadable: false, filesKeptFromLastGood: lastGood.keys.sorted())
        }
        var objects: [ManifestObject] = []
        var kept: [String] = []
        var current: [String: [ManifestObject]] = [:]
        for file in result.files {
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
        return Outcome(objects: objects, errors: result.errors, directoryReadable: true, filesKeptFromLastGood: kept)
    }
}
