import Foundation

/// What one source of objects is doing, for `/status`, the logs and the metrics.
public struct SourceStatus: Sendable, Hashable {
    /// `directory` or `api`.
    public var name: String
    /// Whether the source is currently read successfully: the directory exists and is watched, or every API
    /// resource is listed and watched.
    public var connected = false
    /// Whether the source has delivered a complete view at least once (for the API: every resource listed).
    public var synced = false
    /// How many objects the source holds (filled in by ``ObjectStore/statuses()``).
    public var objects = 0
    /// How many of them another source of higher precedence also holds, so this source's copy is not in force.
    public var objectsOverridden = 0
    /// When the source's objects last changed.
    public var lastChange: Date? = nil
    /// The last problem, until the source works again.
    public var lastError: String? = nil
    /// Where the source reads from: a directory, or the API server's URL.
    public var location = ""
    /// Watch events received (API only).
    public var events: UInt64 = 0
    /// Complete lists read, the first one included (API only).
    public var relists: UInt64 = 0
    /// Connections re-established after a failure (API only).
    public var reconnects: UInt64 = 0
    /// Events or list items that could not be decoded; the object's last good state stays (API only).
    public var malformedEvents: UInt64 = 0

    /// A source that has not read anything yet.
    public init(name: String) { self.name = name }
}
