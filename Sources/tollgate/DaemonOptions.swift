import ArgumentParser
import Foundation
import LinuxSupport
import Logging
import NetworkTypes
import TollgateDaemon

/// The options of `run`, which `rules` takes too: the same command line, resolved over the same configuration
/// file, gives both the same configuration.
struct DaemonOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A YAML configuration file (tollgate config --print-defaults); flags override its values. "
                + "Default: \(ConfigurationFile.defaultPath), when it exists.", valueName: "file"))
    var configurationPath: String?

    @Option(
        name: .customLong("policy-dir"),
        help: "The directory of Kubernetes manifests (at least one of --policy-dir, --kubeconfig and --in-cluster, here or in the configuration file).")
    var policyDirectory: String?

    @Option(
        name: .customLong("kubeconfig"),
        help: ArgumentHelp(
            "Also list and watch namespaces, pods, nodes and policies from the Kubernetes API this kubeconfig names (current context). "
                + "An object in --policy-dir wins over the API's copy.", valueName: "file"))
    var kubeconfig: String?

    @Flag(
        name: .customLong("in-cluster"),
        help: "Read the Kubernetes API as a pod: KUBERNETES_SERVICE_HOST/PORT and the service account's token and CA.")
    var inCluster = false

    @Option(name: .customLong("pod-cidr"), help: "A pod address range (repeatable; IPv4 and IPv6).")
    var podCIDRs: [String] = []

    @Option(
        name: .customLong("exempt-cidr"),
        help: "Node and infrastructure addresses whose traffic with pods is never queued (repeatable).")
    var exemptCIDRs: [String] = []

    @Option(
        name: .customLong("node-address"),
        help: "Addresses of the cluster's nodes beyond their Node objects' (overlay bridge and tunnel addresses; repeatable).")
    var nodeAddresses: [String] = []

    @Option(
        name: .customLong("pod-to-node"),
        help: "Traffic between pods and node addresses: exempt (never queued) or enforce (judged). Default: exempt.")
    var podToNode: PodToNodeMode?

    @Option(
        name: .customLong("remote-cluster-cidr"),
        help: "A pod or service range of another cluster: local pods reach it without source NAT (repeatable).")
    var remoteClusterCIDRs: [String] = []

    @Flag(
        name: .customLong("kernel-allow-cache"),
        help: "Keep allowed flows in kernel sets (ip sets, or nft sets with the nft back end) so that later connections of the same flow skip the queue until the next snapshot.")
    var kernelAllowCache = false

    @Option(help: "Worker threads, one queue each (default: the number of cores, at most 64).")
    var workers: Int?

    @Option(name: .customLong("queue-num"), help: "The first NFQUEUE queue number (default: 0).")
    var queueNumber: UInt16?

    @Flag(name: .customLong("fail-closed"), help: "Drop what cannot be judged, and new connections while no worker listens. Default: fail open.")
    var failClosed = false

    @Option(help: "Kernel rules back end: auto, iptables or nftables (default: auto).")
    var backend: ConfigurationFile.Backend?

    @Option(name: .customLong("metrics-addr"), help: "HOST:PORT of the metrics and status endpoint (default: 127.0.0.1:9470).")
    var metricsAddress: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: info).")
    var logLevel: String?

    @Option(
        name: .customLong("poll-interval-ms"),
        help: "Changes are seen at once through inotify; this also lists the directory every N ms as a safety net (0: off; default: 5000).")
    var pollIntervalMilliseconds: Int?

    @Option(name: .customLong("log-format"), help: "text or json (default: text).")
    var logFormat: String?

    @Flag(help: "Decide and log as if enforcing, but let every connection through.")
    var audit = false

    @Option(name: .customLong("deny-log-rate"), help: "Denied-connection log lines per second; the rest are counted (default: 20).")
    var denyLogRate: Double?

    @Flag(name: .customLong("no-revoke"), help: "Do not cut established connections that a new policy denies.")
    var noRevoke = false

    @Option(
        name: .customLong("worker-priority"),
        help: "0: normal scheduling (default); 1-99: run the workers under SCHED_RR at that priority, so queued packets are decided at once on a busy machine.")
    var workerPriority: Int?

    @Option(
        name: .customLong("node-name"),
        help: "This node's name as in its Node object, whose addresses are this node's own (default: the host name).")
    var nodeName: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: unknown level \"\(logLevel)\"")
        }
        if let workers, !(1...64).contains(workers) {
            throw ValidationError("--workers: must be between 1 and 64, got \(workers)")
        }
        if let pollIntervalMilliseconds, pollIntervalMilliseconds != 0 && pollIntervalMilliseconds < 10 {
            throw ValidationError("--poll-interval-ms: 0 (off) or at least 10")
        }
        if let logFormat, LogFormat(rawValue: logFormat) == nil {
            throw ValidationError("--log-format: unknown format \"\(logFormat)\"; expected text or json")
        }
        if let denyLogRate, denyLogRate < 0 { throw ValidationError("--deny-log-rate: must not be negative") }
        if let workerPriority, !(0...99).contains(workerPriority) {
            throw ValidationError("--worker-priority: must be 0 (normal scheduling) or 1 to 99 (SCHED_RR), got \(workerPriority)")
        }
    }

    /// The configuration file (`--config`, or the default path when it exists) with the flags over it. Prints
    /// every problem and exits 2 when the file or the result is invalid.
    func resolvedConfiguration() throws -> ConfigurationFile.Resolved {
        let address: ListenAddress?
        do {
            address = try metricsAddress.map { text throws(InvalidValueError) in try ListenAddress(parsing: text) }
        } catch {
            throw ValidationError("--metrics-addr: \(error)")
        }
        let overrides = ConfigurationFile.Overrides(
            policyDirectory: policyDirectory,
            podCIDRs: try prefixes(podCIDRs, option: "--pod-cidr"),
            exemptCIDRs: try prefixes(exemptCIDRs, option: "--exempt-cidr"),
            workers: workers, firstQueue: queueNumber,
            failureMode: failClosed ? .closed : nil, metricsAddress: address,
            backend: backend,
            logLevel: logLevel.flatMap { Logger.Level(rawValue: $0) }, logFormat: logFormat.flatMap { LogFormat(rawValue: $0) },
            pollIntervalMilliseconds: pollIntervalMilliseconds, audit: audit ? true : nil, denyLogRate: denyLogRate,
            revoke: noRevoke ? false : nil, nodeName: nodeName,
            nodeAddresses: try prefixes(nodeAddresses, option: "--node-address"),
            podToNode: podToNode,
            remoteClusterCIDRs: try prefixes(remoteClusterCIDRs, option: "--remote-cluster-cidr"),
            workerPriority: workerPriority, kernelAllowCache: kernelAllowCache ? true : nil,
            kubeconfig: kubeconfig, inCluster: inCluster ? true : nil)
        do {
            let path = configurationPath ?? ConfigurationFile.defaultPath
            let file =
                configurationPath == nil && !FileManager.default.fileExists(atPath: path)
                ? ConfigurationFile() : try ConfigurationFile.load(path: path)
            return try file.resolve(overrides: overrides)
        } catch {
            for line in error.description.split(separator: "\n") { printError("error: \(line)") }
            throw ExitCode(2)
        }
    }

    /// Parses every CIDR, naming the option and value of each bad one.
    private func prefixes(_ values: [String], option: String) throws -> [IPPrefix] {
        try values.map { value in
            guard let prefix = IPPrefix(value) else {
                throw ValidationError("\(option): \"\(value)\" is not a valid CIDR (expected ADDRESS/LENGTH)")
            }
            return prefix
        }
    }
}

/// `--backend auto|iptables|nftables`, the values of the configuration file's `backend`.
extension ConfigurationFile.Backend: ExpressibleByArgument {}

/// `--pod-to-node exempt|enforce`, the values of the configuration file's `podToNode`.
extension PodToNodeMode: ExpressibleByArgument {}
