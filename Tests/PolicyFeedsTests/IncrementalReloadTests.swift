import Foundation
import PolicyFeeds
import PolicyModel
import Testing

/// The store's change tracking and the directory source's changes: what lets a reload cost in proportion to the
/// change. Each case compares the incrementally kept state with one built whole from the store.
struct IncrementalReloadTests {
    static func pod(_ name: String, app: String) -> ManifestObject { ObjectStoreTests.pod(name, app: app) }

    static func key(_ name: String) -> ObjectKey { ObjectKey(kind: "Pod", namespace: "team-a", name: name) }

    /// `changes` as comparable sets.
    static func sets(_ changes: ObjectChanges) -> (upserted: Set<ManifestObject>, removed: Set<ObjectKey>) {
        (Set(changes.upserted), Set(changes.removed))
    }

    @Test func takeChangesReportsEachChangedKeyOnceWithTheCopyInForce() {
        let store = ObjectStoreTests.twoSources(directoryApp: "dir", apiApp: "api")
        #expect(Set(store.takeChanges(all: true).upserted) == [Self.pod("web", app: "dir"), Self.pod("db", app: "db")])
        #expect(store.takeChanges().isEmpty)

        // The overridden copy changes: the key is reported with the copy still in force.
        store.upsert(source: "api", Self.pod("web", app: "api-2"))
        store.upsert(source: "api", Self.pod("cache", app: "c"))
        store.remove(source: "api", Self.key("db"))
        let first = Self.sets(store.takeChanges())
        #expect(first.upserted == [Self.pod("web", app: "dir"), Self.pod("cache", app: "c")])
        #expect(first.removed == [Self.key("db")])
        #expect(store.conflicts().map(\.key) == [Self.key("web")])

        // The winner goes: the other source's copy takes over, and the conflict ends.
        store.apply(source: "directory", ObjectChanges(removed: [Self.key("web")]))
        let second = Self.sets(store.takeChanges())
        #expect(second.upserted == [Self.pod("web", app: "api-2")] && second.removed.isEmpty)
        #expect(store.conflicts().isEmpty)
        // A change to nothing is not a change.
        #expect(!store.apply(source: "api", ObjectChanges(upserted: [Self.pod("cache", app: "c")], removed: [Self.key("never")])))
        #expect(store.takeChanges().isEmpty)
    }

    @Test func aStateKeptByChangesEqualsOneBuiltWhole() {
        let store = ObjectStore()
        store.addSource("api")
        var state: ClusterState? = nil
        var random = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let name = "p\(Int.random(in: 0..<20, using: &random))"
            if Bool.random(using: &random) {
                store.upsert(source: "api", Self.pod(name, app: "a\(round % 3)"))
            } else {
                store.remove(source: "api", Self.key(name))
            }
            if round % 7 == 0 {
                let policy = NetworkPolicy(namespace: "team-\(round % 2 == 0 ? "a" : "b")", name: "np\(round % 4)")
                store.upsert(source: "api", .networkPolicy(policy))
            }
            if round % 5 == 0 {
                let next = store.clusterState(updating: state)
                let whole = ClusterState(objects: store.objects())
                #expect(next.pods == whole.pods && next.namespaces == whole.namespaces)
                #expect(next.networkPolicies == whole.networkPolicies)
                state = next
            }
        }
    }

    @Test func theDirectorySourceWorksOutAChangeFromTheChangedFileAlone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-incremental-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ file: String, _ names: [String], app: String = "x") throws {
            let text = names.map {
                "apiVersion: v1\nkind: Pod\nmetadata: {name: \($0), namespace: team-a, labels: {app: \(app)}}"
            }.joined(separator: "\n---\n")
            let staging = directory.appendingPathComponent(".staging")
            try text.write(to: staging, atomically: false, encoding: .utf8)
            // A rename gives the file a new inode, so its fingerprint changes whatever the clock's resolution.
            _ = rename(staging.path, directory.appendingPathComponent(file).path)
        }
        let source = PolicyDirectorySource(directory: directory.path)
        let store = ObjectStore()
        store.addSource(source.name)
        var state: ClusterState? = nil
        /// Loads, puts the outcome into the store, and checks the kept state against one built whole.
        func reload() -> PolicyDirectorySource.Outcome {
            let outcome = source.load()
            store.update(source: source.name, with: outcome)
            let next = store.clusterState(updating: state)
            #expect(next.pods == ClusterState(objects: outcome.objects).pods)
            state = next
            return outcome
        }

        try write("a.yaml", ["a1", "a2"])
        try write("b.yaml", ["b1"])
        var outcome = reload()
        #expect(outcome.changes == nil && outcome.filesParsed == 2)

        try write("b.yaml", ["b1", "b2"], app: "y")
        outcome = reload()
        #expect(outcome.filesParsed == 1)
        #expect(try #require(outcome.changes).upserted.map(\.key) == [Self.key("b1"), Self.key("b2")])
        #expect(state?.pods.filter { $0.name.hasPrefix("b") }.map { $0.labels["app"] } == ["y", "y"])

        // A broken file keeps its last good objects: no change.
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: [}".write(
            to: directory.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        outcome = reload()
        #expect(outcome.filesKeptFromLastGood.count == 1 && outcome.errors.count == 1)
        #expect(try #require(outcome.changes).removed.isEmpty)
        #expect(state?.pods.count == 4)

        // A file removed takes its objects with it.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("b.yaml"))
        outcome = reload()
        #expect(try Set(#require(outcome.changes).removed) == [Self.key("b1"), Self.key("b2")])
        #expect(outcome.errors.isEmpty && outcome.filesKeptFromLastGood.isEmpty)

        // An object defined in two files: worked out from every file (the first file keeps it), and again when
        // the duplicate goes.
        try write("c.yaml", ["a1", "c1"], app: "z")
        outcome = reload()
        #expect(outcome.changes == nil)
        #expect(outcome.errors.map(\.message) == ["also defined in \(directory.path)/a.yaml; that definition is used"])
        #expect(state?.pods.map(\.name) == ["a1", "a2"])
        try write("c.yaml", ["c1"], app: "z")
        outcome = reload()
        #expect(outcome.changes == nil && outcome.errors.isEmpty)
        #expect(state?.pods.map(\.name) == ["a1", "a2", "c1"])
        // Uncontested again: the next change is worked out from the file alone.
        try write("c.yaml", ["c1", "c2"], app: "z")
        outcome = reload()
        #expect(outcome.changes != nil)
        #expect(state?.pods.map(\.name) == ["a1", "a2", "c1", "c2"])
    }
}
