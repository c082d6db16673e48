import Glibc
import LinuxSupport
import Testing
import TollgateTestSupport

/// The network-namespace harness itself: the routed pod topology carries IPv4 and IPv6 between pods, and
/// nothing it creates outlives it.
@Suite("PodTopology", .serialized, .offCooperativePool, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
struct PodTopologyTests {
    static let pods: [(name: String, ipv4: String, ipv6: String?)] = [
        ("x-a", "10.244.1.10", "fd00:244::1:10"),
        ("x-b", "10.244.1.11", "fd00:244::1:11"),
        ("x-c", "10.244.1.12", nil),
    ]

    static func namespaceList() throws -> [String] {
        let result = try CommandRunner().run(["ip", "netns", "list"])
        return result.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").first }.map(String.init)
    }

    @Test
    func podsReachEachOtherOverIPv4AndIPv6ThroughTheNode() throws {
        let topology = try PodTopology(tag: "topo-reach", pods: Self.pods)
        defer { topology.teardown() }
        let a = try #require(topology.pod("x-a"))
        let b = try #require(topology.pod("x-b"))
        let c = try #require(topology.pod("x-c"))
        let bIPv6 = try #require(b.ipv6)

        for transport in ProbeTransport.allCases {
            let server = try b.namespace.startProbeServer(port: 8080, transport: transport)
            defer { server.terminate() }
            #expect(a.namespace.canConnect(to: b.ipv4, port: 8080, transport: transport), "\(transport) over IPv4")
            #expect(a.namespace.canConnect(to: bIPv6, port: 8080, transport: transport), "\(transport) over IPv6")
            #expect(c.namespace.canConnect(to: b.ipv4, port: 8080, transport: transport), "\(transport) from x-c")
            // Nothing listens on another port: the probe must report failure, not hang.
            #expect(!a.namespace.canConnect(to: b.ipv4, port: 8081, transport: transport, timeout: .seconds(1)))
        }
        // The node reaches pods too (host-to-pod), from its gateway address.
        let server = try c.namespace.startProbeServer(port: 8082, transport: .tcp)
        defer { server.terminate() }
        #expect(topology.node.canConnect(to: c.ipv4, port: 8082, transport: .tcp))
    }

    @Test
    func probeFailsWhenTheServerIsUnreachable() throws {
        let topology = try PodTopology(tag: "topo-down", pods: Array(Self.pods.prefix(2)))
        defer { topology.teardown() }
        let a = try #require(topology.pod("x-a"))
        let b = try #require(topology.pod("x-b"))
        let server = try b.namespace.startProbeServer(port: 8090, transport: .tcp)
        defer { server.terminate() }
        #expect(a.namespace.canConnect(to: b.ipv4, port: 8090, transport: .tcp))
        try topology.node.run(["ip", "link", "set", b.hostInterface, "down"])
        #expect(!a.namespace.canConnect(to: b.ipv4, port: 8090, transport: .tcp, timeout: .seconds(1)))
    }

    @Test
    func teardownAndDeinitLeaveNoNamespaceBehind() throws {
        var names: [String] = []
        do {
            let topology = try PodTopology(tag: "topo-gone", pods: Self.pods)
            names = topology.namespaceNames
            #expect(try Set(Self.namespaceList()).isSuperset(of: names))
            // A background process inside must not keep anything alive.
            _ = try topology.pods[0].namespace.start(["sleep", "60"])
            topology.teardown()
            #expect(try Set(Self.namespaceList()).isDisjoint(with: names))
        }
        do {
            // Deinit as the backstop: no explicit teardown.
            let topology = try PodTopology(tag: "topo-deinit", pods: Array(Self.pods.prefix(1)))
            names = topology.namespaceNames
        }
        #expect(try Set(Self.namespaceList()).isDisjoint(with: names))
    }

    @Test
    func failedBuildRemovesWhatItBuilt() throws {
        let before = try Self.namespaceList().filter { $0.hasPrefix("tg-topo-bad-") }
        #expect(throws: NetworkNamespaceError.self) {
            _ = try PodTopology(tag: "topo-bad", pods: [("x-a", "10.244.1.10", nil), ("x-b", "not-an-address", nil)])
        }
        #expect(try Self.namespaceList().filter { $0.hasPrefix("tg-topo-bad-") } == before)
    }

    @Test
    func removeStaleDeletesLeftovers() throws {
        let name = "tg-topo-stale-\(getpid())-x"
        _ = try CommandRunner().run(["ip", "netns", "add", name])
        #expect(NetworkNamespace.exists(name))
        let removed = NetworkNamespace.removeStale(prefix: "tg-topo-stale-\(getpid())-")
        #expect(removed == [name])
        #expect(!NetworkNamespace.exists(name))
    }

    @Test
    func commandRunnerCapturesOutputErrorsStatusAndInput() throws {
        let runner = CommandRunner(timeout: .seconds(5))
        let echoed = try runner.run(["sh", "-c", "cat; echo err >&2; exit 3"], input: "hello\n")
        #expect(
            echoed
                == CommandRunner.Result(
                    arguments: ["sh", "-c", "cat; echo err >&2; exit 3"], exitStatus: 3, standardOutput: "hello\n",
                    standardError: "err\n", timedOut: false))
        let slow = try CommandRunner(timeout: .milliseconds(200)).run(["sleep", "5"])
        #expect(slow.timedOut && slow.exitStatus == 128 + 9)
        #expect(throws: CommandRunner.Failure.self) { try runner.run(["/nonexistent/tollgate-no-such-program"]) }
        // A large input into a program that never reads it must neither hang nor raise SIGPIPE.
        let ignored = try runner.run(["true"], input: String(repeating: "x", count: 1 << 20))
        #expect(ignored.succeeded)
    }
}

