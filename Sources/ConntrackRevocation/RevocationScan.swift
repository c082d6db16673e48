/// What one revocation pass over the conntrack table found and did.
public struct RevocationScan: Hashable, Sendable {
    /// Entries listed from the kernel (both families).
    public var examined = 0
    /// Entries with a pod-CIDR endpoint and no exempt endpoint.
    public var candidates = 0
    /// Entries the snapshot denies that were deleted.
    public var revoked = 0
    /// Entries the snapshot denies that audit mode kept.
    public var wouldRevoke = 0
    /// Denied entries that were already gone when deleted.
    public var alreadyGone = 0
    /// Tombstones left so that revoked connections cannot be picked up again in reverse.
    public var blocked = 0
    /// Tombstones removed because the snapshot allows their connections again.
    public var lifted = 0
    /// Failed dumps or deletes, each with its call and errno.
    public var errors: [ConntrackError] = []
    /// The connections deleted (at most ``RevocationScan/listedLimit`` of them), for the log.
    public var revokedEntries: [ConntrackEntry] = []
    /// How long the pass took.
    public var duration: Duration = .zero

    /// How many revoked entries are kept in ``revokedEntries``.
    public static let listedLimit = 20

    /// Creates an empty scan.
    public init() {}
}
