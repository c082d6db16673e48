import Datapath
import KernelRules
import LinuxSupport
import NetworkTypes

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

    public init(
        policyDirectory: String?, podCIDRs: [IPPrefix], exemptCIDRs: [IPPrefix] = [], workers: Int, firstQueue: UInt16 = 0,
        failureMode: FailureMode = .open, metricsAddress: ListenAddress, backend: RuleBackend? = nil,
        pollInterval: Duration = .milliseconds(5000), flowCacheSize: Int = 16384, audit: Bool = false,
        denyLogRate: Double = 20, revoke: Bool = true
    ) {
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

    /// The kernel rules this configuration installs.
    public var ruleConfiguration: RuleConfiguration {
        RuleConfiguration(
            podCIDRs: podCIDRs, exemptCIDRs: exemptCIDRs, firstQueue: firstQueue, queueCount: UInt16(workers),
            failOpen: failureMode == .open)
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
        for exempt in exemptCIDRs {
            for pod in podCIDRs where exempt.contains(pod) {
                result.append("--exempt-cidr: \(exempt) covers the whole pod CIDR \(pod); nothing would be enforced")
            }
        }
        return result
    }
}
