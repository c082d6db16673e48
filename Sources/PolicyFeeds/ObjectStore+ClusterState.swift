import PolicyModel

extension ObjectStore {
    /// Puts a directory load into the store as `source`'s objects: its change when the load worked one out,
    /// otherwise every object (compared with what the source held).
    @discardableResult
    public func update(source: String, with outcome: PolicyDirectorySource.Outcome) -> Bool {
        if let changes = outcome.changes { return apply(source: source, changes) }
        return replace(source: source, with: outcome.objects)
    }

    /// The cluster state of the objects in force: `previous` with the changes since the last ``takeChanges(all:)``
    /// applied (a cost in proportion to the change), or built whole when there is no previous state or the change
    /// is large enough (more than an eighth of the objects, and more than 1,024) that sorting everything once is
    /// cheaper than inserting one by one.
    public func clusterState(updating previous: ClusterState?) -> ClusterState {
        guard let previous else { return ClusterState(objects: takeChanges(all: true).upserted) }
        let changes = takeChanges()
        let size = previous.namespaces.count + previous.pods.count + previous.networkPolicies.count
        if changes.upserted.count + changes.removed.count > max(1024, size / 8) {
            return ClusterState(objects: objects())
        }
        return previous.applying(changes)
    }
}
