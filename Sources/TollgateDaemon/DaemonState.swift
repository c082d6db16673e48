import Foundation
import KernelRules
import PolicyModel

/// What the daemon knows about itself, for `/status`, `/readyz` and the metrics. Guarded by a mutex in `Daemon`.
struct DaemonState: Sendable {
    var generation: UInt64 = 0
    var namespaces = 0
    var pods = 0
    var networkPolicies = 0
    var identities = 0
    var tableBytes = 0
    var lastCompileSeconds = 0.0
    var lastReload: Date? = nil
    var lastErrors: [String] = []
    var filesKeptFromLastGood: [String] = []
    /// Keys more than one source defines, described with the source whose copy is in force.
    var conflicts: [String] = []
    var policyDirectoryReadable = false
    var reloadsApplied: UInt64 = 0
    var reloadsWithErrors: UInt64 = 0
    var rulesInstalled = false
    var backend: RuleBackend? = nil
    var backendReason = ""
    var started = Date()
    /// The Node objects of the snapshot in force (their addresses feed `nodePlan`).
    var clusterNodes: [ClusterNode] = []
    /// This node's and its peers' addresses, as the kernel rules in force use them.
    var nodePlan: NodeAddressPlan? = nil
    /// Reinstallations of the kernel rules after the node addresses changed, and how many failed.
    var ruleUpdates: UInt64 = 0
    var ruleUpdateFailures: UInt64 = 0
    /// How the workers are scheduled: `normal`, `SCHED_RR <priority>`, or normal because the kernel refused.
    var workerScheduling = "normal"
    /// Flushes of the kernel allow cache, and failed ones.
    var allowSetFlushes: UInt64 = 0
    var allowSetFlushFailures: UInt64 = 0
}
