import Foundation

/// A temporary policy directory for one test: `<root>/policies` inside a fresh `mkdtemp` directory, removed with
/// everything in it by `remove()` or `deinit`.
///
/// Files are replaced atomically (written next to the directory, then renamed into it), as a configuration
/// management tool would, so the daemon never sees a half-written file.
final class PolicyDirectory: @unchecked Sendable {
    /// The temporary root (holds the directory, staging files and logs).
    let root: String
    /// The policy directory the daemon reads.
    let path: String
    private var serial = 0

    /// Creates the root; the policy directory itself is created unless `create` is false.
    init(create: Bool = true) throws {
        var template = Array("/tmp/tg-e2e-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<CChar>? in
            guard let base = buffer.baseAddress else { return nil }
            return mkdtemp(base)
        }
        guard let made else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        root = String(cString: made)
        path = root + "/policies"
        if create { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
    }

    deinit { remove() }

    /// A path for a log file inside the root.
    func logPath(_ name: String) -> String { root + "/" + name }

    /// Writes `contents` to `name` in the policy directory, replacing it atomically.
    func write(_ name: String, _ contents: String) throws {
        serial += 1
        let staging = root + "/.staging-\(serial)-\(name)"
        try contents.write(toFile: staging, atomically: false, encoding: .utf8)
        guard rename(staging, path + "/" + name) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    /// Deletes `name` from the policy directory.
    func delete(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + name)
    }

    /// Creates the policy directory, with `files`, in one step: built beside it, then renamed into place, so the
    /// daemon sees either no directory or the complete one.
    func materialize(_ files: [String: String]) throws {
        let staging = root + "/.staging-directory"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        for (name, contents) in files {
            try contents.write(toFile: staging + "/" + name, atomically: false, encoding: .utf8)
        }
        guard rename(staging, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Removes the root and everything in it. Safe to call more than once.
    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
