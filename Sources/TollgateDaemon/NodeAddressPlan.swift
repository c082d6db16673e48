import NetworkTypes
import PolicyModel

/// Which addresses are this node's, which are its peers', and what the kernel rules therefore leave unqueued.
///
/// Node addresses come from three places: this host's interfaces (always this node's own), the Node objects of the
/// policy sources (`status.addresses`; the object named `nodeName` is this node), and the configured
/// `nodeAddresses`, which name the overlay bridge and tunnel addresses Node objects do not list. A configured
/// prefix may hold this node's addresses too: the peers are what remains once this node's are taken out.
///
/// - `podToNode: exempt`: connections between pods and any node address, in either direction, are never queued.
/// - `podToNode: enforce`: they are judged; only connections *from* a peer's address stay unqueued, because the
///   peer judged them where they entered the cluster, on their original addresses, before it masqueraded them
///   (see ``RuleConfiguration/trustedSourceCIDRs``).
public struct NodeAddressPlan: Sendable, Hashable {
    /// This node's own addresses, as host prefixes, sorted.
    public let local: [IPPrefix]
    /// The other nodes' addresses, sorted, none overlapping `local`.
    public let peers: [IPPrefix]
    /// What the kernel rules exempt in both directions: the configured exempt CIDRs, plus (exempt mode) every node
    /// address.
    public let exemptCIDRs: [IPPrefix]
    /// What the kernel rules leave unqueued as a source only: the peers' addresses (enforce mode).
    public let trustedSourceCIDRs: [IPPrefix]

    /// Works out the plan for `mode`. `hostAddresses` are this host's interface addresses; `nodes` the Node objects
    /// of the policy sources, of which the one called `nodeName` is this node.
    public init(
        mode: PodToNodeMode, exemptCIDRs: [IPPrefix], configuredNodeAddresses: [IPPrefix], hostAddresses: [IPAddress],
        nodes: [ClusterNode], nodeName: String
    ) {
        var local = Set(hostAddresses.map { IPPrefix(host: $0) })
        var known = Set(configuredNodeAddresses)
        for node in nodes {
            let prefixes = node.addresses.map { IPPrefix(host: $0) }
            if node.name == nodeName { local.formUnion(prefixes) } else { known.formUnion(prefixes) }
        }
        let localList = local.sorted()
        let peers = Set(known.flatMap { $0.subtracting(localList) }).sorted()
        self.local = localList
        self.peers = peers
        switch mode {
        case .exempt:
            // Every node address, as configured (not split around this node's): fewer, wider rules.
            self.exemptCIDRs = Set(exemptCIDRs + localList + known).sorted()
            trustedSourceCIDRs = []
        case .enforce:
            self.exemptCIDRs = exemptCIDRs
            trustedSourceCIDRs = peers
        }
    }
}
