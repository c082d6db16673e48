internal import Glibc

/// Watches a directory (optionally with its subdirectories) on a dedicated thread and hands each
/// batch of events to a handler, until ``stop()``.
public final class DirectoryWatcher: Sendable {
    /// The watched directory.
    public let directory: String
    private let inotify: Inotify
    private let stopFlag = StopFlag()
    private let thread: DedicatedThread

    /// Watches `directory` and starts the thread.
    ///
    /// - Parameters:
    ///   - recursive: Also watch subdirectories, including those created later.
    ///   - handler: Called on the watcher thread with each non-empty batch of events, or with a
    ///     ``SystemError`` if reading fails (the thread then waits a little and tries again).
    /// - Throws: ``SystemError`` if the directory cannot be watched or the thread cannot start.
    public init(
        directory: String, mask: InotifyEvent.Mask = .directoryChanges, recursive: Bool = false,
        handler: @escaping @Sendable (Result<[InotifyEvent], SystemError>) -> Void
    ) throws(SystemError) {
        let inotify = try Inotify()
        if recursive {
            try inotify.addWatchRecursively(directory, mask: mask)
        } else {
            try inotify.addWatch(directory, mask: mask)
        }
        let stopFlag = self.stopFlag
        self.directory = directory
        self.inotify = inotify
        self.thread = try DedicatedThread(name: "tg-inotify") {
            while !stopFlag.isSet {
                do throws(SystemError) {
                    let events = try inotify.readEvents()
                    if stopFlag.isSet { break }
                    if recursive {
                        for event in events where event.mask.contains([.create, .isDirectory]) || event.mask.contains([.movedTo, .isDirectory]) {
                            guard let parent = inotify.path(of: event.watch) else { continue }
                            do throws(SystemError) {
                                try inotify.addWatchRecursively(parent + "/" + event.name, mask: mask)
                            } catch where error.errno != .noSuchFileOrDirectory && error.errno.rawValue != ENOTDIR {
                                handler(.failure(error))  // such as ENOSPC: the watch limit is reached
                            } catch {
                                // The directory vanished again in between: nothing to watch.
                            }
                        }
                    }
                    if !events.isEmpty {
                        handler(.success(events))
                    }
                } catch {
                    handler(.failure(error))
                    usleep(100_000)  // back off rather than spin on a persistent failure
                }
            }
        }
    }

    /// Stops the thread and waits for it; the handler is not called afterwards.
    public func stop() {
        stopFlag.set()
        inotify.wake()
        thread.join()
    }

    deinit {
        stop()
    }

    /// The path of a watch descriptor seen in an event (the directory itself or a subdirectory).
    public func path(of watch: Int32) -> String? {
        inotify.path(of: watch)
    }
}
