import NetworkTypes
import PolicyModel
import Testing
import TollgateDaemon

/// Which addresses are this node's and its peers', and what the kernel rules leave unqueued in each mode.
struct NodeAddressPlanTests {
    static func prefixes(_ texts: [String]) -> [IPPrefix] { texts.compactMap { IPPrefix($0) } }
    static func addresses(_ texts: [String]) -> [IPAddress] { texts.compactMap { IPAddress($0) } }

    /// node-1 has its underlay address and its overlay bridge address on its interfaces; the configuration lists
    /// both bridges; Node objects give the underlay addresses.
    static let nodes = [
        ClusterNode(name: "node-1", addresses: addresses(["192.168.50.1"])),
        ClusterNode(name: "node-2", addresses: addresses(["192.168.50.2", "fd00:50::2"])),
    ]

    static func plan(_ mode: PodToNodeMode, nodeName: String = "node-1", nodes: [ClusterNode] = nodes) -> NodeAddressPlan {
        NodeAddressPlan(
            mode: mode, exemptCIDRs: prefixes(["172.16.0.0/12"]),
            configuredNodeAddresses: prefixes(["10.244.1.1/32", "10.244.2.1/32"]),
            hostAddresses: addresses(["192.168.50.1", "10.244.1.1"]), nodes: nodes, nodeName: nodeName)
    }

    @Test func enforceTrustsOnlyPeerSources() {
        let plan = Self.plan(.enforce)
        #expect(plan.local == Self.prefixes(["10.244.1.1/32", "192.168.50.1/32"]))
        #expect(plan.peers == Self.prefixes(["10.244.2.1/32", "192.168.50.2/32", "fd00:50::2/128"]))
        #expect(plan.exemptCIDRs == Self.prefixes(["172.16.0.0/12"]))
        #expect(plan.trustedSourceCIDRs == plan.peers)
    }

    @Test func exemptExemptsEveryNodeAddressBothWays() {
        let plan = Self.plan(.exempt)
        #expect(
            plan.exemptCIDRs
                == Self.prefixes([
                    "10.244.1.1/32", "10.244.2.1/32", "172.16.0.0/12", "192.168.50.1/32", "192.168.50.2/32", "fd00:50::2/128",
                ]))
        #expect(plan.trustedSourceCIDRs == [])
    }

    /// The Node object named like this node adds its addresses to this node's own, even when the interfaces do
    /// not show them (a load balancer's address, say); with another name they are a peer's.
    @Test func nodeObjectOfThisNodeIsLocal() {
        let asNode2 = Self.plan(.enforce, nodeName: "node-2")
        #expect(asNode2.local == Self.prefixes(["10.244.1.1/32", "192.168.50.1/32", "192.168.50.2/32", "fd00:50::2/128"]))
        #expect(asNode2.peers == Self.prefixes(["10.244.2.1/32"]))
    }

    /// A configured prefix that holds this node's address too: the peers are the rest of it.
    @Test func configuredPrefixIsSplitAroundLocalAddresses() {
        let plan = NodeAddressPlan(
            mode: .enforce, exemptCIDRs: [], configuredNodeAddresses: Self.prefixes(["192.168.50.0/30"]),
            hostAddresses: Self.addresses(["192.168.50.1"]), nodes: [], nodeName: "node-1")
        #expect(plan.peers == Self.prefixes(["192.168.50.0/32", "192.168.50.2/31"]))
        #expect(plan.trustedSourceCIDRs == plan.peers)
    }
}
