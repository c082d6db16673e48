import Foundation
import LinuxSupport
import Testing

@testable import TollgateDaemon

/// `DirectoryWatch` on a real temporary directory: bursts become one change, ignored files none, a removed
/// directory is reported and watched again once recreated, new subdirectories are followed.
@Suite("Watcher directory watch")
struct WatcherDirectoryWatchTests {
    /// A fresh temporary directory holding `policies/`, removed by `deinit`.
    final class Fixture {
        let root: String
        let directory: String

        init() throws {
            root = NSTemporaryDirectory() + "tg-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            directory = root + "/policies"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ name: String, _ text: String = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n") throws {
            try text.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8)
        }
    }

    /// A quiet window far above any gap between the writes of one test step, even on a loaded machine: these tests
    /// check which events become a change, not the default window's length (a file's create and its close, or ten
    /// writes, more than 5 ms apart under load would otherwise be two changes).
    static let patientDebounce = DirectoryWatchDebounce(quiet: .milliseconds(150), limit: .seconds(1))

    /// The reasons of a `.changed` outcome; empty otherwise.
    static func reasons(_ outcome: DirectoryWatch.Outcome) -> [String] {
        guard case .changed(let what) = outcome else { return [] }
        return what.components(separatedBy: ", ")
    }

    @Test("Ten files written in a burst are one change")
    func burstIsOneChange() throws {
        let fixture = try Fixture()
        let watch = try DirectoryWatch(directory: fixture.directory, debounce: Self.patientDebounce)
        #expect(try watch.arm())
        for index in 0..<10 { try fixture.write("policy-\(index).yaml") }
        let first = try watch.waitForChange(timeout: .seconds(2))
        guard case .changed(let what) = first else {
            Issue.record("expected a change, got \(first)")
            return
        }
        #expect(what.contains("policy-0.yaml"), "\(what)")
        #expect(try watch.waitForChange(timeout: .milliseconds(400)) == .idle)
    }

    @Test("Swap and backup files are no change")
    func ignoredFilesAreNoChange() throws {
        let fixture = try Fixture()
        let watch = try DirectoryWatch(directory: fixture.directory)
        #expect(try watch.arm())
        try fixture.write(".policy.yaml.swp")
        try fixture.write("policy.yaml~")
        #expect(try watch.waitForChange(timeout: .milliseconds(200)) == .idle)
    }

    @Test("A removed directory is reported; recreated, it is watched again")
    func removedDirectoryIsReportedAndRearmed() throws {
        let fixture = try Fixture()
        let watch = try DirectoryWatch(directory: fixture.directory)
        #expect(try watch.arm())
        try FileManager.default.removeItem(atPath: fixture.directory)
        var outcome = try watch.waitForChange(timeout: .seconds(2))
        // An empty directory's removal: the root's IN_DELETE_SELF arrives, possibly after nothing else.
        #expect(outcome == .directoryLost)
        #expect(!watch.isWatching)
        #expect(try watch.arm() == false)
        try FileManager.default.createDirectory(atPath: fixture.directory, withIntermediateDirectories: false)
        #expect(try watch.arm())
        try fixture.write("policy.yaml")
        outcome = try watch.waitForChange(timeout: .seconds(2))
        // The create may be reported too when the file already has content by the time its event is read.
        #expect(Self.reasons(outcome).contains("\(fixture.directory)/policy.yaml: written"), "\(outcome)")
    }

    @Test("A subdirectory created after arming is watched")
    func newSubdirectoryIsWatched() throws {
        let fixture = try Fixture()
        let watch = try DirectoryWatch(directory: fixture.directory, debounce: Self.patientDebounce)
        #expect(try watch.arm())
        try FileManager.default.createDirectory(atPath: fixture.directory + "/team", withIntermediateDirectories: false)
        #expect(try watch.waitForChange(timeout: .seconds(2)) == .changed("\(fixture.directory)/team: new directory"))
        try fixture.write("team/policy.yaml")
        let outcome = try watch.waitForChange(timeout: .seconds(2))
        #expect(Self.reasons(outcome).contains("\(fixture.directory)/team/policy.yaml: written"), "\(outcome)")
    }

    @Test("wake() returns a waiting call at once with no change")
    func wakeReturnsIdle() throws {
        let fixture = try Fixture()
        let watch = try DirectoryWatch(directory: fixture.directory)
        #expect(try watch.arm())
        watch.wake()
        let started = ContinuousClock.now
        #expect(try watch.waitForChange(timeout: .seconds(5)) == .idle)
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}
