import NetworkTypes
public import VerdictEngine

/// Cuts established connections that a new snapshot forbids: lists the conntrack table of both families,
/// judges each entry with ``RevocationFilter``, deletes the denied ones and leaves a tombstone in their place
/// (``ConntrackTable/block(_:lifetime:)``). The client's next packet is then tracked as new, queued, and dropped
/// by the datapath; the server's packets cannot start a reverse entry. Tombstones of connections a later snapshot
/// allows again are removed.
///
/// Runs on the thread that publishes snapshots, never on the packet path. Not thread-safe.
public final class ConnectionRevoker {
    /// Which entries are judged and how audit mode applies (it follows the kernel rules, which change when node
    /// addresses do).
    public var filter: RevocationFilter
    /// How long, in seconds, a revoked connection's tombstone keeps it from being picked up again in reverse.
    public let tombstoneLifetime: UInt32
    private let table: ConntrackTable

    /// Opens the conntrack table of the caller's network namespace.
    ///
    /// - Throws: ``ConntrackError`` naming `nfct_open`.
    public init(filter: RevocationFilter, tombstoneLifetime: UInt32 = 120) throws(ConntrackError) {
        self.filter = filter
        self.tombstoneLifetime = tombstoneLifetime
        table = try ConntrackTable()
    }

    /// Judges every conntrack entry against `snapshot` and deletes those it denies (unless audited). A failed dump
    /// of one family or a failed delete is recorded in the result and the rest still runs.
    public func revoke(against snapshot: CompiledSnapshot) -> RevocationScan {
        let started = ContinuousClock.now
        var scan = RevocationScan()
        for family in [AddressFamily.ipv4, .ipv6] {
            // Judged during the dump: only the entries to delete are kept, however large the table.
            let denied: [ConntrackEntry]
            do {
                denied = try table.entries(family: family) { entry in
                    scan.examined += 1
                    switch filter.decide(entry, in: snapshot) {
                    case .notCandidate:
                        return false
                    case .allowed:
                        scan.candidates += 1
                        return false
                    case .wouldRevoke:
                        scan.candidates += 1
                        scan.wouldRevoke += 1
                        return false
                    case .revoke, .lift:
                        scan.candidates += 1
                        return true
                    case .keepTombstone:
                        return false
                    }
                }
            } catch {
                scan.errors.append(error)
                continue
            }
            for entry in denied {
                do {
                    if entry.isTombstone {
                        if try table.delete(entry) { scan.lifted += 1 }
                        continue
                    }
                    if try table.delete(entry) {
                        scan.revoked += 1
                        if scan.revokedEntries.count < RevocationScan.listedLimit { scan.revokedEntries.append(entry) }
                    } else {
                        scan.alreadyGone += 1
                    }
                    if try table.block(entry, lifetime: tombstoneLifetime) { scan.blocked += 1 }
                } catch {
                    scan.errors.append(error)
                }
            }
        }
        scan.duration = ContinuousClock.now - started
        return scan
    }
}
