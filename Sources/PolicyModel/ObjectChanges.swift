/// A change to a set of objects: the objects added or replaced, and the keys removed. A key appears at most once
/// in either list; applying the same changes twice gives the same result.
public struct ObjectChanges: Sendable {
    /// Objects added, or replacing the object of the same key.
    public var upserted: [ManifestObject]
    /// Keys of objects removed (a key that was not there is ignored).
    public var removed: [ObjectKey]

    /// Changes made of `upserted` objects and `removed` keys.
    public init(upserted: [ManifestObject] = [], removed: [ObjectKey] = []) {
        self.upserted = upserted
        self.removed = removed
    }

    /// Whether nothing changes.
    public var isEmpty: Bool { upserted.isEmpty && removed.isEmpty }
}
