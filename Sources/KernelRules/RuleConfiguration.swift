public import NetworkTypes

/// What the kernel rules must send to Tollgate's queues, and how they behave when nobody is reading.
public struct RuleConfiguration: Sendable, Hashable {
    /// Prefixes that hold pod addresses: a new connection is queued when its source or destination is in one.
    public var podCIDRs: [IPPrefix]
    /// Prefixes never queued: a new connection whose source or destination is in one stays in the kernel.
    /// Node addresses go here so that pod-to-node and node-to-pod traffic (probes) stays exempt.
    public var exemptCIDRs: [IPPrefix]
    /// Source addresses whose new connections are never queued: the addresses of peer nodes that run Tollgate
    /// over the same policies. A peer judged such a connection where it entered the cluster, on its original
    /// addresses, before masquerading rewrote the source to one of these; judging it again here, on the rewritten
    /// source, would decide on the wrong address. Matched on the source only, so this node still judges its own
    /// pods' connections towards those addresses.
    public var trustedSourceCIDRs: [IPPrefix]
    /// The first NFQUEUE number.
    public var firstQueue: UInt16
    /// How many consecutive queues (one per worker) starting at `firstQueue`; at least 1.
    public var queueCount: UInt16
    /// When true, packets are accepted while no program is bound to a queue (`--queue-bypass`, nft `bypass`);
    /// when false, they are dropped until Tollgate reads the queue (fail-closed).
    public var failOpen: Bool
    /// Destinations in other clusters that local pods reach without source NAT: traffic from a pod CIDR to one
    /// of these prefixes skips the host's masquerade rules. Empty: Tollgate installs no NAT rules.
    public var remoteClusterCIDRs: [IPPrefix]
    /// Consult the kernel allow cache (`RuleRenderer.allowSetNames`) before queueing: a new connection whose
    /// (source, protocol, destination port, destination) Tollgate allowed under the snapshot in force is not
    /// queued again: ip sets matched by `-m set` (iptables back end), or sets in Tollgate's nft table (nft back end).
    public var allowSets: Bool = false

    /// Creates a configuration.
    public init(
        podCIDRs: [IPPrefix],
        exemptCIDRs: [IPPrefix] = [],
        trustedSourceCIDRs: [IPPrefix] = [],
        firstQueue: UInt16 = 0,
        queueCount: UInt16 = 1,
        failOpen: Bool = true,
        remoteClusterCIDRs: [IPPrefix] = []
    ) {
        self.podCIDRs = podCIDRs
        self.exemptCIDRs = exemptCIDRs
        self.trustedSourceCIDRs = trustedSourceCIDRs
        self.firstQueue = firstQueue
        self.queueCount = queueCount
        self.failOpen = failOpen
        self.remoteClusterCIDRs = remoteClusterCIDRs
    }

    /// The last queue number of the range, or nil when the range is empty or runs past 65535.
    public var lastQueue: UInt16? {
        guard queueCount >= 1 else { return nil }
        let last = UInt32(firstQueue) + UInt32(queueCount) - 1
        return last <= UInt32(UInt16.max) ? UInt16(last) : nil
    }

    /// Checks the configuration, reporting the first problem found.
    public func validate() throws(KernelRulesError) {
        if queueCount == 0 {
            throw .invalidConfiguration("queueCount must be at least 1")
        }
        if lastQueue == nil {
            throw .invalidConfiguration("queues \(firstQueue) + \(queueCount) run past 65535")
        }
        // A remote range inside (or around) a local pod range would exempt local pod-to-pod traffic from NAT rules
        // meant for another cluster, and a connection could not be told apart from a local one.
        for remote in remoteClusterCIDRs {
            if let pod = podCIDRs.first(where: { $0.overlaps(remote) }) {
                throw .invalidConfiguration("remote-cluster CIDR \(remote) overlaps the local pod CIDR \(pod)")
            }
        }
    }
}
