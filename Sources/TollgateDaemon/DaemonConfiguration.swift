import Datapath
import KernelRules
import LinuxSupport
import NetworkTypes
import PolicyModel

#if canImport(Glibc)
    import Glibc
#endif

/// Everything `tollgate run` needs, whether it came from flags or (later) a configuration file.
public struct DaemonConfiguration: Sendable, Hashable {
    /// The watched directory of manifests; nil when policies come from the Kubernetes API only.
    public var policyDirectory: String?
    /// The Kubernetes API feed (`--kubeconfig`, `--in-cluster`); nil for none. At least one source is required.
    public var kubernetesAPI: KubernetesAPISource? = nil
    public var podCIDRs: [IPPrefix]
    public var exemptCIDRs: [IPPrefix]
    public var workers: Int
    public var firstQueue: UInt16
    public var failureMode: FailureMode
    public var metricsAddress: ListenAddress
    /// Nil: detect at start.
    public var backend: RuleBackend?
    /// How often the policy directory is also checked for changes by listing it, as a safety net under inotify;
    /// `.zero` turns the poll off (inotify alone). Changes are seen through inotify either way.
    public var pollInterval: Duration
    public var flowCacheSize: Int
    /// Decide and log as if enforcing, but let every connection through.
    public var audit: Bool
    /// Denied-connection log lines per second (a token bucket; the rest are counted and summarised).
    public var denyLogRate: Double
    /// Cut established connections that a new snapshot denies (on by default; `--no-revoke` turns it off).
    public var revoke: Bool
    /// This node's name, as in its Node object: that object's addresses are this node's own.
    public var nodeName: String
    /// Addresses of the cluster's nodes beyond the Node objects' (overlay bridge and tunnel addresses).
    public var nodeAddresses: [IPPrefix]
    /// Whether connections between pods and node addresses are exempt or judged.
    public var podToNode: PodToNodeMode
    /// Pod and service ranges of other clusters, reached from local pods without source NAT.
    public var remoteClusterCIDRs: [IPPrefix]
    /// 0: the workers run under normal scheduling; 1–99: under `SCHED_RR` at that priority.
    public var workerPriority: Int = 0
    /// Keep allowed flows in kernel sets (ip sets with the iptables back end, nft sets with the nft back end) so that
    /// later connections with the same (source, protocol, destination port, destination) skip the queue until the
    /// next snapshot.
    public var kernelAllowCache: Bool = false

    public init(
        policyDirectory: String?, podCIDRs: [IPPrefix], exemptCIDRs: [IPPrefix] = [], workers: Int, firstQueue: UInt16 = 0,
        failureMode: FailureMode = .open, metricsAddress: ListenAddress, backend: RuleBackend? = nil,
        pollInterval: Duration = .milliseconds(5000), flowCacheSize: Int = 16384, audit: Bool = false,
        denyLogRate: Double = 20, revoke: Bool = true, nodeName: String = DaemonConfiguration.hostName,
        nodeAddresses: [IPPrefix] = [], podToNode: PodToNodeMode = .exempt, remoteClusterCIDRs: [IPPrefix] = []
    ) {
        self.nodeName = nodeName
        self.nodeAddresses = nodeAddresses
        self.podToNode = podToNode
        self.remoteClusterCIDRs = remoteClusterCIDRs
        self.revoke = revoke
        self.audit = audit
        self.denyLogRate = denyLogRate
        self.policyDirectory = policyDirectory
        self.podCIDRs = podCIDRs
        self.exemptCIDRs = exemptCIDRs
        self.workers = workers
        self.firstQueue = firstQueue
        self.failureMode = failureMode
        self.metricsAddress = metricsAddress
        self.backend = backend
        self.pollInterval = pollInterval
        self.flowCacheSize = flowCacheSize
    }

    /// The kernel rules this configuration installs, given which addresses belong to this node and its peers.
    /// `allowSets` turns on the kernel allow cache's match (only where the back end supports it).
    public func ruleConfiguration(nodes plan: NodeAddressPlan, allowSets: Bool = false) -> RuleConfiguration {
        var rules = RuleConfiguration(
            podCIDRs: podCIDRs, exemptCIDRs: plan.exemptCIDRs, trustedSourceCIDRs: plan.trustedSourceCIDRs,
            firstQueue: firstQueue, queueCount: UInt16(workers), failOpen: failureMode == .open,
            remoteClusterCIDRs: remoteClusterCIDRs)
        rules.allowSets = allowSets
        return rules
    }

