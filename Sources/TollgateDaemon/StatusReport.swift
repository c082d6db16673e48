/// The `/status` document: the daemon encodes it (JSON, keys sorted), `tollgate status` decodes it.
///
/// Decoding accepts documents of older daemons, which lacked fields added since. A field whose absence has a true
/// meaning decodes to it: `audit` and `kernelAllowCache` false and `workerStatistics[].audited` 0 (those daemons had
/// neither audit mode nor the allow cache), `workerScheduling` `normal` (they had no other). Fields without such a
/// meaning are optional: `nodes`, `sourceConflicts`, `revocation`, `directoryWatch`, and the per-source counters.
/// Fields a newer daemon adds are ignored.
public struct StatusReport: Codable, Hashable, Sendable {
    /// The policy snapshot in force.
    public struct Snapshot: Codable, Hashable, Sendable {
        /// The snapshot's generation: 1 for the first, one more for each compiled change.
        public var generation: UInt64
        /// Namespaces in the snapshot.
        public var namespaces: Int
        /// Pods in the snapshot.
        public var pods: Int
        /// NetworkPolicies in the snapshot.
        public var policies: Int
        /// Distinct (namespace labels, pod labels) identities.
        public var identities: Int
        /// The size of the compiled tables, in bytes.
        public var tableBytes: Int
        /// How long the snapshot took to compile, in milliseconds.
        public var compileMilliseconds: Double
    }

    /// One policy source: the directory or the Kubernetes API.
    public struct Source: Codable, Hashable, Sendable {
        /// `directory` or `kubernetes-api`.
        public var kind: String
        /// The directory, or the API server's URL.
        public var path: String
        /// Whether the source is read successfully now (for the API: every resource listed and watched).
        public var readable: Bool
        /// When the source last changed, ISO 8601; nil before any change.
        public var lastChange: String?
        /// The source's standing errors (for the directory: every file's).
        public var errors: [String]
        /// Files whose last good version stays in force because the current one does not load.
        public var filesKeptFromLastGood: [String]
        /// The store's name of the source: `directory` or `api`.
        public var name: String?
        /// Whether the source is read successfully now (the same as `readable`).
        public var connected: Bool?
        /// Objects the source holds.
        public var objects: Int?
        /// Of those, objects a source of higher precedence also defines (this copy is not in force).
        public var objectsOverridden: Int?
        /// The last problem, until the source works again.
        public var lastError: String?
        /// Watch events (API only).
        public var events: UInt64?
        /// Complete lists (API only).
        public var relists: UInt64?
        /// Reconnection attempts (API only).
        public var reconnects: UInt64?
        /// Watch events that could not be decoded (API only).
        public var malformedEvents: UInt64?
    }

    /// This node, its peers, and how connections with node addresses are treated.
    public struct Nodes: Codable, Hashable, Sendable {
        /// This node's name, as in its Node object.
        public var nodeName: String
        /// `exempt` or `enforce`.
        public var podToNode: String
        /// This node's own addresses (interfaces and its Node object).
        public var localAddresses: [String]
        /// The other nodes' addresses (Node objects and `nodeAddresses`, minus this node's).
        public var peerAddresses: [String]
        /// Pod traffic to these keeps its source address.
        public var remoteClusterCIDRs: [String]
    }

    /// One worker and its queue.
    public struct Worker: Codable, Hashable, Sendable {
        /// The queue number the worker reads.
        public var queue: UInt16
        /// Packets received.
        public var packets: UInt64
        /// Packets accepted (not counting audited ones).
        public var accepted: UInt64
        /// Denied by policy, let through by audit mode.
        public var audited: UInt64
        /// Packets dropped.
        public var dropped: UInt64
        /// Verdicts answered from the flow cache.
        public var cacheHits: UInt64
        /// Verdicts the engine computed.
        public var cacheMisses: UInt64
        /// The generation of the snapshot the worker last used.
        public var snapshotGeneration: UInt64
    }

