import Foundation
import PolicyModel
import Synchronization

/// The one store of objects that every source feeds: per source, objects keyed by kind, namespace and name
/// (``ObjectKey``), merged into the cluster state the compiler reads.
///
/// **Conflict rule.** When two sources hold the same key, the source registered first wins (the daemon registers
/// the policy directory before the Kubernetes API: an operator put that file on the node on purpose). The losing
/// copy is kept in its source, so it takes over at once if the winner's copy goes away, and every conflict is
/// reported in ``conflicts`` and in each source's status.
///
/// Every change calls the change handler (outside the lock): the daemon debounces those calls into one new
/// snapshot, and takes the merged view's changes since the last snapshot with ``takeChanges()``, so a reload
/// costs in proportion to what changed. Safe from any thread.
public final class ObjectStore: Sendable {
    private struct Source {
        var objects: [ObjectKey: ManifestObject] = [:]
        var status: SourceStatus
    }

    private struct State {
        /// In order of precedence.
        var sources: [Source] = []
        var changeHandler: (@Sendable () -> Void)? = nil
        /// Keys whose merged object may have changed since the last ``takeChanges()``.
        var changedKeys: Set<ObjectKey> = []
        /// Keys held by more than one source.
        var conflictKeys: Set<ObjectKey> = []
    }

    private let state = Mutex(State())

    /// An empty store with no sources.
    public init() {}

    /// Adds a source; sources added earlier win conflicts. Adding a name twice does nothing.
    public func addSource(_ name: String) {
        state.withLock { state in
            guard !state.sources.contains(where: { $0.status.name == name }) else { return }
            state.sources.append(Source(status: SourceStatus(name: name)))
        }
    }