    /// This node's and its peers' addresses: `hostAddresses` (this host's interfaces) and the Node objects `nodes`
    /// as this configuration's node name, node addresses, exempt ranges and pod-to-node mode place them.
    public func nodePlan(hostAddresses: [IPAddress], nodes: [ClusterNode]) -> NodeAddressPlan {
        NodeAddressPlan(
            mode: podToNode, exemptCIDRs: exemptCIDRs, configuredNodeAddresses: nodeAddresses,
            hostAddresses: hostAddresses, nodes: nodes, nodeName: nodeName)
    }

    /// Whether the kernel allow cache is in force on `backend`: asked for, and, with the iptables back end (whose
    /// sets are ip sets), the `ipset` tool is installed (asked of `installer` only then).
    public func usesAllowCache(on backend: RuleBackend, installer: RuleInstaller) -> Bool {
        kernelAllowCache && (backend != .iptables || installer.hasIPSetTool())
    }

    /// The host name (the `--node-name` default), or `localhost` when it cannot be read.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        // kubelet lower-cases the host name for the Node object's name; so does Tollgate.
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
    }

    /// Why `name` cannot be a node name (a DNS subdomain, RFC 1123: at most 253 lowercase letters, digits, `-` and
    /// `.`, starting and ending with a letter or digit), or nil when it can.
    public static func nodeNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        let allowed = bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
        let alphanumeric: (UInt8) -> Bool = { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
        guard !bytes.isEmpty, bytes.count <= 253, allowed, let first = bytes.first, let last = bytes.last,
            alphanumeric(first), alphanumeric(last)
        else {
            return "must be a DNS subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        }
        return nil
    }

    /// Every problem with the configuration, each naming the option and the value.
    public func problems() -> [String] {
        var result: [String] = []
        if policyDirectory == nil && kubernetesAPI == nil {
            result.append(
                "--policy-dir: no policy source: pass --policy-dir, --kubeconfig or --in-cluster, or set policyDir, kubeconfig or inCluster in the configuration file")
        }
        if denyLogRate < 0 { result.append("--deny-log-rate: must not be negative, got \(denyLogRate)") }
        if podCIDRs.isEmpty { result.append("--pod-cidr: at least one pod CIDR is required") }
        if workers < 1 || workers > 64 { result.append("--workers: must be between 1 and 64, got \(workers)") }
        if Int(firstQueue) + workers - 1 > Int(UInt16.max) {
            result.append("--queue-num: queues \(firstQueue)...\(Int(firstQueue) + workers - 1) exceed 65535")
        }
        for (index, a) in podCIDRs.enumerated() {
            for b in podCIDRs[(index + 1)...] where a.overlaps(b) {
                result.append("--pod-cidr: \(a) overlaps \(b)")
            }
        }
        for (option, list) in [
            ("--exempt-cidr", exemptCIDRs), ("--node-address", nodeAddresses), ("--remote-cluster-cidr", remoteClusterCIDRs),
        ] {
            for (index, a) in list.enumerated() {
                for b in list[(index + 1)...] where a.overlaps(b) {
                    result.append("\(option): \(a) overlaps \(b)")
                }
            }
        }
        for (option, list) in [("--exempt-cidr", exemptCIDRs), ("--node-address", nodeAddresses)] {
            for exempt in list {
                for pod in podCIDRs where exempt.contains(pod) {
                    result.append("\(option): \(exempt) covers the whole pod CIDR \(pod); nothing would be enforced")
                }
            }
        }
        for remote in remoteClusterCIDRs {
            for pod in podCIDRs where remote.overlaps(pod) {
                result.append(
                    "--remote-cluster-cidr: \(remote) overlaps the local pod CIDR \(pod); a remote cluster's range must be its own")
            }
        }
        if !(0...99).contains(workerPriority) {
            result.append("--worker-priority: must be 0 (normal scheduling) or 1 to 99 (SCHED_RR), got \(workerPriority)")
        }
        if let problem = Self.nodeNameProblem(nodeName) { result.append("--node-name: \(problem), got \"\(nodeName)\"") }
        return result
    }
}
