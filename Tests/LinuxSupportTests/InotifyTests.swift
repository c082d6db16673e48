import Foundation
import Glibc
import Synchronization
import Testing

@testable import LinuxSupport

@Suite struct InotifyTests {
    /// Two records as the kernel lays them out (inotify(7)): a create of "a.yaml" with its name
    /// padded to 16 bytes, then a delete-self with no name. Built by hand from the struct layout.
    static let fixture: [UInt8] = {
        func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        var bytes: [UInt8] = []
        bytes += le32(1) + le32(0x100) + le32(0) + le32(16) + Array("a.yaml".utf8) + [UInt8](repeating: 0, count: 10)
        bytes += le32(1) + le32(0x400) + le32(0) + le32(0)
        return bytes
    }()

    @Test func decodesKernelRecords() {
        let result = InotifyEvent.decode(Self.fixture)
        #expect(
            result
                == InotifyEvent.DecodeResult(
                    events: [
                        InotifyEvent(watch: 1, mask: .create, name: "a.yaml"),
                        InotifyEvent(watch: 1, mask: .deleteSelf),
                    ], consumed: 48))
    }

    @Test func everyTruncationDecodesOnlyWholeRecords() {
        for length in 0..<Self.fixture.count {
            let result = InotifyEvent.decode(Array(Self.fixture[0..<length]))
            let expected: InotifyEvent.DecodeResult
            switch length {
            case 0..<32:
                expected = .init(events: [], consumed: 0)
            default:
                expected = .init(events: [InotifyEvent(watch: 1, mask: .create, name: "a.yaml")], consumed: 32)
            }
            #expect(result == expected, "length \(length)")
        }
    }

    @Test func hugeNameLengthDoesNotTrap() {
        var bytes = Self.fixture
        bytes[12] = 0xFF
        bytes[13] = 0xFF
        bytes[14] = 0xFF
        bytes[15] = 0xFF
        #expect(InotifyEvent.decode(bytes) == .init(events: [], consumed: 0))
    }

    static func makeTemporaryDirectory() throws -> String {
        let path = "/tmp/tg-inotify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func writeFile(_ path: String, _ text: String) throws {
        let fd = try SystemCall.run("open(\(path))") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        let bytes = Array(text.utf8)
        _ = try bytes.withUnsafeBytes { buffer in try SystemCall.run("write") { write(fd, buffer.baseAddress, buffer.count) } }
        try SystemCall.close(fd)
    }

    @Test func reportsCreateWriteRenameDeleteInATemporaryDirectory() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inotify = try Inotify()
        let watch = try inotify.addWatch(directory)
        #expect(inotify.path(of: watch) == directory)

        try Self.writeFile(directory + "/a.yaml", "kind: NetworkPolicy\n")
        _ = try SystemCall.run("rename") { rename(directory + "/a.yaml", directory + "/b.yaml") }
        _ = try SystemCall.run("unlink") { unlink(directory + "/b.yaml") }

        var events: [InotifyEvent] = []
        for _ in 0..<20 where events.count < 6 {
            events += try inotify.readEvents(timeout: .milliseconds(100))
        }
        let cookie = events.first(where: { $0.mask == .movedFrom })?.cookie ?? 0
        #expect(cookie != 0)
        #expect(
            events == [
                InotifyEvent(watch: watch, mask: .create, name: "a.yaml"),
                InotifyEvent(watch: watch, mask: .modify, name: "a.yaml"),
                InotifyEvent(watch: watch, mask: .closeWrite, name: "a.yaml"),
                InotifyEvent(watch: watch, mask: .movedFrom, cookie: cookie, name: "a.yaml"),
                InotifyEvent(watch: watch, mask: .movedTo, cookie: cookie, name: "b.yaml"),
                InotifyEvent(watch: watch, mask: .delete, name: "b.yaml"),
            ])
    }

    @Test func readTimesOutAndWakes() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inotify = try Inotify()
        try inotify.addWatch(directory)
        var stopwatch = Stopwatch()
        #expect(try inotify.readEvents(timeout: .milliseconds(50)) == [])
        #expect(stopwatch.lap() >= 45_000_000)
        inotify.wake()
        #expect(try inotify.readEvents(timeout: .seconds(5)) == [])
        #expect(stopwatch.lap() < 1_000_000_000)
    }

    @Test func watchingAMissingDirectoryNamesIt() throws {
        let inotify = try Inotify()
        #expect(throws: SystemError(call: "inotify_add_watch(/nonexistent/tollgate)", errno: .noSuchFileOrDirectory)) {
            try inotify.addWatch("/nonexistent/tollgate")
        }
    }

    @Test func directoryWatcherFollowsNewSubdirectoriesAndStops() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seen = Mutex<[String]>([])
        let watcher = try DirectoryWatcher(directory: directory, recursive: true) { result in
            guard case .success(let events) = result else { return }
            seen.withLock { list in
                list += events.filter { $0.mask.contains(.closeWrite) }.map { $0.name }
            }
        }
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: false)
        // Wait until the watcher has added the new subdirectory's watch.
        for _ in 0..<200 {
            if (1...8).contains(where: { watcher.path(of: $0) == directory + "/sub" }) { break }
            usleep(5_000)
        }
        try Self.writeFile(directory + "/top.yaml", "x")
        try Self.writeFile(directory + "/sub/inner.yaml", "y")
        for _ in 0..<400 where seen.withLock({ $0.count }) < 2 {
            usleep(5_000)
        }
        #expect(seen.withLock { $0.sorted() } == ["inner.yaml", "top.yaml"])
        let stopwatch = Stopwatch()
        watcher.stop()
        #expect(stopwatch.elapsedNanoseconds < 500_000_000)
    }
}