    /// Sets the function called after every change (from the thread that made it, outside the store's lock).
    public func onChange(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.changeHandler = handler }
    }

    /// Replaces the objects of `source` whose kind is in `kinds` (every kind when nil) with `objects`, in one step:
    /// a relist or a directory reload. Returns whether anything changed.
    @discardableResult
    public func replace(source: String, kinds: Set<String>? = nil, with objects: [ManifestObject]) -> Bool {
        change(source) { current, changed in
            var next = kinds.map { kinds in current.filter { !kinds.contains($0.key.kind) } } ?? [:]
            next.reserveCapacity(current.count)
            for object in objects { next[object.key] = object }
            for (key, object) in current where next[key] != object { changed.insert(key) }
            for key in next.keys where current[key] == nil { changed.insert(key) }
            if !changed.isEmpty { current = next }
        }
    }

    /// Applies `changes` to the objects of `source`: a cost in proportion to the change (a directory reload that
    /// parsed one file, say). Returns whether anything changed.
    @discardableResult
    public func apply(source: String, _ changes: ObjectChanges) -> Bool {
        change(source) { current, changed in
            for key in changes.removed where current.removeValue(forKey: key) != nil { changed.insert(key) }
            for object in changes.upserted {
                let key = object.key
                guard current[key] != object else { continue }
                current[key] = object
                changed.insert(key)
            }
        }
    }

    /// Adds or replaces one object of `source`. Returns whether anything changed.
    @discardableResult
    public func upsert(source: String, _ object: ManifestObject) -> Bool {
        apply(source: source, ObjectChanges(upserted: [object]))
    }

    /// Removes one object of `source`; removing an object the source never had does nothing. Returns whether
    /// anything changed.
    @discardableResult
    public func remove(source: String, _ key: ObjectKey) -> Bool {
        apply(source: source, ObjectChanges(removed: [key]))
    }

    /// Updates the status of `source` (connection, errors, counters) without touching its objects. A source
    /// that becomes synced (its first complete view, even an empty one) counts as a change.
    public func updateStatus(of source: String, _ update: (inout SourceStatus) -> Void) {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            guard let index = state.sources.firstIndex(where: { $0.status.name == source }) else { return nil }
            let wasSynced = state.sources[index].status.synced
            update(&state.sources[index].status)
            return !wasSynced && state.sources[index].status.synced ? state.changeHandler : nil
        }
        handler?()
    }

    /// The merged objects: every key once, from the source of highest precedence that holds it.
    public func objects() -> [ManifestObject] { state.withLock { Self.objectsInForce($0) } }

    /// The merged objects and the conflicts.
    public func merged() -> (objects: [ManifestObject], conflicts: [Conflict]) { (objects(), conflicts()) }

    /// Every key once, from the source of highest precedence that holds it: a key of a later source is looked up
    /// in the earlier sources' dictionaries (no set of every key is built).
    private static func objectsInForce(_ state: State) -> [ManifestObject] {
        var objects: [ManifestObject] = []
        objects.reserveCapacity(state.sources.reduce(0) { $0 + $1.objects.count })
        for (index, source) in state.sources.enumerated() {
            let earlier = state.sources[..<index]
            if earlier.isEmpty {
                objects.append(contentsOf: source.objects.values)
                continue
            }
            for (key, object) in source.objects where !earlier.contains(where: { $0.objects[key] != nil }) {
                objects.append(object)
            }
        }
        return objects
    }

    /// The keys two or more sources hold, each with the sources in order of precedence (the first one's copy is
    /// in force), sorted by key. Costs in proportion to the conflicts, not to the objects.
    public func conflicts() -> [Conflict] {
        state.withLock { state in
            state.conflictKeys.sorted().map { key in
                Conflict(key: key, sources: state.sources.filter { $0.objects[key] != nil }.map(\.status.name))
            }
        }
    }

    /// The changes of the merged view since the last call, and forgets them: every key changed in any source,
    /// with the object now in force (from the source of highest precedence that holds it) or its removal. With
    /// `all`, every object in force instead, as upserts (the first view of a consumer that has none).
    public func takeChanges(all: Bool = false) -> ObjectChanges {
        state.withLock { state in
            defer { state.changedKeys.removeAll() }
            if all { return ObjectChanges(upserted: Self.objectsInForce(state)) }
            var changes = ObjectChanges()
            for key in state.changedKeys {
                if let object = state.sources.lazy.compactMap({ $0.objects[key] }).first {
                    changes.upserted.append(object)
                } else {
                    changes.removed.append(key)
                }
            }
            return changes
        }
    }

    /// The first source that has not delivered a complete view yet; nil when every source has.
    public func firstUnsyncedSource() -> SourceStatus? {
        state.withLock { state in state.sources.first { !$0.status.synced }?.status }
    }

    /// Whether `source` has delivered a complete view at least once.
    public func isSynced(_ source: String) -> Bool {
        state.withLock { state in state.sources.first { $0.status.name == source }?.status.synced ?? false }
    }

    /// The status of every source, in order of precedence, with current object and conflict counts.
    /// Costs in proportion to the sources and the conflicts, not to the objects.
    public func statuses() -> [SourceStatus] {
        state.withLock { state in
            var overridden = [Int](repeating: 0, count: state.sources.count)
            for key in state.conflictKeys {
                // Every holder after the first is overridden.
                var first = true
                for (index, source) in state.sources.enumerated() where source.objects[key] != nil {
                    if !first { overridden[index] += 1 }
                    first = false
                }
            }
            return state.sources.enumerated().map { index, source in
                var status = source.status
                status.objects = source.objects.count
                status.objectsOverridden = overridden[index]
                return status
            }
        }
    }

    /// The objects `source` holds (whether in force or overridden), by key.
    public func objects(of source: String) -> [ObjectKey: ManifestObject] {
        state.withLock { state in state.sources.first { $0.status.name == source }?.objects ?? [:] }
    }

    /// Runs `body` on the objects of `source`; `body` adds every key it changed to its second argument. Records
    /// those keys for ``takeChanges()``, keeps the conflict set current, and calls the change handler.
    private func change(
        _ source: String, _ body: (inout [ObjectKey: ManifestObject], inout Set<ObjectKey>) -> Void
    ) -> Bool {
        let (changed, handler) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            guard let index = state.sources.firstIndex(where: { $0.status.name == source }) else {
                preconditionFailure("ObjectStore: source \(source) was never added")
            }
            var changed: Set<ObjectKey> = []
            body(&state.sources[index].objects, &changed)
            guard !changed.isEmpty else { return (false, nil) }
            state.sources[index].status.lastChange = Date()
            state.changedKeys.formUnion(changed)
            if state.sources.count > 1 {
                for key in changed {
                    let holders = state.sources.reduce(0) { $0 + ($1.objects[key] == nil ? 0 : 1) }
                    if holders > 1 { state.conflictKeys.insert(key) } else { state.conflictKeys.remove(key) }
                }
            }
            return (true, state.changeHandler)
        }
        if changed { handler?() }
        return changed
    }
}

extension ObjectStore {
    /// A key held by more than one source.
    public struct Conflict: Hashable, Sendable, CustomStringConvertible {
        /// The object's key.
        public var key: ObjectKey
        /// The sources holding it, in order of precedence: the first one's copy is in force.
        public var sources: [String]

        /// A conflict over `key` among `sources`, in order of precedence.
        public init(key: ObjectKey, sources: [String]) {
            self.key = key
            self.sources = sources
        }

        /// `Kind ns/name: from directory (in force), api (ignored)`.
        public var description: String {
            "\(key): defined by \(sources.joined(separator: " and ")); the \(sources[0]) copy is in force"
        }
    }
}
