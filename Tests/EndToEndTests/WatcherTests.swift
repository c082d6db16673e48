import Foundation
import Testing
import TollgateTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The inotify directory watcher against a running daemon: every file operation a configuration tool, an editor
/// or kubelet performs on the policy directory, checked through `/status` generations and real connections.
/// The safety-net poll is off (`--poll-interval-ms 0`), so every change is seen through inotify alone.
extension EndToEndTests {
    /// The intruder's policy: the server also takes HTTP from namespaces labelled `team: other`, as a second
    /// NetworkPolicy (policies add up).
    static let serverFromOther = Manifests.ingressPolicy(
        name: "server-from-other", target: "server",
        rules: ["{from: [{namespaceSelector: {matchLabels: {team: other}}}], ports: [{port: http}]}"])

    /// A base scenario (server takes HTTP from the client only) and a daemon with inotify alone.
    static func watcherScenario(tag: String, queue: UInt16, port: UInt16) throws -> (Scenario, TollgateProcess) {
        let scenario = try baseScenario(tag: tag, policy: Manifests.serverFromClient)
        do {
            var options = scenario.options(queue: queue, port: port)
            options.pollIntervalMilliseconds = 0
            let daemon = try scenario.startDaemon(options)
            return (scenario, daemon)
        } catch {
            scenario.close()
            throw error
        }
    }

    /// The part of `/status` the directory watch adds.
    struct WatchStatus: Decodable, Equatable {
        struct Watch: Decodable, Equatable {
            var mode: String
            var watching: Bool
            var directoryLosses: Int
            var pollReloads: Int
        }

        var directoryWatch: Watch
    }

    /// `/status`'s `directoryWatch` object.
    static func watchStatus(_ daemon: TollgateProcess) throws -> WatchStatus.Watch {
        let (code, body) = daemon.get("/status")
        #expect(code == 200)
        return try JSONDecoder().decode(WatchStatus.self, from: Data(body.utf8)).directoryWatch
    }

    /// Sleeps for `duration`.
    static func pause(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        _ = usleep(UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }

    /// Whether the intruder reaches the server's HTTP port now (a denied attempt costs one second).
    static func intruderReaches(_ scenario: Scenario) throws -> Bool {
        try scenario.reaches("intruder", "server", port: 8080, timeout: .seconds(1))
    }

    /// Waits for a generation after `generation`, then lets 300 ms pass (any further reload of the same change
    /// would land by then) and returns the status.
    static func settledReload(_ daemon: TollgateProcess, after generation: UInt64) throws -> TollgateProcess.Status {
        try daemon.waitForGeneration(atLeast: generation + 1, timeout: .seconds(3))
        Self.pause(.milliseconds(300))
        return try daemon.status()
    }

    /// Writes `contents` to `path` in place (open, truncate, write, close), as an editor saving without a rename.
    static func writeInPlace(_ path: String, _ contents: String, append: Bool = false) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    @Test("watcher: a new file written in the directory applies, in one reload")
    func watcherAppliesCreatedFile() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-crt", queue: 2000, port: 22001)
        defer { scenario.close() }
        #expect(try Self.intruderReaches(scenario) == false)
        let before = try daemon.status()
        let written = ContinuousClock.now
        try Self.writeInPlace(scenario.directory.path + "/extra.yaml", Self.serverFromOther)
        let status = try Self.settledReload(daemon, after: before.generation)
        report("watcher: file created -> generation \(status.generation) (first seen \(ContinuousClock.now - written) incl. 300 ms settle)")
        #expect(status.generation == before.generation + 1 && status.policies == 2, "\(status)")
        #expect(status.sources.first?.errors == [])
        #expect(try Self.intruderReaches(scenario) == true)
    }

