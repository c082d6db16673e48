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

/// The JSON of `/status`.
struct StatusReport: Codable {
    struct Snapshot: Codable {
        var generation: UInt64
        var namespaces: Int
        var pods: Int
        var policies: Int
        var identities: Int
        var tableBytes: Int
        var compileMilliseconds: Double
    }

    struct Source: Codable {
        /// `directory` or `kubernetes-api`.
        var kind: String
        /// The directory, or the API server's URL.
        var path: String
        /// Whether the source is read successfully now (for the API: every resource listed and watched).
        var readable: Bool
        var lastChange: String?
        var errors: [String]
        var filesKeptFromLastGood: [String]
        /// The store's name of the source: `directory` or `api`.
        var name: String?
        /// Whether the source is read successfully now (the same as `readable`).
        var connected: Bool?
        /// Objects the source holds.
        var objects: Int?
        /// Of those, objects a source of higher precedence also defines (this copy is not in force).
        var objectsOverridden: Int?
        /// The last problem, until the source works again.
        var lastError: String?
        /// Watch events, complete lists, reconnection attempts and malformed events (API only).
        var events: UInt64?
        var relists: UInt64?
        var reconnects: UInt64?
        var malformedEvents: UInt64?
    }

    /// This node, its peers, and how connections with node addresses are treated.
    struct Nodes: Codable {
        var nodeName: String
        var podToNode: String
        /// This node's own addresses (interfaces and its Node object).
        var localAddresses: [String]
        /// The other nodes' addresses (Node objects and `nodeAddresses`, minus this node's).
        var peerAddresses: [String]
        /// Pod traffic to these keeps its source address.
        var remoteClusterCIDRs: [String]
    }

    struct Worker: Codable {
        var queue: UInt16
        var packets: UInt64
        var accepted: UInt64
        /// Denied by policy, let through by audit mode.
        var audited: UInt64
        var dropped: UInt64
        var cacheHits: UInt64
        var cacheMisses: UInt64
        var snapshotGeneration: UInt64
    }

    var ready: Bool
    var generation: UInt64
    var namespaces: Int
    var pods: Int
    var policies: Int
    var backend: String?
    var backendReason: String
    var rulesInstalled: Bool
    var failureMode: String
    /// Global audit mode: every denial is let through, logged and counted.
    var audit: Bool
    var queues: [UInt16]
    var workers: Int
    var workerScheduling: String
    /// Whether the kernel allow cache is on.
    var kernelAllowCache: Bool
    /// New connections the kernel allow cache let through without queueing (never reaching a worker, so not in
    /// `workerStatistics`); absent when the cache is off or its counter could not be read yet.
    var kernelCacheAccepts: UInt64?
    var podCIDRs: [String]
    var exemptCIDRs: [String]
    var nodes: Nodes
    var snapshot: Snapshot
    var sources: [Source]
    /// Keys defined by more than one source, each naming the source whose copy is in force.
    var sourceConflicts: [String]?
    var workerStatistics: [Worker]
    var cacheHitRatio: Double
    var uptimeSeconds: Double
}
