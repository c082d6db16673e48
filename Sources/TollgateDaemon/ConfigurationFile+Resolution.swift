import Datapath
import Foundation
import LinuxSupport
import Logging
import NetworkTypes

extension ConfigurationFile {
    /// Values given on the command line; each non-nil one replaces the file's.
    public struct Overrides: Sendable, Hashable {
        /// `--policy-dir`.
        public var policyDirectory: String?
        /// `--pod-cidr` (nil or empty: not given).
        public var podCIDRs: [IPPrefix]?
        /// `--exempt-cidr` (nil or empty: not given).
        public var exemptCIDRs: [IPPrefix]?
        /// `--workers`.
        public var workers: Int?
        /// `--queue-num`.
        public var firstQueue: UInt16?
        /// `--fail-closed` (nil: not given).
        public var failureMode: FailureMode?
        /// `--metrics-addr`.
        public var metricsAddress: ListenAddress?
        /// `--backend`.
        public var backend: Backend?
        /// `--log-level`.
        public var logLevel: Logger.Level?
        /// `--log-format`.
        public var logFormat: LogFormat?
        /// `--poll-interval-ms`.
        public var pollIntervalMilliseconds: Int?
        /// `--audit` (nil: not given).
        public var audit: Bool?
        /// `--deny-log-rate`.
        public var denyLogRate: Double?
        /// `--no-revoke` (false when given, nil otherwise).
        public var revoke: Bool?
        /// `--worker-priority`.
        public var workerPriority: Int?
        /// `--kernel-allow-cache` (true when given, nil otherwise).
        public var kernelAllowCache: Bool?
        /// `--node-name`.
        public var nodeName: String?
        /// `--node-address` (nil or empty: not given).
        public var nodeAddresses: [IPPrefix]?
        /// `--pod-to-node`.
        public var podToNode: PodToNodeMode?
        /// `--remote-cluster-cidr` (nil or empty: not given).
        public var remoteClusterCIDRs: [IPPrefix]?
        /// `--kubeconfig`.
        public var kubeconfig: String?
        /// `--in-cluster` (true when given, nil otherwise).
        public var inCluster: Bool?

        /// Creates overrides; everything defaults to "not given".
        public init(
            policyDirectory: String? = nil, podCIDRs: [IPPrefix]? = nil, exemptCIDRs: [IPPrefix]? = nil,
            workers: Int? = nil, firstQueue: UInt16? = nil, failureMode: FailureMode? = nil,
            metricsAddress: ListenAddress? = nil, backend: Backend? = nil, logLevel: Logger.Level? = nil,
            logFormat: LogFormat? = nil, pollIntervalMilliseconds: Int? = nil, audit: Bool? = nil,
            denyLogRate: Double? = nil, revoke: Bool? = nil, nodeName: String? = nil, nodeAddresses: [IPPrefix]? = nil,
            podToNode: PodToNodeMode? = nil, remoteClusterCIDRs: [IPPrefix]? = nil, workerPriority: Int? = nil,
            kernelAllowCache: Bool? = nil, kubeconfig: String? = nil, inCluster: Bool? = nil
        ) {
            self.kubeconfig = kubeconfig
            self.inCluster = inCluster
            self.kernelAllowCache = kernelAllowCache
            self.workerPriority = workerPriority
            self.nodeName = nodeName
            self.nodeAddresses = nodeAddresses
            self.podToNode = podToNode
            self.remoteClusterCIDRs = remoteClusterCIDRs
            self.audit = audit
            self.denyLogRate = denyLogRate
            self.revoke = revoke
            self.policyDirectory = policyDirectory
            self.podCIDRs = podCIDRs
            self.exemptCIDRs = exemptCIDRs
            self.workers = workers
            self.firstQueue = firstQueue
            self.failureMode = failureMode
            self.metricsAddress = metricsAddress
            self.backend = backend
            self.logLevel = logLevel
            self.logFormat = logFormat
            self.pollIntervalMilliseconds = pollIntervalMilliseconds
        }
    }