    @Test("watcher: a file modified in place applies once its close_write arrives")
    func watcherAppliesModifiedFile() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-mod", queue: 2010, port: 22011)
        defer { scenario.close() }
        let before = try daemon.status()
        try Self.writeInPlace(scenario.directory.path + "/policy.yaml", Manifests.serverFromClientAndOther)
        let status = try Self.settledReload(daemon, after: before.generation)
        #expect(status.generation == before.generation + 1 && status.policies == 1, "\(status)")
        #expect(status.sources.first?.errors == [])
        #expect(try Self.intruderReaches(scenario) == true)
    }

    @Test("watcher: a deleted file's policies stop applying")
    func watcherAppliesDeletion() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-del", queue: 2020, port: 22021)
        defer { scenario.close() }
        #expect(try Self.intruderReaches(scenario) == false)
        let before = try daemon.status()
        try scenario.directory.delete("policy.yaml")
        let status = try Self.settledReload(daemon, after: before.generation)
        #expect(status.generation == before.generation + 1 && status.policies == 0, "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
    }

    @Test("watcher: a temporary file renamed into place applies once; the temporary file itself is ignored")
    func watcherAppliesRenameIntoPlace() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-ren", queue: 2030, port: 22031)
        defer { scenario.close() }
        let before = try daemon.status()
        let directory = scenario.directory.path
        try Self.writeInPlace(directory + "/policy.yaml.tmp", Manifests.serverFromClientAndOther)
        Self.pause(.milliseconds(300))
        #expect(try daemon.status().generation == before.generation, "the temporary file caused a reload")
        #expect(rename(directory + "/policy.yaml.tmp", directory + "/policy.yaml") == 0)
        let status = try Self.settledReload(daemon, after: before.generation)
        #expect(status.generation == before.generation + 1 && status.policies == 1, "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
        // Renamed away: the file's policy goes.
        #expect(rename(directory + "/policy.yaml", scenario.directory.root + "/moved-away.yaml") == 0)
        let after = try Self.settledReload(daemon, after: status.generation)
        #expect(after.generation == status.generation + 1 && after.policies == 0, "\(after)")
    }

    @Test("watcher: editors' swap, backup and probe files cause no reload")
    func watcherIgnoresEditorFiles() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-swp", queue: 2040, port: 22041)
        defer { scenario.close() }
        let before = try daemon.status()
        let directory = scenario.directory.path
        // vim's swap file and its write-probe file, emacs's lock and auto-save files, backup files.
        for name in [".policy.yaml.swp", "4913", ".#policy.yaml", "#policy.yaml#", "policy.yaml~", "policy.yaml.bak"] {
            try Self.writeInPlace(directory + "/" + name, "kind: [\n")
        }
        try FileManager.default.removeItem(atPath: directory + "/.policy.yaml.swp")
        try FileManager.default.removeItem(atPath: directory + "/4913")
        Self.pause(.milliseconds(500))
        let status = try daemon.status()
        #expect(status.generation == before.generation, "\(status)")
        #expect(status.sources.first?.errors == [])
    }

    @Test("watcher: a new subdirectory and its files are watched")
    func watcherFollowsNewSubdirectory() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-sub", queue: 2050, port: 22051)
        defer { scenario.close() }
        let before = try daemon.status()
        let subdirectory = scenario.directory.path + "/team-other"
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        try Self.writeInPlace(subdirectory + "/extra.yaml", Self.serverFromOther)
        var status = try daemon.waitForGeneration(atLeast: before.generation + 1, timeout: .seconds(3))
        try daemon.wait(for: "the subdirectory's policy", timeout: .seconds(3)) { () throws(TollgateProcess.Failure) in
            try daemon.status().policies == 2
        }
        #expect(try Self.intruderReaches(scenario) == true)
        // The new subdirectory is itself watched: a change inside it alone applies.
        status = try daemon.status()
        try Self.writeInPlace(subdirectory + "/extra.yaml", "")
        let after = try Self.settledReload(daemon, after: status.generation)
        #expect(after.generation == status.generation + 1 && after.policies == 1, "\(after)")
        #expect(try Self.intruderReaches(scenario) == false)
    }

    @Test("watcher: a ConfigMap-style ..data symlink swap applies as one reload")
    func watcherFollowsConfigMapSwap() throws {
        let scenario = try Scenario(tag: "w-cm", files: [:])
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        let root = scenario.directory.path
        // kubelet's atomic writer: the keys are links through ..data into a timestamped directory.
        func publish(_ version: String, policy: String) throws {
            let directory = root + "/..2026_11_27_08_00_\(version)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try Manifests.baseCluster.write(toFile: directory + "/cluster.yaml", atomically: false, encoding: .utf8)
            try policy.write(toFile: directory + "/policy.yaml", atomically: false, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: root + "/..data_tmp", withDestinationPath: (directory as NSString).lastPathComponent)
            #expect(rename(root + "/..data_tmp", root + "/..data") == 0)
        }
        try publish("01", policy: Manifests.serverFromClient)
        for key in ["cluster.yaml", "policy.yaml"] {
            try FileManager.default.createSymbolicLink(atPath: root + "/" + key, withDestinationPath: "..data/" + key)
        }
        var options = scenario.options(queue: 2060, port: 22061)
        options.pollIntervalMilliseconds = 0
        let daemon = try scenario.startDaemon(options)
        let before = try daemon.status()
        #expect(before.policies == 1 && before.pods == 3, "\(before)")
        #expect(try Self.intruderReaches(scenario) == false)

        let swapped = ContinuousClock.now
        try publish("02", policy: Manifests.serverFromClientAndOther)
        try FileManager.default.removeItem(atPath: root + "/..2026_11_27_08_00_01")
        let status = try Self.settledReload(daemon, after: before.generation)
        report("watcher: ConfigMap swap seen and settled after \(ContinuousClock.now - swapped) (incl. 300 ms settle)")
        #expect(status.generation == before.generation + 1 && status.sources.first?.errors == [], "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
    }

    @Test("watcher: a half-written file keeps the last good policy and reports the error; the completed file applies")
    func watcherHandlesHalfWrittenFile() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-half", queue: 2070, port: 22071)
        defer { scenario.close() }
        let file = scenario.directory.path + "/policy.yaml"
        let full = Manifests.serverFromClientAndOther
        // Cut inside the flow sequence of the rule: the first half is not valid YAML.
        let cut = try #require(full.range(of: "{namespaceSelector"))
        let firstHalf = String(full[..<cut.upperBound])
        let secondHalf = String(full[cut.upperBound...])
        let before = try daemon.status()

        try Self.writeInPlace(file, firstHalf)
        var status = try Self.settledReload(daemon, after: before.generation)
        #expect(status.sources.first?.filesKeptFromLastGood == [file], "\(status)")
        #expect(status.sources.first?.errors.count ?? 0 >= 1 && status.sources.first?.errors.allSatisfy { $0.hasPrefix(file) } == true,
            "\(status.sources)")
        #expect(status.policies == 1)
        #expect(try Self.intruderReaches(scenario) == false)

        try Self.writeInPlace(file, secondHalf, append: true)
        status = try Self.settledReload(daemon, after: status.generation)
        #expect(status.sources.first?.errors == [] && status.sources.first?.filesKeptFromLastGood == [], "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
    }

    @Test(
        "watcher: the directory removed (or moved away) keeps the last good snapshot; recreated, it is watched again",
        arguments: ["remove", "move"])
    func watcherSurvivesDirectoryReplacement(how: String) throws {
        let (scenario, daemon) = try Self.watcherScenario(
            tag: "w-rm\(how.prefix(1))", queue: how == "remove" ? 2080 : 2090, port: how == "remove" ? 22081 : 22091)
        defer { scenario.close() }
        let before = try daemon.status()
        let directory = scenario.directory.path
        if how == "remove" {
            try FileManager.default.removeItem(atPath: directory)
        } else {
            #expect(rename(directory, scenario.directory.root + "/policies.old") == 0)
        }
        try daemon.wait(for: "the directory reported unreadable", timeout: .seconds(3)) { () throws(TollgateProcess.Failure) in
            try daemon.status().sources.first?.readable == false
        }
        var status = try daemon.status()
        #expect(status.generation == before.generation && status.policies == 1 && status.ready, "\(status)")
        #expect(try Self.watchStatus(daemon) == .init(mode: "inotify", watching: false, directoryLosses: 1, pollReloads: 0))
        #expect(try Self.intruderReaches(scenario) == false)
        if how == "move" {
            // The moved directory is no longer the policy directory: changes there are not followed.
            try Self.writeInPlace(scenario.directory.root + "/policies.old/policy.yaml", Manifests.serverDenyAll)
            Self.pause(.milliseconds(300))
            #expect(try daemon.status().generation == before.generation)
        }

        let recreated = ContinuousClock.now
        try scenario.directory.materialize(["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClientAndOther])
        status = try daemon.waitForGeneration(atLeast: before.generation + 1, timeout: .seconds(3))
        report("watcher: directory recreated -> generation \(status.generation) after \(ContinuousClock.now - recreated)")
        #expect(status.sources.first?.readable == true && status.sources.first?.errors == [], "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
        #expect(try Self.watchStatus(daemon) == .init(mode: "inotify", watching: true, directoryLosses: 1, pollReloads: 0))
        // Watched again: an edit inside applies.
        try Self.writeInPlace(directory + "/policy.yaml", Manifests.serverFromClient)
        let after = try Self.settledReload(daemon, after: status.generation)
        #expect(after.generation == status.generation + 1, "\(after)")
        #expect(try Self.intruderReaches(scenario) == false)
    }

    @Test("watcher: SIGHUP rereads the directory even when inotify saw nothing complete (a file still open)")
    func watcherSighupForcesReread() throws {
        let (scenario, daemon) = try Self.watcherScenario(tag: "w-hup", queue: 2150, port: 22151)
        defer { scenario.close() }
        let before = try daemon.status()
        // Written but not closed: no IN_CLOSE_WRITE yet, so the watcher does not reload.
        let descriptor = open(scenario.directory.path + "/policy.yaml", O_WRONLY | O_TRUNC)
        #expect(descriptor >= 0)
        defer { if descriptor >= 0 { close(descriptor) } }
        let bytes = Array(Manifests.serverFromClientAndOther.utf8)
        #expect(bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
        Self.pause(.milliseconds(500))
        #expect(try daemon.status().generation == before.generation)
        #expect(try Self.intruderReaches(scenario) == false)

        daemon.send(SIGHUP)
        let status = try daemon.waitForGeneration(atLeast: before.generation + 1, timeout: .seconds(3))
        #expect(status.generation == before.generation + 1 && status.sources.first?.errors == [], "\(status)")
        #expect(try Self.intruderReaches(scenario) == true)
    }
}
