import Foundation
import LinuxSupport
import Testing

@testable import TollgateDaemon

/// The policy directory watcher's rules, without a daemon: which inotify events reload, and how bursts merge;
/// then a real inotify watch on a temporary directory.
@Suite("Watcher events")
struct WatcherEventTests {
    /// One classification case: the event, whether it came from the root watch, and the expected meaning.
    struct Case: CustomStringConvertible, Sendable {
        var mask: InotifyEvent.Mask
        var name: String
        var isRoot: Bool
        var expected: DirectoryWatchEvent

        var description: String { "\(name.isEmpty ? "(self)" : name) 0x\(String(mask.rawValue, radix: 16)) root=\(isRoot)" }
    }

    static let cases: [Case] = [
        Case(mask: .create, name: "policy.yaml", isRoot: true, expected: .created),
        Case(mask: .closeWrite, name: "policy.yaml", isRoot: true, expected: .reload),
        Case(mask: .closeWrite, name: "nested.json", isRoot: false, expected: .reload),
        Case(mask: .movedTo, name: "policy.yaml", isRoot: true, expected: .reload),
        Case(mask: .movedFrom, name: "policy.yml", isRoot: true, expected: .reload),
        Case(mask: .delete, name: "policy.yaml", isRoot: false, expected: .reload),
        // Editors' files: vim's swap and write probe, emacs's lock and auto-save, backups, temporary names.
        Case(mask: .closeWrite, name: ".policy.yaml.swp", isRoot: true, expected: .ignored),
        Case(mask: .create, name: "4913", isRoot: true, expected: .ignored),
        Case(mask: .create, name: ".#policy.yaml", isRoot: true, expected: .ignored),
        Case(mask: .closeWrite, name: "#policy.yaml#", isRoot: true, expected: .ignored),
        Case(mask: .closeWrite, name: "policy.yaml~", isRoot: true, expected: .ignored),
        Case(mask: .closeWrite, name: "policy.yaml.tmp", isRoot: true, expected: .ignored),
        Case(mask: .delete, name: "README.md", isRoot: true, expected: .ignored),
        // Subdirectories.
        Case(mask: [.create, .isDirectory], name: "team-a", isRoot: true, expected: .newDirectory),
        Case(mask: [.movedTo, .isDirectory], name: "team-a", isRoot: false, expected: .newDirectory),
        Case(mask: [.delete, .isDirectory], name: "team-a", isRoot: true, expected: .reload),
        Case(mask: [.movedFrom, .isDirectory], name: "team-a", isRoot: true, expected: .reload),
        // A mounted ConfigMap: the timestamped directories are hidden; the ..data rename announces a version.
        Case(mask: [.create, .isDirectory], name: "..2026_11_27_08_00_00.123", isRoot: true, expected: .ignored),
        Case(mask: [.delete, .isDirectory], name: "..2026_11_27_08_00_00.123", isRoot: true, expected: .ignored),
        Case(mask: .create, name: "..data_tmp", isRoot: true, expected: .ignored),
        Case(mask: .movedFrom, name: "..data_tmp", isRoot: true, expected: .ignored),
        Case(mask: .movedTo, name: "..data", isRoot: true, expected: .reload),
        Case(mask: .movedTo, name: "..data", isRoot: false, expected: .ignored),
        // The directory itself.
        Case(mask: .deleteSelf, name: "", isRoot: true, expected: .directoryLost),
        Case(mask: .moveSelf, name: "", isRoot: true, expected: .directoryLost),
        Case(mask: .ignored, name: "", isRoot: true, expected: .directoryLost),
        Case(mask: .unmount, name: "", isRoot: true, expected: .directoryLost),
        Case(mask: .ignored, name: "", isRoot: false, expected: .ignored),
        Case(mask: .deleteSelf, name: "", isRoot: false, expected: .ignored),
        Case(mask: .queueOverflow, name: "", isRoot: false, expected: .overflow),
        // Truncation before a rewrite in place is not a reason to reload (only its close_write is).
        Case(mask: .modify, name: "policy.yaml", isRoot: true, expected: .ignored),
    ]

    @Test("Each inotify event is classified as the watcher's rules say", arguments: cases)
    func classification(_ item: Case) {
        let event = InotifyEvent(watch: 1, mask: item.mask, name: item.name)
        #expect(DirectoryWatchEvent.classify(event, isRoot: item.isRoot) == item.expected)
    }

    @Test("IN_MODIFY is not watched: a truncated file is never loaded before its close_write")
    func maskLeavesOutModify() {
        #expect(DirectoryWatchEvent.mask == [.create, .closeWrite, .delete, .movedFrom, .movedTo, .deleteSelf, .moveSelf])
    }

    @Test(
        "A burst applies 5 ms after its last event, at most 100 ms after its first",
        arguments: [(0, 0, 5), (0, 30, 35), (0, 94, 99), (0, 95, 100), (0, 97, 100), (10, 200, 110)])
    func debounceDeadline(first: Int, last: Int, expected: Int) {
        let origin = ContinuousClock.now
        let debounce = DirectoryWatchDebounce()
        let deadline = debounce.deadline(first: origin + .milliseconds(first), last: origin + .milliseconds(last))
        #expect(deadline == origin + .milliseconds(expected))
    }
}