    /// Rules installed and a snapshot active.
    public var ready: Bool
    /// The snapshot's generation (the same as `snapshot.generation`).
    public var generation: UInt64
    /// Namespaces in the snapshot (the same as `snapshot.namespaces`).
    public var namespaces: Int
    /// Pods in the snapshot (the same as `snapshot.pods`).
    public var pods: Int
    /// NetworkPolicies in the snapshot (the same as `snapshot.policies`).
    public var policies: Int
    /// The kernel rules back end (`iptables`, `nftables`); nil before it is chosen.
    public var backend: String?
    /// Why that back end was chosen.
    public var backendReason: String
    /// Whether the kernel rules are installed.
    public var rulesInstalled: Bool
    /// `open` or `closed`.
    public var failureMode: String
    /// Global audit mode: every denial is let through, logged and counted.
    public var audit: Bool
    /// The queue numbers read.
    public var queues: [UInt16]
    /// Worker threads.
    public var workers: Int
    /// How the workers are scheduled: `normal`, `SCHED_RR <priority>`, or normal because the kernel refused.
    public var workerScheduling: String
    /// Whether the kernel allow cache is on.
    public var kernelAllowCache: Bool
    /// New connections the kernel allow cache let through without queueing (never reaching a worker, so not in
    /// `workerStatistics`); absent when the cache is off or its counter could not be read yet.
    public var kernelCacheAccepts: UInt64?
    /// The pod address ranges.
    public var podCIDRs: [String]
    /// Ranges whose traffic with pods is never queued.
    public var exemptCIDRs: [String]
    /// This node and its peers.
    public var nodes: Nodes?
    /// The snapshot in force.
    public var snapshot: Snapshot
    /// The policy sources, in order of precedence.
    public var sources: [Source]
    /// Keys defined by more than one source, each naming the source whose copy is in force.
    public var sourceConflicts: [String]?
    /// One entry per worker.
    public var workerStatistics: [Worker]
    /// Flow cache hits over all lookups, 0 before any.
    public var cacheHitRatio: Double
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// Revocation of established connections that a new snapshot denies.
    public var revocation: RevocationStatistics?
    /// How the policy directory is watched.
    public var directoryWatch: DirectoryWatchStatus?
}

extension StatusReport {
    /// Decodes a `/status` document, filling fields older daemons did not send (see ``StatusReport``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ready = try container.decode(Bool.self, forKey: .ready)
        generation = try container.decode(UInt64.self, forKey: .generation)
        namespaces = try container.decode(Int.self, forKey: .namespaces)
        pods = try container.decode(Int.self, forKey: .pods)
        policies = try container.decode(Int.self, forKey: .policies)
        backend = try container.decodeIfPresent(String.self, forKey: .backend)
        backendReason = try container.decode(String.self, forKey: .backendReason)
        rulesInstalled = try container.decode(Bool.self, forKey: .rulesInstalled)
        failureMode = try container.decode(String.self, forKey: .failureMode)
        audit = try container.decodeIfPresent(Bool.self, forKey: .audit) ?? false
        queues = try container.decode([UInt16].self, forKey: .queues)
        workers = try container.decode(Int.self, forKey: .workers)
        workerScheduling = try container.decodeIfPresent(String.self, forKey: .workerScheduling) ?? "normal"
        kernelAllowCache = try container.decodeIfPresent(Bool.self, forKey: .kernelAllowCache) ?? false
        kernelCacheAccepts = try container.decodeIfPresent(UInt64.self, forKey: .kernelCacheAccepts)
        podCIDRs = try container.decode([String].self, forKey: .podCIDRs)
        exemptCIDRs = try container.decode([String].self, forKey: .exemptCIDRs)
        nodes = try container.decodeIfPresent(Nodes.self, forKey: .nodes)
        snapshot = try container.decode(Snapshot.self, forKey: .snapshot)
        sources = try container.decode([Source].self, forKey: .sources)
        sourceConflicts = try container.decodeIfPresent([String].self, forKey: .sourceConflicts)
        workerStatistics = try container.decode([Worker].self, forKey: .workerStatistics)
        cacheHitRatio = try container.decode(Double.self, forKey: .cacheHitRatio)
        uptimeSeconds = try container.decode(Double.self, forKey: .uptimeSeconds)
        revocation = try container.decodeIfPresent(RevocationStatistics.self, forKey: .revocation)
        directoryWatch = try container.decodeIfPresent(DirectoryWatchStatus.self, forKey: .directoryWatch)
    }
}

extension StatusReport.Worker {
    /// Decodes one worker's entry; `audited` is 0 from daemons before audit mode.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        queue = try container.decode(UInt16.self, forKey: .queue)
        packets = try container.decode(UInt64.self, forKey: .packets)
        accepted = try container.decode(UInt64.self, forKey: .accepted)
        audited = try container.decodeIfPresent(UInt64.self, forKey: .audited) ?? 0
        dropped = try container.decode(UInt64.self, forKey: .dropped)
        cacheHits = try container.decode(UInt64.self, forKey: .cacheHits)
        cacheMisses = try container.decode(UInt64.self, forKey: .cacheMisses)
        snapshotGeneration = try container.decode(UInt64.self, forKey: .snapshotGeneration)
    }
}
