import Foundation
import LinuxSupport
import Testing

/// Paths, temporary directories and process helpers shared by the operations tests.
enum OperationsFixtures {
    /// Why a fixture could not be set up; the test fails with it.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The repository root (this file is `<repo>/Tests/OperationsTests/OperationsFixtures.swift`).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The `tollgate` binary: `TOLLGATE_BINARY`, else the one built next to this test bundle (same scratch path).
    static func binary() throws -> String {
        var searched: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["TOLLGATE_BINARY"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Failure(description: "TOLLGATE_BINARY=\(explicit) is not executable")
            }
            return explicit
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tollgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            searched.append(candidate)
            directory = directory.deletingLastPathComponent()
        }
        throw Failure(
            description: "no tollgate binary (build it: swift build --product tollgate, or set TOLLGATE_BINARY); looked at "
                + searched.joined(separator: ", "))
    }

    /// A fresh temporary directory, removed by `body`'s end.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tg-ops-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }  // best effort: a leftover temp dir is harmless
        return try body(path)
    }

    /// Runs a program to completion (60 s at most).
    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) throws -> CommandRunner.Result {
        try CommandRunner(timeout: timeout).run(arguments)
    }

    /// Whether a program is on `PATH`.
    static func hasProgram(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// Every path under `root`, relative, sorted, directories with a trailing `/`.
    static func tree(_ root: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else {
            throw Failure(description: "cannot list \(root)")
        }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(root)/\(relative)", isDirectory: &isDirectory)
            result.append(isDirectory.boolValue ? relative + "/" : relative)
        }
        return result.sorted()
    }

    /// The text of a file.
    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Writes a text file.
    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
