import Foundation
import PolicyModel
import Testing

/// A policy directory as people and Kubernetes leave it: good and bad files, editor leftovers, subdirectories,
/// and a mounted ConfigMap (`..data` pointing at a timestamped directory, the visible names links through it).
@Suite("Loading a directory")
struct DirectoryLoadTests {
    /// Creates a fresh directory under the system temporary directory, runs `body`, and removes it on every path.
    static func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let manager = FileManager.default
        let path = manager.temporaryDirectory.appendingPathComponent("tg-spec-\(getpid())-\(UUID().uuidString)").path
        try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: path) }
        try body(path)
    }

    static func namespace(_ name: String) -> String {
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n"
    }

    @Test("each object loads once; bad files are reported and do not stop the others")
    func mixedDirectory() throws {
        try Self.withTemporaryDirectory { root in
            let manager = FileManager.default
            func write(_ relative: String, _ text: String) throws {
                let path = root + "/" + relative
                try manager.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: false, encoding: .utf8)
            }
            try write("good.yaml", Self.namespace("good"))
            try write("bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: [\n")
            try write("sub/nested.yml", Self.namespace("nested"))
            try write("sub/deeper/more.json", #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "json"}}"#)
            // Editor and other leftovers: none of these is read.
            try write(".hidden.yaml", Self.namespace("hidden"))
            try write(".good.yaml.swp", Self.namespace("swap"))
            try write("good.yaml~", Self.namespace("backup"))
            try write("#good.yaml#", Self.namespace("autosave"))
            try write("README.md", "# not a manifest\n")
            try write(".git/config.yaml", Self.namespace("git"))
            // A mounted ConfigMap: the data lives in a hidden timestamped directory, reached through `..data`,
            // and the visible names are links through `..data`.
            let stamp = "..2025_01_01_00_00_00.000000001"
            try write("cm/\(stamp)/policy.yaml", Self.namespace("configmap"))
            try manager.createSymbolicLink(atPath: root + "/cm/..data", withDestinationPath: stamp)
            try manager.createSymbolicLink(atPath: root + "/cm/policy.yaml", withDestinationPath: "..data/policy.yaml")
            // A link back up the tree must not loop.
            try manager.createSymbolicLink(atPath: root + "/sub/loop", withDestinationPath: "..")

            let result = ManifestLoader.loadDirectory(root)
            #expect(
                result.files.map(\.file) == [
                    root + "/bad.yaml", root + "/cm/policy.yaml", root + "/good.yaml", root + "/sub/deeper/more.json",
                    root + "/sub/nested.yml",
                ])
            #expect(
                result.objects.map(\.key.name).sorted() == ["configmap", "good", "json", "nested"])
            #expect(result.directoryErrors == [])
            let errors = result.errors
            do {
                #expect(errors.map(\.file) == [root + "/bad.yaml"])
                #expect(errors.first?.message.hasPrefix("invalid YAML") == true)
            }
        }
    }

    @Test("an object defined in two files: the first file in path order wins, the other is reported")
    func duplicateAcrossFiles() throws {
        try Self.withTemporaryDirectory { root in
            try "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {from: a}}\n".write(
                toFile: root + "/a.yaml", atomically: false, encoding: .utf8)
            try "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {from: b}}\n".write(
                toFile: root + "/b.yaml", atomically: false, encoding: .utf8)
            let result = ManifestLoader.loadDirectory(root)
            #expect(result.objects == [.namespace(Namespace(name: "x", labels: ["from": "a"]))])
            #expect(
                result.errors == [
                    PolicyError(
                        file: root + "/b.yaml", object: ObjectKey(kind: "Namespace", namespace: "", name: "x"),
                        message: "also defined in \(root)/a.yaml; that definition is used")
                ])
        }
    }

    @Test("a missing directory is one directory error")
    func missingDirectory() throws {
        try Self.withTemporaryDirectory { root in
            let result = ManifestLoader.loadDirectory(root + "/absent")
            #expect(result.files.isEmpty)
            #expect(
                result.directoryErrors == [
                    PolicyError(file: root + "/absent", message: "the policy directory does not exist")
                ])
        }
    }

    @Test("editor leftovers and hidden names are not manifests", arguments: [
        ("policy.yaml", true), ("policy.YML", true), ("policy.json", true), (".policy.yaml", false),
        (".policy.yaml.swp", false), ("policy.yaml~", false), ("#policy.yaml#", false), ("..data", false),
        ("policy.txt", false), ("policy", false),
    ])
    func manifestNames(_ row: (name: String, isManifest: Bool)) {
        #expect(ManifestLoader.isManifestName(row.name) == row.isManifest)
    }
}
