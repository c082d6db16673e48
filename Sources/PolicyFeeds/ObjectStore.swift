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
/// snapshot. Safe from any thread.
public final class ObjectStore: Sendable {
    private struct Source {
        var objects: [ObjectKey: ManifestObject] = [:]
        var status: SourceStatus
    }

    private struct State {
        /// In order of precedence.
        var sources: [Source] = []
        var changeHandler: (@Sendable () -> Void)? = nil
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
        change(source) { current in
            var next = current
            if let kinds {
                next = next.filter { !kinds.contains($0.key.kind) }
            } else {
                next.removeAll(keepingCapacity: true)
            }
            for object in objects { next[object.key] = object }
            guard next != current else { return false }
            current = next
            return true
        }
    }

    /// Adds or replaces one object of `source`. Returns whether anything changed.
    @discardableResult
    public func upsert(source: String, _ object: ManifestObject) -> Bool {
        change(source) { current in
            guard current[object.key] != object else { return false }
            current[object.key] = object
            return true
        }
    }

    /// Removes one object of `source`; removing an object the source never had does nothing. Returns whether
    /// anything changed.
    @discardableResult
    public func remove(source: String, _ key: ObjectKey) -> Bool {
        change(source) { current in current.removeValue(forKey: key) != nil }
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
    public func objects() -> [ManifestObject] { merged().objects }

    /// The keys two or more sources hold, each with the sources in order of precedence (the first one's copy is
    /// in force), sorted by key.
    public func conflicts() -> [Conflict] { merged().conflicts }

    /// The merged objects and the conflicts, in one pass under one lock: a key of a later source is looked up in
    /// the earlier sources' dictionaries (no set of every key is built), so merging costs one lookup per object
    /// of the smaller sources.
    public func merged() -> (objects: [ManifestObject], conflicts: [Conflict]) {
        state.withLock { state in
            var objects: [ManifestObject] = []
            objects.reserveCapacity(state.sources.reduce(0) { $0 + $1.objects.count })
            var conflicts: [Conflict] = []
            for (index, source) in state.sources.enumerated() {
                let earlier = state.sources[..<index]
                if earlier.isEmpty {
                    objects.append(contentsOf: source.objects.values)
                    continue
                }
                for (key, object) in source.objects {
                    let holders = earlier.filter { $0.objects[key] != nil }
                    if holders.isEmpty {
                        objects.append(object)
                    } else {
                        // Reported once, by the last source holding the key: every holder, in order.
                        let later = state.sources[(index + 1)...].contains { $0.objects[key] != nil }
                        if !later {
                            conflicts.append(Conflict(key: key, sources: holders.map(\.status.name) + [source.status.name]))
                        }
                    }
                }
            }
            return (objects, conflicts.sorted { $0.key < $1.key })
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
    public func statuses() -> [SourceStatus] {
        state.withLock { state in
            var result: [SourceStatus] = []
            for (index, source) in state.sources.enumerated() {
                var status = source.status
                status.objects = source.objects.count
                let earlier = state.sources[..<index]
                status.objectsOverridden =
                    earlier.isEmpty
                    ? 0 : source.objects.keys.reduce(0) { count, key in count + (earlier.contains { $0.objects[key] != nil } ? 1 : 0) }
                result.append(status)
            }
            return result
        }
    }

    /// The objects `source` holds (whether in force or overridden), by key.
    public func objects(of source: String) -> [ObjectKey: ManifestObject] {
        state.withLock { state in state.sources.first { $0.status.name == source }?.objects ?? [:] }
    }

    private func change(_ source: String, _ body: (inout [ObjectKey: ManifestObject]) -> Bool) -> Bool {
        let (changed, handler) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            guard let index = state.sources.firstIndex(where: { $0.status.name == source }) else {
                preconditionFailure("ObjectStore: source \(source) was never added")
            }
            let changed = body(&state.sources[index].objects)
            if changed { state.sources[index].status.lastChange = Date() }
            return (changed, state.changeHandler)
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
