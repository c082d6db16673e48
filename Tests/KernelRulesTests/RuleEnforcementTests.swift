import KernelRules
import NetworkTypes
import Testing
import TollgateTestSupport

/// Real traffic through the routed pod topology with Tollgate's rules installed in the node and no program
/// reading the queues: fail-closed drops what the rules queue, fail-open lets it through, and what the rules
/// must not queue (exempt addresses) always passes.
@Suite("RuleEnforcement", .serialized, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
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
