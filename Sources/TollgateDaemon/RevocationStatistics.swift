/// Counters of established-connection revocation, for `/status` (``StatusReport/revocation``) and the metrics.
/// Guarded by a mutex in `RevocationRunner`. A field added later must be optional, so that `tollgate status` still
/// decodes older daemons' documents.
public struct RevocationStatistics: Sendable, Hashable, Codable {
    /// Whether revocation runs (`--no-revoke` turns it off).
    public var enabled = true
    /// Passes over the conntrack table.
    public var scans: UInt64 = 0
    /// Connections cut because a new snapshot denies them.
    public var revoked: UInt64 = 0
    /// Connections a new snapshot denies but audit mode kept.
    public var wouldRevoke: UInt64 = 0
    /// Tombstones left in place of cut connections (so they cannot be picked up again in reverse).
    public var tombstones: UInt64 = 0
    /// Tombstones removed because a later snapshot allows their connections again.
    public var lifted: UInt64 = 0
    /// Failed dumps and deletes.
    public var errors: UInt64 = 0
    /// Total time spent scanning, in seconds.
    public var scanSecondsTotal = 0.0
    /// How long the last scan took, in seconds.
    public var lastScanSeconds = 0.0
    /// Entries listed by the last scan.
    public var lastExamined = 0
    /// Entries with a pod endpoint in the last scan.
    public var lastCandidates = 0
    /// The snapshot generation of the last scan.
    public var lastGeneration: UInt64 = 0
    /// The last failure, if any.
    public var lastError: String? = nil
}
