/// Counters of established-connection revocation, for `/status` and the metrics. Guarded by a mutex in
/// `RevocationRunner`.
struct RevocationStatistics: Sendable, Hashable, Codable {
    /// Whether revocation runs (`--no-revoke` turns it off).
    var enabled = true
    /// Passes over the conntrack table.
    var scans: UInt64 = 0
    /// Connections cut because a new snapshot denies them.
    var revoked: UInt64 = 0
    /// Connections a new snapshot denies but audit mode kept.
    var wouldRevoke: UInt64 = 0
    /// Tombstones left in place of cut connections (so they cannot be picked up again in reverse).
    var tombstones: UInt64 = 0
    /// Tombstones removed because a later snapshot allows their connections again.
    var lifted: UInt64 = 0
    /// Failed dumps and deletes.
    var errors: UInt64 = 0
    /// Total time spent scanning, in seconds.
    var scanSecondsTotal = 0.0
    /// How long the last scan took, in seconds.
    var lastScanSeconds = 0.0
    /// Entries listed by the last scan.
    var lastExamined = 0
    /// Entries with a pod endpoint in the last scan.
    var lastCandidates = 0
    /// The snapshot generation of the last scan.
    var lastGeneration: UInt64 = 0
    /// The last failure, if any.
    var lastError: String? = nil
}
