import Foundation
import LinuxSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Watches the policy directory and its visible subdirectories with inotify (no polling while the directory
/// exists) and turns bursts of events into one "reload now" answer.
///
/// When the directory itself is deleted or moved away, every watch is dropped and ``isWatching`` turns false;
/// the caller then calls ``arm()`` every so often until the directory is back. ``wake()`` (SIGHUP, stop) may be
/// called from any thread; everything else runs on the daemon's reload thread.
final class DirectoryWatch: Sendable {
    /// Why ``waitForChange(timeout:)`` returned.
    enum Outcome: Hashable, Sendable {
        /// Something the loader reads changed; the string says what, for the log.
        case changed(String)
        /// The directory was deleted or moved away: the last good snapshot stays; wait for it to come back.
        case directoryLost
        /// ``wake()`` was called, or the timeout passed, with no change.
        case idle
    }

    /// The watched directory.
    let directory: String
    /// How bursts are merged.
    let debounce: DirectoryWatchDebounce
    private let inotify: Inotify
    private let watches = Mutex<Watches>(Watches())

    private struct Watches {
        /// The watch on the directory itself; nil while it is missing.
        var root: Int32? = nil
        /// Every watch added (the root's included), so a lost directory's watches can all be dropped.
        var all: Set<Int32> = []
    }

    /// Creates the inotify instance; the directory is not watched until ``arm()``.
    ///
    /// - Throws: ``SystemError`` naming `inotify_init1` or `socketpair`.
    init(directory: String, debounce: DirectoryWatchDebounce = DirectoryWatchDebounce()) throws(SystemError) {
        self.directory = directory
        self.debounce = debounce
        inotify = try Inotify()
    }

    /// Whether the directory is being watched.
    var isWatching: Bool { watches.withLock { $0.root != nil } }

    /// Watches the directory and its visible subdirectories. Returns false, without an error, when the directory
    /// does not exist (yet).
    ///
    /// - Throws: ``SystemError`` naming `inotify_add_watch(path)` for any other failure (such as `ENOSPC`, the
    ///   watch limit, or `EACCES`).
    @discardableResult
    func arm() throws(SystemError) -> Bool {
        let root: Int32
        do {
            root = try inotify.addWatch(directory, mask: DirectoryWatchEvent.mask)
        } catch where error.errno == .noSuchFileOrDirectory || error.errno.rawValue == ENOTDIR {
            return false
        }
        watches.withLock {
            $0.root = root
            $0.all.insert(root)
        }
        try watchSubdirectories(of: directory)
        return true
    }

    /// Makes a waiting ``waitForChange(timeout:)`` return at once. Safe from any thread.
    func wake() { inotify.wake() }

    /// Waits until a change has settled (see ``DirectoryWatchDebounce``), the directory is lost, ``wake()`` is
    /// called, or `timeout` passes (nil: no limit).
    ///
    /// - Throws: ``SystemError`` naming `poll` or `read(inotify)`.
    func waitForChange(timeout: Duration?) throws(SystemError) -> Outcome {
        var events = try inotify.readEvents(timeout: timeout)
        var reasons: [String] = []
        var first: ContinuousClock.Instant? = nil
        while true {
            for event in events {
                switch try handle(event) {
                case nil:
                    continue
                case .directoryLost:
                    return .directoryLost
                case .change(let reason):
                    if reasons.count < 8 && !reasons.contains(reason) { reasons.append(reason) }
                }
            }
            let now = ContinuousClock.now
            if !reasons.isEmpty && first == nil { first = now }
            guard let first else { return .idle }
            // Another event restarts the quiet period, up to the burst's limit.
            let deadline = debounce.deadline(first: first, last: now)
            if deadline <= now { break }
            events = try inotify.readEvents(timeout: deadline - now)
            if events.isEmpty { break }
        }
        return .changed(reasons.joined(separator: ", "))
    }

    /// What one event amounted to.
    private enum Handled: Hashable {
        case change(String)
        case directoryLost
    }

    /// Acts on one event: adds watches for new subdirectories, drops every watch when the directory is lost.
    /// Returns nil for an event that changes nothing the loader reads.
    private func handle(_ event: InotifyEvent) throws(SystemError) -> Handled? {
        let (isRoot, known) = watches.withLock { ($0.root == event.watch, $0.all.contains(event.watch)) }
        // Events of a watch already dropped (a lost directory's late events) are stale.
        guard known || event.mask.contains(.queueOverflow) else { return nil }
        let parent = inotify.path(of: event.watch) ?? directory
        let path = parent.hasSuffix("/") ? parent + event.name : parent + "/" + event.name
        switch DirectoryWatchEvent.classify(event, isRoot: isRoot) {
        case .ignored:
            if event.mask.contains(.ignored) { _ = watches.withLock { $0.all.remove(event.watch) } }
            return nil
        case .reload:
            return .change("\(path): \(Self.describe(event.mask))")
        case .created:
            var status = stat()
            // An empty regular file is being written: its close_write follows. Links arrive complete.
            if lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size == 0 { return nil }
            return .change("\(path): created")
        case .newDirectory:
            do {
                try watchSubdirectories(of: path, including: true)
            } catch where error.errno == .noSuchFileOrDirectory || error.errno.rawValue == ENOTDIR {
                // Gone again already: its removal is another event.
            }
            return .change("\(path): new directory")
        case .directoryLost:
            dropAllWatches()
            return .directoryLost
        case .overflow:
            // Events were lost: subdirectories may have appeared unseen.
            try watchSubdirectories(of: directory)
            return .change("inotify queue overflow")
        }
    }

    /// Watches the visible directories below `top` (and `top` itself when `including`). Symbolic links are not
    /// followed; hidden directories (a ConfigMap's timestamped ones) are not watched.
    private func watchSubdirectories(of top: String, including: Bool = false) throws(SystemError) {
        var pending = including ? [top] : Self.subdirectories(of: top)
        while let next = pending.popLast() {
            let watch = try inotify.addWatch(next, mask: DirectoryWatchEvent.mask)
            _ = watches.withLock { $0.all.insert(watch) }
            pending += Self.subdirectories(of: next)
        }
    }

    /// The visible subdirectories of `directory` (not links to directories); empty when it cannot be listed
    /// (it vanished in between: its removal is another event).
    private static func subdirectories(of directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().compactMap { name in
            guard !name.hasPrefix(".") else { return nil }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var status = stat()
            return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR ? path : nil
        }
    }

    /// Drops every watch: a moved directory's watches would follow it elsewhere.
    private func dropAllWatches() {
        let all = watches.withLock { state in
            defer { state = Watches() }
            return state.all
        }
        for watch in all {
            do {
                try inotify.removeWatch(watch)
            } catch {
                // EINVAL: the kernel already removed it with its directory. Nothing else can fail here.
            }
        }
    }

    /// `close_write`, `delete`, `moved_from`, `moved_to` or the raw mask, for the log.
    private static func describe(_ mask: InotifyEvent.Mask) -> String {
        if mask.contains(.closeWrite) { return "written" }
        if mask.contains(.delete) { return "deleted" }
        if mask.contains(.movedFrom) { return "renamed away" }
        if mask.contains(.movedTo) { return "renamed into place" }
        if mask.contains(.create) { return "created" }
        return "events 0x\(String(mask.rawValue, radix: 16))"
    }
}
