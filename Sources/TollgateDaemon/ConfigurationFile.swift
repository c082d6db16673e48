import Datapath
import Foundation
import KernelRules
import LinuxSupport
import Logging
import NetworkTypes

/// The contents of `/etc/tollgate/config.yaml`: every `tollgate run` option, each nil when the file leaves it out.
///
/// The file is one YAML 1.1 mapping (YAML spec §7–§8) whose keys are the ``Key`` cases, spelled in lowerCamelCase.
/// Loading is strict: an unknown key, a value of the wrong type, an invalid CIDR or an out-of-range number is a
/// ``ConfigurationFileError`` that names the key, the line and the value, and every problem in the file is
/// reported at once. Command-line flags override file values (see ``resolve(overrides:)``).
///
public struct ConfigurationFile: Sendable, Hashable {
    /// The keys a configuration file may hold, in the order of the default file.
    public enum Key: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The directory of Kubernetes manifests (`--policy-dir`).
        case policyDir
        /// Pod address ranges (`--pod-cidr`).
        case podCIDRs
        /// Addresses whose traffic with pods is never queued (`--exempt-cidr`).
        case exemptCIDRs
        /// Worker threads, one queue each (`--workers`).
        case workers
        /// 0, or the `SCHED_RR` priority of the workers (`--worker-priority`).
        case workerPriority
        /// Keep allowed flows in kernel sets so repeats skip the queue (`--kernel-allow-cache`).
        case kernelAllowCache
        /// The first NFQUEUE number (`--queue-num`).
        case queueNum
        /// `open` or `closed` (`--fail-closed`).
        case failureMode
        /// HOST:PORT of the metrics and status endpoint (`--metrics-addr`).
        case metricsAddr
        /// `auto`, `iptables` or `nftables` (`--backend`).
        case backend
        /// The log level (`--log-level`).
        case logLevel
        /// `text` or `json`.
        case logFormat
        /// How often the policy directory is listed as a safety net, in milliseconds (`--poll-interval-ms`).
        case pollIntervalMs
        /// Decide and log as if enforcing, but let every connection through (`--audit`).
        case audit
        /// Denied-connection log lines per second (`--deny-log-rate`).
        case denyLogRate
        /// Cut established connections that a new policy denies (`--no-revoke` sets false).
        case revoke
        /// This node's name, as in its Node object (`--node-name`).
        case nodeName
        /// Addresses of the cluster's nodes, including overlay bridge and tunnel addresses (`--node-address`).
        case nodeAddresses
        /// Whether traffic between pods and node addresses is exempt or enforced (`--pod-to-node`).
        case podToNode
        /// Pod and service ranges of other clusters, reached without source NAT (`--remote-cluster-cidr`).
        case remoteClusterCIDRs
        /// A kubeconfig file for the Kubernetes API feed (`--kubeconfig`).
        case kubeconfig
        /// Whether to use the in-cluster service account for the API feed (`--in-cluster`).
        case inCluster

        /// The key as spelled in the file.
        public var description: String { rawValue }
    }

    /// The `backend` values.
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// Detect the back end at start.
        case auto
        /// Force iptables (`iptables-restore`).
        case iptables
        /// Force nftables (`nft`).
        case nftables

        /// The back end to force, or nil to detect.
        public var forced: RuleBackend? {
            switch self {
            case .auto: return nil
            case .iptables: return .iptables
            case .nftables: return .nftables
            }
        }
    }

    /// The path of the configuration file `tollgate run` reads when it exists and `--config` is not given.
    public static let defaultPath = "/etc/tollgate/config.yaml"

    /// The largest file accepted, in bytes; a configuration file is a few hundred bytes.
    public static let maximumBytes = 1 << 20

    /// The file the values came from, used in error messages; empty when there is no file.
    public var path: String
    /// `policyDir`.
    public var policyDirectory: String?
    /// `podCIDRs`.
    public var podCIDRs: [IPPrefix]?
    /// `exemptCIDRs`.
    public var exemptCIDRs: [IPPrefix]?
    /// `workers`.
    public var workers: Int?
    /// `workerPriority`.
    public var workerPriority: Int?
    /// `kernelAllowCache`.
    public var kernelAllowCache: Bool?
    /// `queueNum`.
    public var firstQueue: UInt16?
    /// `failureMode`.
    public var failureMode: FailureMode?
    /// `metricsAddr`.
    public var metricsAddress: ListenAddress?
    /// `backend`.
    public var backend: Backend?
    /// `logLevel`.
    public var logLevel: Logger.Level?
    /// `logFormat`.
    public var logFormat: LogFormat?
    /// `pollIntervalMs`.
    public var pollIntervalMilliseconds: Int?
    /// `audit`.
    public var audit: Bool?
    /// `denyLogRate`.
    public var denyLogRate: Double?
    /// `revoke`.
    public var revoke: Bool?
    /// `nodeName`.
    public var nodeName: String?
    /// `nodeAddresses`.
    public var nodeAddresses: [IPPrefix]?
    /// `podToNode`.
    public var podToNode: PodToNodeMode?
    /// `remoteClusterCIDRs`.
    public var remoteClusterCIDRs: [IPPrefix]?
    /// `kubeconfig`; the empty string means none.
    public var kubeconfig: String?
    /// `inCluster`.
    public var inCluster: Bool?
    /// The line (1-based) of each key present in the file, for messages about values checked later.
    public var lines: [Key: Int]

    /// An empty configuration: every value comes from flags or built-in defaults.
    public init(path: String = "") {
        self.path = path
        self.lines = [:]
    }

    /// Parses and validates YAML text; `path` names the file in error messages.
    ///
    /// - Throws: ``ConfigurationFileError`` listing every problem found, each with its key, line and value.
    public init(yaml text: String, path: String) throws(ConfigurationFileError) {
        var parser = ConfigurationFileParser(path: path)
        let parsed = parser.parse(text)
        guard parser.problems.isEmpty else { throw ConfigurationFileError(path: path, problems: parser.problems) }
        self = parsed
    }

    /// Reads, parses and validates the file at `path` (at most ``maximumBytes``).
    ///
    /// - Throws: ``ConfigurationFileError``; a file that cannot be read gives one problem naming the call and errno.
    public static func load(path: String) throws(ConfigurationFileError) -> ConfigurationFile {
        let text = try ConfigurationFileReader.read(path: path, limit: maximumBytes)
        return try ConfigurationFile(yaml: text, path: path)
    }
}
