internal import Glibc
import Foundation
import Synchronization

/// An inotify instance (see inotify(7)): watches on directories, and a blocking read of their
/// events that ``wake()`` can interrupt from another thread.
///
/// The corresponding C functions are `inotify_init1`, `inotify_add_watch`, `inotify_rm_watch`;
/// waiting uses `poll` on the inotify descriptor and on a socket pair used as a wake-up pipe.
public final class Inotify: Sendable {
    private let descriptor: Int32
    /// `[0]` is read by ``readEvents(timeout:)``, `[1]` written by ``wake()``.
    private let wakeup: (reader: Int32, writer: Int32)
    /// Watched paths by watch descriptor, so events can be related back to directories.
    private let paths = Mutex<[Int32: String]>([:])

    /// Creates an inotify instance.
    ///
    /// - Throws: ``SystemError`` naming `inotify_init1` or `socketpair`.
    public init() throws(SystemError) {
        let descriptor = try SystemCall.run("inotify_init1") { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        var pair: [Int32] = [-1, -1]
        do throws(SystemError) {
            _ = try SystemCall.run("socketpair(wake-up)") {
                socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair)
            }
        } catch {
            _ = close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        self.wakeup = (pair[0], pair[1])
    }

    deinit {
        _ = close(descriptor)
        _ = close(wakeup.reader)
        _ = close(wakeup.writer)
    }

    /// Watches `path` for `mask` events and returns the watch descriptor (the same one again
    /// for a path already watched).
    ///
    /// - Throws: ``SystemError`` naming `inotify_add_watch(path)`.
    @discardableResult
    public func addWatch(_ path: String, mask: InotifyEvent.Mask = .directoryChanges) throws(SystemError) -> Int32 {
        let watch = try SystemCall.run("inotify_add_watch(\(path))") {
            inotify_add_watch(descriptor, path, mask.rawValue)
        }
        paths.withLock { $0[watch] = path }
        return watch
    }

    /// Watches `directory` and every directory below it (symbolic links are not followed).
    /// Directories created later are not added: a caller that wants them reacts to `create`
    /// events carrying ``InotifyEvent/Mask/isDirectory``.
    ///
    /// - Returns: Watch descriptors by path.
    /// - Throws: ``SystemError`` for the first directory that cannot be watched.
    @discardableResult
    public func addWatchRecursively(_ directory: String, mask: InotifyEvent.Mask = .directoryChanges) throws(SystemError) -> [String: Int32] {
        var added: [String: Int32] = [:]
        var pending = [directory]
        while let next = pending.popLast() {
            added[next] = try addWatch(next, mask: mask)
            let children = (try? FileManager.default.contentsOfDirectory(atPath: next)) ?? []  // vanished: nothing to add
            for child in children.sorted() {
                let path = next.hasSuffix("/") ? next + child : next + "/" + child
                var status = stat()
                if lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
                    pending.append(path)
                }
            }
        }
        return added
    }

    /// Stops watching `watch`; an `ignored` event follows.
    ///
    /// - Throws: ``SystemError`` naming `inotify_rm_watch`.
    public func removeWatch(_ watch: Int32) throws(SystemError) {
        _ = try SystemCall.run("inotify_rm_watch(\(watch))") { inotify_rm_watch(descriptor, watch) }
        paths.withLock { _ = $0.removeValue(forKey: watch) }
    }

    /// The path given to ``addWatch(_:mask:)`` for `watch`.
    public func path(of watch: Int32) -> String? {
        paths.withLock { $0[watch] }
    }

    /// Waits until events arrive, ``wake()`` is called, or `timeout` passes (`nil`: no limit),
    /// then returns the events that are ready (empty on wake-up or timeout).
    ///
    /// - Throws: ``SystemError`` naming `poll` or `read(inotify)`.
    public func readEvents(timeout: Duration? = nil) throws(SystemError) -> [InotifyEvent] {
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeup.reader, events: Int16(POLLIN), revents: 0),
        ]
        let milliseconds = timeout.map { Int32(clamping: nanoseconds($0) / 1_000_000) } ?? -1
        let ready = try SystemCall.run("poll(inotify)") { poll(&descriptors, 2, milliseconds) }
        if ready == 0 { return [] }
        if descriptors[1].revents != 0 {
            drainWakeups()
        }
        guard descriptors[0].revents & Int16(POLLIN) != 0 else { return [] }
        // Big enough for many records; the kernel never splits a record across reads.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var events: [InotifyEvent] = []
        while true {
            let outcome = buffer.withUnsafeMutableBytes { bytes -> Result<[InotifyEvent], SystemError> in
                guard let base = bytes.baseAddress else { return .success([]) }
                let count = read(descriptor, base, bytes.count)
                if count < 0 {
                    let error = Errno.current
                    return error == .wouldBlock || error == .interrupted
                        ? .success([]) : .failure(SystemError(call: "read(inotify)", errno: error))
                }
                return .success(InotifyEvent.decode(UnsafeRawBufferPointer(rebasing: bytes[0..<count])).events)
            }
            let batch = try outcome.get()
            if batch.isEmpty { break }
            events += batch
        }
        return events
    }

    /// Makes a blocked or the next ``readEvents(timeout:)`` return at once. Safe from any thread.
    public func wake() {
        var byte: UInt8 = 1
        _ = send(wakeup.writer, &byte, 1, Int32(MSG_NOSIGNAL))  // EAGAIN: a wake-up is already pending
    }

    private func drainWakeups() {
        var bytes = (UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &bytes, { recv(wakeup.reader, $0.baseAddress, $0.count, 0) }) > 0 {}
    }
}
