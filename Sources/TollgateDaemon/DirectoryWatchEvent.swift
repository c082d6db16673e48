import LinuxSupport
import PolicyModel

/// What one inotify event means for the policy directory. Pure classification, so the rules are testable
/// without a file system; ``DirectoryWatch`` acts on it.
enum DirectoryWatchEvent: Hashable, Sendable {
    /// Nothing that changes what the loader reads: an editor's swap or backup file, a hidden entry, a regular
    /// file being created (its `close_write` follows), or a watch the kernel dropped.
    case ignored
    /// A manifest was completed, deleted or renamed, a subdirectory left, or the ConfigMap `..data` link was
    /// swapped: reload.
    case reload
    /// A manifest-named entry was created: reload unless it is an empty regular file, whose `close_write`
    /// follows (a symbolic link or a hard link gets no `close_write`).
    case created
    /// A visible subdirectory appeared: watch it (and what is below it), then reload.
    case newDirectory
    /// The watched directory itself was deleted, moved, or unmounted: fall back to waiting for it to reappear.
    case directoryLost
    /// The kernel's event queue overflowed: events were lost; rescan and reload.
    case overflow

    /// The `IN_*` events the watch asks for. `IN_MODIFY` is left out on purpose: a file rewritten in place is
    /// truncated first, and reloading it then would apply an empty file; its `IN_CLOSE_WRITE` is what counts.
    static let mask: InotifyEvent.Mask = [
        .create, .closeWrite, .delete, .movedFrom, .movedTo, .deleteSelf, .moveSelf,
    ]

    /// The name of the link a mounted ConfigMap or Secret swaps to publish a new version (kubelet's atomic
    /// writer: a new `..<timestamp>` directory, a `..data_tmp` link to it renamed over `..data`).
    static let configMapDataLink = "..data"

    /// Classifies `event`; `isRoot` tells whether it came from the watch on the policy directory itself.
    static func classify(_ event: InotifyEvent, isRoot: Bool) -> DirectoryWatchEvent {
        let mask = event.mask
        if mask.contains(.queueOverflow) { return .overflow }
        if isRoot && (mask.contains(.deleteSelf) || mask.contains(.moveSelf) || mask.contains(.unmount)) {
            return .directoryLost
        }
        if isRoot && mask.contains(.ignored) { return .directoryLost }
        if mask.contains(.ignored) || mask.contains(.deleteSelf) || mask.contains(.moveSelf) { return .ignored }
        if isRoot && event.name == configMapDataLink && (mask.contains(.movedTo) || mask.contains(.create)) {
            return .reload
        }
        if mask.contains(.isDirectory) {
            // Hidden directories (a ConfigMap's timestamped ones) are never loaded; `..data` announces them.
            if event.name.hasPrefix(".") { return .ignored }
            if mask.contains(.create) || mask.contains(.movedTo) { return .newDirectory }
            if mask.contains(.delete) || mask.contains(.movedFrom) { return .reload }
            return .ignored
        }
        guard ManifestLoader.isManifestName(event.name) else { return .ignored }
        if mask.contains(.create) { return .created }
        if mask.contains(.closeWrite) || mask.contains(.delete) || mask.contains(.movedFrom)
            || mask.contains(.movedTo)
        {
            return .reload
        }
        return .ignored
    }
}
