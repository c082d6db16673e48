import Foundation
import KernelRules
import NetworkTypes
import Testing
import TollgateTestSupport

/// Real traffic through the routed pod topology with Tollgate's rules installed in the node and no program
/// reading the queues: fail-closed drops what the rules queue, fail-open lets it through, and what the rules
/// must not queue (exempt addresses) always passes.
@Suite("RuleEnforcement", .serialized, .offCooperativePool, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
struct RuleEnforcementTests {
    static let pods: [(name: String, ipv4: String, ipv6: String?)] = [
        ("x-a", "10.244.1.10", "fd00:244::1:10"),
        ("x-b", "10.244.1.11", "fd00:244::1:11"),
    ]

    static func configuration(failOpen: Bool, exempt: [String] = []) -> RuleConfiguration {
        RuleConfiguration(
            podCIDRs: ["10.244.0.0/16", "fd00:244::/56"].compactMap { IPPrefix($0) },
            exemptCIDRs: exempt.compactMap { IPPrefix($0) }, firstQueue: 4100, queueCount: 2, failOpen: failOpen)
    }

    /// Whether x-a reaches x-b over TCP and UDP, IPv4 and IPv6: all four answers, in that order.
    static func reachability(_ topology: PodTopology, port: UInt16) throws -> [Bool] {
        let a = try #require(topology.pod("x-a"))
        let b = try #require(topology.pod("x-b"))
        let bIPv6 = try #require(b.ipv6)
        var answers: [Bool] = []
        for transport in ProbeTransport.allCases {
            let server = try b.namespace.startProbeServer(port: port, transport: transport)
            defer { server.terminate() }
            for address in [b.ipv4, bIPv6] {
                answers.append(a.namespace.canConnect(to: address, port: port, transport: transport, timeout: .seconds(2)))
            }
        }
        return answers
    }

    @Test
    func failClosedDropsQueuedConnectionsWhileNobodyReads() throws {
        let topology = try PodTopology(tag: "kr-closed", pods: Self.pods)
        defer { topology.teardown() }
        let installer = RuleInstaller(runner: topology.node.runner)
        #expect(try Self.reachability(topology, port: 9100) == [true, true, true, true])
        try installer.install(Self.configuration(failOpen: false), backend: .iptables)
        #expect(try Self.reachability(topology, port: 9101) == [false, false, false, false])
        try installer.cleanup()
        #expect(try Self.reachability(topology, port: 9102) == [true, true, true, true])
    }

    @Test
    func failOpenBypassesTheQueueWhileNobodyReads() throws {
        let topology = try PodTopology(tag: "kr-open", pods: Self.pods)
        defer { topology.teardown() }
        try RuleInstaller(runner: topology.node.runner).install(Self.configuration(failOpen: true), backend: .iptables)
        #expect(try Self.reachability(topology, port: 9110) == [true, true, true, true])
    }

    @Test
    func exemptAddressesAreNeverQueued() throws {
        let topology = try PodTopology(tag: "kr-exempt", pods: Self.pods)
        defer { topology.teardown() }
        let configuration = Self.configuration(failOpen: false, exempt: ["10.244.1.11/32", "fd00:244::1:11/128"])
        try RuleInstaller(runner: topology.node.runner).install(configuration, backend: .iptables)
        // IPv6 also needs neighbour discovery between node and pods, which the rules never queue.
        #expect(try Self.reachability(topology, port: 9120) == [true, true, true, true])
    }

    @Test
    func podToNodeTrafficIsQueuedThroughInput() throws {
        let topology = try PodTopology(tag: "kr-input", pods: Self.pods)
        defer { topology.teardown() }
        let a = try #require(topology.pod("x-a"))
        let server = try topology.node.startProbeServer(port: 9130, transport: .tcp)
        defer { server.terminate() }
        let installer = RuleInstaller(runner: topology.node.runner)
        #expect(a.namespace.canConnect(to: PodTopology.gatewayIPv4, port: 9130, transport: .tcp))
        try installer.install(Self.configuration(failOpen: false), backend: .iptables)
        #expect(!a.namespace.canConnect(to: PodTopology.gatewayIPv4, port: 9130, transport: .tcp, timeout: .seconds(2)))
        // Exempting the node's address (as the daemon does for node IPs) lets pod-to-node traffic through.
        try installer.install(Self.configuration(failOpen: false, exempt: ["169.254.1.1/32"]), backend: .iptables)
        #expect(a.namespace.canConnect(to: PodTopology.gatewayIPv4, port: 9130, transport: .tcp))
    }
}

/// The kernel allow cache's match on real traffic, with nobody reading the queues in fail-closed mode (so whatever
/// reaches the queue is dropped): a connection whose (source, protocol, destination port, destination) is in the
/// allow set passes without being queued, any other is dropped, and `allowCacheAccepts` reads how many the set let
/// through. Elements are added with the `ipset` and `nft` tools here (the workers' netlink encoding is tested in
/// DatapathTests). The nft back end's queue statement is replaced by `drop`: this kernel lacks `CONFIG_NFT_QUEUE`,
/// so what this covers of the nft back end is the sets, the match and its counter, not the queue.
@Suite("AllowSetEnforcement", .serialized, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
struct AllowSetEnforcementTests {
    @Test(arguments: RuleBackend.allCases)
    func allowSetElementsSkipTheQueueAndAreCounted(_ backend: RuleBackend) throws {
        let topology = try PodTopology(tag: "kc-match-\(backend)", pods: RuleEnforcementTests.pods)
        defer { topology.teardown() }
        let a = try #require(topology.pod("x-a"))
        let b = try #require(topology.pod("x-b"))
        let bIPv6 = try #require(b.ipv6)
        var configuration = RuleEnforcementTests.configuration(failOpen: false)
        configuration.allowSets = true
        let installer = RuleInstaller(runner: topology.node.runner)
        switch backend {
        case .iptables:
            try installer.install(configuration, backend: .iptables)
            try topology.node.run(["ipset", "add", "tollgate-allow-v4", "\(a.ipv4),tcp:9150,\(b.ipv4)"])
            try topology.node.run(["ipset", "add", "tollgate-allow-v6", "\(try #require(a.ipv6)),tcp:9150,\(bIPv6)"])
        case .nftables:
            let script = try RuleRenderer().render(configuration, for: .nftables).text
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.contains("queue flags") || $0.contains("queue num") ? "\t\tdrop" : String($0) }
                .joined(separator: "\n")
            try topology.node.run(["nft", "-f", "-"], input: script)
            try topology.node.run([
                "nft", "add", "element", "inet", "tollgate", "allow-v4", "{ \(a.ipv4) . tcp . 9150 . \(b.ipv4) }",
            ])
            try topology.node.run([
                "nft", "add", "element", "inet", "tollgate", "allow-v6", "{ \(try #require(a.ipv6)) . tcp . 9150 . \(bIPv6) }",
            ])
        }
        #expect(try installer.allowCacheAccepts(backend: backend) == 0)
        for port: UInt16 in [9150, 9151] {
            let server = try b.namespace.startProbeServer(port: port, transport: .tcp)
            defer { server.terminate() }
            for address in [b.ipv4, bIPv6] {
                let connected = a.namespace.canConnect(to: address, port: port, transport: .tcp, timeout: .seconds(2))
                #expect(connected == (port == 9150), "port \(port) to \(address)")
            }
        }
        // One new connection per family matched the sets; the SYN retransmissions of the dropped ones did not.
        #expect(try installer.allowCacheAccepts(backend: backend) == 2)
        // The same flow in the other direction, or over UDP, is another key.
        let server = try a.namespace.startProbeServer(port: 9150, transport: .tcp)
        defer { server.terminate() }
        #expect(!b.namespace.canConnect(to: a.ipv4, port: 9150, transport: .tcp, timeout: .seconds(1)))
        #expect(try installer.allowCacheAccepts(backend: backend) == 2)
    }
}

/// The remote-cluster NAT exemption on real traffic: a node that masquerades pod traffic leaving the pod range
/// (here SNAT to its gateway address, as a plugin's masquerade would to its uplink) keeps the pod's source address
/// towards `remoteClusterCIDRs`, with either back end and with the host's masquerade in iptables or in an nft table
/// of its own. The server in the "remote cluster" pod answers with the address it sees.
@Suite("RemoteClusterNAT", .serialized, .offCooperativePool, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
struct RemoteClusterNATTests {
    enum HostMasquerade: String, CaseIterable, Sendable {
        /// `iptables -t nat -A POSTROUTING ... -j SNAT`, as most plugins and kube-proxy do.
        case iptables
        /// A separate nft table with its own nat chain at priority srcnat.
        case nftables
    }

    static let pods: [(name: String, ipv4: String, ipv6: String?)] = [
        ("x-a", "10.244.1.10", nil),
        ("remote", "10.245.1.10", nil),
    ]

    /// The nft script with its queue statement replaced by a counter: this kernel lacks `CONFIG_NFT_QUEUE`, and
    /// nothing here is queued anyway (the remote pod is outside the pod range, the source is inside: the rules
    /// would queue it, so the counter keeps the chain's shape while accepting).
    static func nftScriptWithoutQueue(_ configuration: RuleConfiguration) throws -> String {
        try RuleRenderer().render(configuration, for: .nftables).text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.contains("queue flags") || $0.contains("queue num") ? "\t\tcounter" : String($0) }
            .joined(separator: "\n")
    }

    static func install(backend: RuleBackend, remote: [String], in topology: PodTopology) throws {
        let configuration = RuleConfiguration(
            podCIDRs: ["10.244.0.0/16"].compactMap { IPPrefix($0) }, firstQueue: 4200, failOpen: true,
            remoteClusterCIDRs: remote.compactMap { IPPrefix($0) })
        switch backend {
        case .iptables:
            try RuleInstaller(runner: topology.node.runner).install(configuration, backend: .iptables)
        case .nftables:
            try topology.node.run(["nft", "-f", "-"], input: try nftScriptWithoutQueue(configuration))
        }
    }

    static func masquerade(_ kind: HostMasquerade, in topology: PodTopology) throws {
        switch kind {
        case .iptables:
            try topology.node.run([
                "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.244.0.0/16", "!", "-d", "10.244.0.0/16", "-j",
                "SNAT", "--to-source", PodTopology.gatewayIPv4,
            ])
        case .nftables:
            try topology.node.run(
                ["nft", "-f", "-"],
                input: """
                    table ip hostnat {
                    \tchain postrouting {
                    \t\ttype nat hook postrouting priority srcnat; policy accept;
                    \t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 snat to \(PodTopology.gatewayIPv4)
                    \t}
                    }
                    """)
        }
    }

    /// The source address the remote pod sees for a connection from x-a.
    static func sourceSeenByRemote(_ topology: PodTopology, port: UInt16) throws -> String {
        let a = try #require(topology.pod("x-a"))
        let remote = try #require(topology.pod("remote"))
        let server = try remote.namespace.start([
            "socat", "TCP-LISTEN:\(port),reuseaddr,fork", "SYSTEM:echo $SOCAT_PEERADDR",
        ])
        defer { server.terminate() }
        for _ in 0..<200 {
            let listening = try remote.namespace.execute(["ss", "-Hltn", "sport", "=", ":\(port)"])
            if !listening.standardOutput.isEmpty { break }
            usleep(10_000)
        }
        let result = try a.namespace.execute(["socat", "-T", "3", "-", "TCP:\(remote.ipv4):\(port),connect-timeout=3"])
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every combination but the iptables back end against an nft-table masquerade: its NETMAP runs in iptables'
    /// own nat chain, and an nft table at the same priority may run first (docs/scenarios.md says so).
    @Test(arguments: [
        (RuleBackend.iptables, HostMasquerade.iptables), (.nftables, .iptables), (.nftables, .nftables),
    ])
    func podTrafficToRemoteClustersKeepsItsSourceAddress(backend: RuleBackend, host: HostMasquerade) throws {
        let topology = try PodTopology(tag: "kr-nat-\(backend)-\(host)", pods: Self.pods)
        defer { topology.teardown() }
        try Self.masquerade(host, in: topology)
        #expect(try Self.sourceSeenByRemote(topology, port: 9140) == PodTopology.gatewayIPv4)
        try Self.install(backend: backend, remote: ["10.245.0.0/16"], in: topology)
        #expect(try Self.sourceSeenByRemote(topology, port: 9141) == "10.244.1.10")
        // Only the listed ranges: other destinations are still masqueraded.
        try Self.install(backend: backend, remote: ["10.246.0.0/16"], in: topology)
        #expect(try Self.sourceSeenByRemote(topology, port: 9142) == PodTopology.gatewayIPv4)
    }
}
