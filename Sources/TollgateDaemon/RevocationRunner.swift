import ConntrackRevocation
import Foundation
import Logging
import Synchronization
import VerdictEngine

/// Runs established-connection revocation after each published snapshot, on the reload thread, and keeps its
/// counters. The conntrack socket is opened at the first scan and kept; a failure to open it is counted, logged
/// and retried at the next snapshot.
final class RevocationRunner: Sendable {
    private let logger: Logger
    private let revoker = Mutex<ConnectionRevoker?>(nil)
    private let counters: Mutex<RevocationStatistics>

    /// Creates a runner; `enabled` false makes ``revoke(against:)`` do nothing.
    init(enabled: Bool, logger: Logger) {
        self.logger = logger
        var initial = RevocationStatistics()
        initial.enabled = enabled
        counters = Mutex(initial)
    }

    /// The counters so far.
    var statistics: RevocationStatistics { counters.withLock { $0 } }

    /// Judges the conntrack table against `snapshot` and cuts what it denies (audit mode only counts); `filter`
    /// selects the entries the kernel rules in force would have queued.
    func revoke(against snapshot: CompiledSnapshot, filter: RevocationFilter) {
        guard counters.withLock({ $0.enabled }) else { return }
        let outcome: Result<RevocationScan, ConntrackError> = revoker.withLock { revoker in
            let active: ConnectionRevoker
            if let existing = revoker {
                existing.filter = filter
                active = existing
            } else {
                do throws(ConntrackError) {
                    active = try ConnectionRevoker(filter: filter)
                } catch {
                    return .failure(error)
                }
                revoker = active
            }
            return .success(active.revoke(against: snapshot))
        }
        switch outcome {
        case .failure(let error):
            counters.withLock {
                $0.errors += 1
                $0.lastError = error.description
            }
            logger.error("connection revocation unavailable: \(error)")
        case .success(let scan):
            let seconds = Double(scan.duration.components.seconds) + Double(scan.duration.components.attoseconds) / 1e18
            counters.withLock {
                $0.scans += 1
                $0.revoked += UInt64(scan.revoked)
                $0.wouldRevoke += UInt64(scan.wouldRevoke)
                $0.tombstones += UInt64(scan.blocked)
                $0.lifted += UInt64(scan.lifted)
                $0.errors += UInt64(scan.errors.count)
                $0.scanSecondsTotal += seconds
                $0.lastScanSeconds = seconds
                $0.lastExamined = scan.examined
                $0.lastCandidates = scan.candidates
                $0.lastGeneration = snapshot.generation
                if let last = scan.errors.last { $0.lastError = last.description }
            }
            for error in scan.errors { logger.error("connection revocation: \(error)") }
            let metadata: Logger.Metadata = [
                "generation": "\(snapshot.generation)", "examined": "\(scan.examined)",
                "candidates": "\(scan.candidates)", "revoked": "\(scan.revoked)",
                "would-revoke": "\(scan.wouldRevoke)", "tombstones": "\(scan.blocked)", "lifted": "\(scan.lifted)",
                "scan-ms": "\(String(format: "%.2f", seconds * 1000))",
            ]
            if scan.revoked > 0 {
                let listed =
                    scan.revokedEntries.map(\.description).joined(separator: "; ")
                    + (scan.revoked > scan.revokedEntries.count ? "; …" : "")
                logger.notice(
                    "cut \(scan.revoked) established connection(s) the new policy denies: \(listed)", metadata: metadata)
            } else if scan.wouldRevoke > 0 {
                logger.notice(
                    "audit: \(scan.wouldRevoke) established connection(s) denied by the new policy kept open",
                    metadata: metadata)
            } else if scan.lifted > 0 {
                logger.notice("lifted \(scan.lifted) tombstone(s) of connections the new policy allows again", metadata: metadata)
            } else {
                logger.debug("revocation scan", metadata: metadata)
            }
        }
    }
}