    /// The configuration `tollgate run` starts with: file values, overridden by flags, over built-in defaults.
    public struct Resolved: Sendable, Hashable {
        /// What the daemon runs with.
        public var daemon: DaemonConfiguration
        /// The log level.
        public var logLevel: Logger.Level
        /// The log format.
        public var logFormat: LogFormat

        /// Creates a resolved configuration.
        public init(daemon: DaemonConfiguration, logLevel: Logger.Level, logFormat: LogFormat) {
            self.daemon = daemon
            self.logLevel = logLevel
            self.logFormat = logFormat
        }
    }

    /// The built-in worker count: one per core, from 1 to 64.
    public static var defaultWorkers: Int {
        min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 64)
    }

    /// The built-in metrics address, `127.0.0.1:9470` (nil only if that literal stopped parsing).
    public static var defaultMetricsAddress: ListenAddress? {
        try? ListenAddress(host: "127.0.0.1", port: 9470)
    }

    /// Merges `overrides` over the file over built-in defaults and validates the result, including that a
    /// policy directory named in the file exists and is readable (a `--policy-dir` may name one that appears later).
    ///
    /// - Throws: ``ConfigurationFileError`` listing every problem; file values are named by key and line, flags by
    ///   their option name.
    public func resolve(overrides: Overrides = Overrides()) throws(ConfigurationFileError) -> Resolved {
        var problems: [ConfigurationFileError.Problem] = []
        let directory = overrides.policyDirectory ?? policyDirectory
        let api = kubernetesAPISource(overrides: overrides)
        if overrides.kubeconfig != nil && overrides.inCluster == true {
            problems.append(.init(line: nil, key: "--in-cluster", message: "conflicts with --kubeconfig; pass one of them"))
        }
        if overrides.policyDirectory == nil {
            problems += policyDirectoryProblems()
        }
        problems += kubeconfigProblems()
        if kubeconfig.map({ !$0.isEmpty }) == true && inCluster == true {
            problems.append(
                .init(line: lines[.inCluster], key: "inCluster", message: "true conflicts with kubeconfig; set one of them"))
        }
        let podCIDRs = overrides.podCIDRs.flatMap { $0.isEmpty ? nil : $0 } ?? self.podCIDRs ?? []
        let exemptCIDRs = overrides.exemptCIDRs.flatMap { $0.isEmpty ? nil : $0 } ?? self.exemptCIDRs ?? []
        guard let address = overrides.metricsAddress ?? metricsAddress ?? Self.defaultMetricsAddress else {
            problems.append(.init(line: nil, key: "metricsAddr", message: "no metrics address"))
            throw ConfigurationFileError(path: path, problems: problems)
        }
        var configuration = DaemonConfiguration(
            policyDirectory: directory, podCIDRs: podCIDRs, exemptCIDRs: exemptCIDRs,
            workers: overrides.workers ?? workers ?? Self.defaultWorkers, firstQueue: overrides.firstQueue ?? firstQueue ?? 0,
            failureMode: overrides.failureMode ?? failureMode ?? .open, metricsAddress: address,
            backend: (overrides.backend ?? backend ?? .auto).forced,
            pollInterval: .milliseconds(overrides.pollIntervalMilliseconds ?? pollIntervalMilliseconds ?? 5000),
            audit: overrides.audit ?? audit ?? false, denyLogRate: overrides.denyLogRate ?? denyLogRate ?? 20)
        configuration.revoke = overrides.revoke ?? revoke ?? true
        configuration.workerPriority = overrides.workerPriority ?? workerPriority ?? 0
        configuration.kernelAllowCache = overrides.kernelAllowCache ?? kernelAllowCache ?? false
        configuration.nodeName = overrides.nodeName ?? nodeName ?? DaemonConfiguration.hostName
        configuration.nodeAddresses = overrides.nodeAddresses.flatMap { $0.isEmpty ? nil : $0 } ?? nodeAddresses ?? []
        configuration.podToNode = overrides.podToNode ?? podToNode ?? .exempt
        configuration.remoteClusterCIDRs =
            overrides.remoteClusterCIDRs.flatMap { $0.isEmpty ? nil : $0 } ?? remoteClusterCIDRs ?? []
        configuration.kubernetesAPI = api
        // The daemon's own checks (overlaps, queue range), attributed to the file's line when the file set the value.
        for message in configuration.problems() {
            problems.append(attribute(message, overrides: overrides))
        }
        guard problems.isEmpty else { throw ConfigurationFileError(path: path, problems: problems) }
        return Resolved(
            daemon: configuration, logLevel: overrides.logLevel ?? logLevel ?? .info,
            logFormat: overrides.logFormat ?? logFormat ?? .text)
    }

    /// The Kubernetes API source: a flag wins over the file; `kubeconfig: ""` and `inCluster: false` mean none.
    func kubernetesAPISource(overrides: Overrides) -> KubernetesAPISource? {
        if let path = overrides.kubeconfig { return .kubeconfig(path) }
        if overrides.inCluster == true { return .inCluster }
        if let kubeconfig, !kubeconfig.isEmpty { return .kubeconfig(kubeconfig) }
        if inCluster == true { return .inCluster }
        return nil
    }

    /// Problems with `policyDir` as the file sets it: missing, not a directory, or not readable and searchable.
    public func policyDirectoryProblems() -> [ConfigurationFileError.Problem] {
        guard let directory = policyDirectory else { return [] }
        let line = lines[.policyDir]
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            return [.init(line: line, key: "policyDir", message: "no such directory (create it, or fix the path)", value: directory)]
        }
        guard isDirectory.boolValue else {
            return [.init(line: line, key: "policyDir", message: "not a directory", value: directory)]
        }
        guard FileManager.default.isReadableFile(atPath: directory), FileManager.default.isExecutableFile(atPath: directory)
        else {
            return [.init(line: line, key: "policyDir", message: "directory not readable (check its permissions)", value: directory)]
        }
        return []
    }

    /// Problems with `kubeconfig`: when set, it must be a readable regular file.
    public func kubeconfigProblems() -> [ConfigurationFileError.Problem] {
        guard let kubeconfig, !kubeconfig.isEmpty else { return [] }
        let line = lines[.kubeconfig]
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: kubeconfig, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return [.init(line: line, key: "kubeconfig", message: "no such file", value: kubeconfig)]
        }
        guard FileManager.default.isReadableFile(atPath: kubeconfig) else {
            return [.init(line: line, key: "kubeconfig", message: "file not readable", value: kubeconfig)]
        }
        return []
    }

    /// Every problem ``resolve(overrides:)`` would report for the file alone, for `tollgate config --check`.
    public func problems() -> [ConfigurationFileError.Problem] {
        do {
            _ = try resolve()
            return []
        } catch {
            return error.problems
        }
    }

    /// Turns a ``DaemonConfiguration/problems()`` message (which names a flag) into a problem naming the file's
    /// key and line when the file, not a flag, supplied the value.
    private func attribute(_ message: String, overrides: Overrides) -> ConfigurationFileError.Problem {
        let flags: [(flag: String, key: Key, fromFlag: Bool)] = [
            ("--policy-dir", .policyDir, overrides.policyDirectory != nil),
            ("--pod-cidr", .podCIDRs, overrides.podCIDRs.map { !$0.isEmpty } ?? false),
            ("--exempt-cidr", .exemptCIDRs, overrides.exemptCIDRs.map { !$0.isEmpty } ?? false),
            ("--workers", .workers, overrides.workers != nil),
            ("--queue-num", .queueNum, overrides.firstQueue != nil),
            ("--node-name", .nodeName, overrides.nodeName != nil),
            ("--worker-priority", .workerPriority, overrides.workerPriority != nil),
            ("--node-address", .nodeAddresses, overrides.nodeAddresses.map { !$0.isEmpty } ?? false),
            ("--remote-cluster-cidr", .remoteClusterCIDRs, overrides.remoteClusterCIDRs.map { !$0.isEmpty } ?? false),
        ]
        for entry in flags where message.hasPrefix(entry.flag + ": ") {
            let rest = String(message.dropFirst(entry.flag.count + 2))
            if entry.fromFlag || lines[entry.key] == nil {
                return .init(line: nil, key: entry.flag, message: rest)
            }
            return .init(line: lines[entry.key], key: entry.key.rawValue, message: rest)
        }
        return .init(line: nil, key: "", message: message)
    }
}
