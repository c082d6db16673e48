internal import Glibc

/// One inotify event, decoded from a `struct inotify_event` record (see inotify(7)).
public struct InotifyEvent: Hashable, Sendable {
    /// What happened, as the kernel's `IN_*` bits.
    public struct Mask: OptionSet, Hashable, Sendable {
        /// The raw `mask` field.
        public let rawValue: UInt32

        /// Wraps raw `IN_*` bits.
        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// `IN_ACCESS`: a file was read.
        public static let access = Mask(rawValue: UInt32(bitPattern: IN_ACCESS))
        /// `IN_MODIFY`: a file was written.
        public static let modify = Mask(rawValue: UInt32(bitPattern: IN_MODIFY))
        /// `IN_ATTRIB`: metadata changed.
        public static let attributes = Mask(rawValue: UInt32(bitPattern: IN_ATTRIB))
        /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
        public static let closeWrite = Mask(rawValue: UInt32(bitPattern: IN_CLOSE_WRITE))
        /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
        public static let closeNoWrite = Mask(rawValue: UInt32(bitPattern: IN_CLOSE_NOWRITE))
        /// `IN_OPEN`: a file was opened.
        public static let open = Mask(rawValue: UInt32(bitPattern: IN_OPEN))
        /// `IN_MOVED_FROM`: an entry was renamed away from the watched directory.
        public static let movedFrom = Mask(rawValue: UInt32(bitPattern: IN_MOVED_FROM))
        /// `IN_MOVED_TO`: an entry was renamed into the watched directory.
        public static let movedTo = Mask(rawValue: UInt32(bitPattern: IN_MOVED_TO))
        /// `IN_CREATE`: an entry was created.
        public static let create = Mask(rawValue: UInt32(bitPattern: IN_CREATE))
        /// `IN_DELETE`: an entry was deleted.
        public static let delete = Mask(rawValue: UInt32(bitPattern: IN_DELETE))
        /// `IN_DELETE_SELF`: the watched directory itself was deleted.
        public static let deleteSelf = Mask(rawValue: UInt32(bitPattern: IN_DELETE_SELF))
        /// `IN_MOVE_SELF`: the watched directory itself was moved.
        public static let moveSelf = Mask(rawValue: UInt32(bitPattern: IN_MOVE_SELF))
        /// `IN_UNMOUNT`: the file system was unmounted.
        public static let unmount = Mask(rawValue: UInt32(bitPattern: IN_UNMOUNT))
        /// `IN_Q_OVERFLOW`: the kernel's event queue overflowed; events were lost, rescan.
        public static let queueOverflow = Mask(rawValue: UInt32(bitPattern: IN_Q_OVERFLOW))
        /// `IN_IGNORED`: the watch was removed (explicitly, or because its directory went away).
        public static let ignored = Mask(rawValue: UInt32(bitPattern: IN_IGNORED))
        /// `IN_ISDIR`: the subject of the event is a directory.
        public static let isDirectory = Mask(rawValue: UInt32(bitPattern: IN_ISDIR))

        /// What a configuration directory watcher needs: entries appearing, changing, leaving.
        public static let directoryChanges: Mask = [
            .create, .modify, .closeWrite, .delete, .movedFrom, .movedTo, .deleteSelf, .moveSelf, .attributes,
        ]
    }

    /// The watch descriptor the event belongs to (`-1` for a queue overflow).
    public var watch: Int32
    /// What happened.
    public var mask: Mask
    /// Pairs an `IN_MOVED_FROM` with its `IN_MOVED_TO`; 0 otherwise.
    public var cookie: UInt32
    /// The entry's name inside the watched directory; empty for events about the directory itself.
    public var name: String

    /// Creates an event.
    public init(watch: Int32, mask: Mask, cookie: UInt32 = 0, name: String = "") {
        self.watch = watch
        self.mask = mask
        self.cookie = cookie
        self.name = name
    }

    /// The size of the fixed part of a record: `wd`, `mask`, `cookie`, `len` (four 32-bit fields).
    public static let headerSize = 16

    /// Decodes the whole records at the start of `bytes` (as returned by `read` on an inotify
    /// descriptor, native byte order). A truncated record ends decoding: it is not returned, and
    /// ``DecodeResult/consumed`` stops before it. Never traps, whatever the bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
        var events: [InotifyEvent] = []
        var offset = 0
        while bytes.count - offset >= headerSize {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let nameLength = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            guard nameLength <= bytes.count - offset - headerSize else { break }
            let nameStart = offset + headerSize
            // The name is NUL-terminated and padded with NULs to an alignment boundary.
            let nameField = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameStart + nameLength])
            let nameEnd = nameField.firstIndex(of: 0) ?? nameField.count
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: nameField[0..<nameEnd]), as: UTF8.self)
            events.append(InotifyEvent(watch: watch, mask: Mask(rawValue: mask), cookie: cookie, name: name))
            offset = nameStart + nameLength
        }
        return DecodeResult(events: events, consumed: offset)
    }

    /// Decodes records from a byte array; see ``decode(_:)-(UnsafeRawBufferPointer)``.
    public static func decode(_ bytes: [UInt8]) -> DecodeResult {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// The events decoded from a buffer and how many bytes they used.
    public struct DecodeResult: Hashable, Sendable {
        /// The whole records, in order.
        public var events: [InotifyEvent]
        /// The bytes consumed by ``events``; less than the input when it ends in a partial record.
        public var consumed: Int
    }
}
