import Foundation
import KernelRules
import NetworkTypes
import Testing

/// Builds a prefix from a literal, failing the test (not trapping) when it does not parse.
func prefixes(_ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [IPPrefix] {
    try texts.map { text in try #require(IPPrefix(text), "bad prefix \(text)", sourceLocation: sourceLocation) }
}

/// The configurations whose renderings are kept as golden files.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var backend: RuleBackend
    var pods: [String]
    var exempt: [String]
    var firstQueue: UInt16
    var queueCount: UInt16
    var failOpen: Bool
    var remote: [String] = []
    var trusted: [String] = []
    var allowSets = false

    var testDescription: String { name }

    func configuration() throws -> RuleConfiguration {
        var configuration = RuleConfiguration(
            podCIDRs: try prefixes(pods), exemptCIDRs: try prefixes(exempt), trustedSourceCIDRs: try prefixes(trusted),
            firstQueue: firstQueue,
            queueCount: queueCount, failOpen: failOpen, remoteClusterCIDRs: try prefixes(remote))
        configuration.allowSets = allowSets
        return configuration
    }

    static let dualStack = ["10.244.0.0/16", "fd00:244::/56"]
    static let nodes = ["192.168.10.0/24", "10.244.1.1/32", "fd00:10::/64"]

    static let all: [GoldenCase] = [
        GoldenCase(
            name: "iptables-fail-open-balanced", backend: .iptables, pods: dualStack, exempt: nodes,
            firstQueue: 100, queueCount: 4, failOpen: true),
        GoldenCase(
            name: "iptables-fail-closed-single", backend: .iptables, pods: dualStack, exempt: nodes,
            firstQueue: 7, queueCount: 1, failOpen: false),
        GoldenCase(
            name: "iptables-remote-cluster-nat", backend: .iptables, pods: dualStack, exempt: [],
            firstQueue: 0, queueCount: 2, failOpen: true, remote: ["10.245.0.0/16", "fd00:245::/56"]),
        GoldenCase(
            name: "iptables-trusted-peers", backend: .iptables, pods: dualStack, exempt: [], firstQueue: 0, queueCount: 1,
            failOpen: true, trusted: ["10.244.2.1/32", "192.168.10.0/24", "fd00:10::/64"]),
        GoldenCase(
            name: "iptables-kernel-allow-cache", backend: .iptables, pods: dualStack, exempt: nodes, firstQueue: 0,
            queueCount: 2, failOpen: true, allowSets: true),
        GoldenCase(
            name: "nftables-remote-cluster-nat-trusted-peers", backend: .nftables, pods: dualStack, exempt: [],
            firstQueue: 0, queueCount: 2, failOpen: true, remote: ["10.245.0.0/16", "10.97.0.0/16", "fd00:245::/56"],
            trusted: ["10.244.2.1/32", "192.168.10.0/24", "fd00:10::/64"]),
        GoldenCase(
            name: "nftables-fail-open-balanced", backend: .nftables, pods: dualStack, exempt: nodes,
            firstQueue: 100, queueCount: 4, failOpen: true),
        GoldenCase(
            name: "nftables-fail-closed-single", backend: .nftables, pods: dualStack, exempt: nodes,
            firstQueue: 7, queueCount: 1, failOpen: false),
        GoldenCase(
            name: "nftables-kernel-allow-cache", backend: .nftables, pods: dualStack, exempt: nodes, firstQueue: 0,
            queueCount: 2, failOpen: true, trusted: ["10.244.2.1/32"], allowSets: true),
    ]
}

@Suite("RuleRenderer")
struct RuleRendererTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden")

    /// Compares the rendering with `Golden/<name>.txt`; `TOLLGATE_UPDATE_GOLDEN=1` rewrites the file instead.
    @Test(arguments: GoldenCase.all)
    func renderingMatchesGoldenFile(_ golden: GoldenCase) throws {
        let text = try RuleRenderer().render(golden.configuration(), for: golden.backend).text
        let file = Self.goldenDirectory.appendingPathComponent("\(golden.name).txt")
        if ProcessInfo.processInfo.environment["TOLLGATE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(text == expected)
    }

    @Test(arguments: [RuleBackend.iptables, .nftables])
    func failOpenBypassesAndFailClosedDoesNot(_ backend: RuleBackend) throws {
        var configuration = RuleConfiguration(podCIDRs: try prefixes(["10.244.0.0/16"]), firstQueue: 3, queueCount: 2)
        configuration.failOpen = true
        let open = try RuleRenderer().render(configuration, for: backend).text
        configuration.failOpen = false
        let closed = try RuleRenderer().render(configuration, for: backend).text
        let bypass = backend == .iptables ? "--queue-bypass" : "bypass"
        #expect(open.contains(bypass))
        #expect(!closed.contains(bypass))
    }

    @Test
    func iptablesQueueTargetsMatchQueueRange() throws {
        let pods = try prefixes(["10.244.0.0/16", "fd00:244::/56"])
        let single = RuleConfiguration(podCIDRs: pods, firstQueue: 9, queueCount: 1, failOpen: false)
        let balanced = RuleConfiguration(podCIDRs: pods, firstQueue: 9, queueCount: 3, failOpen: true)
        guard case .iptables(let v4, let v6) = try RuleRenderer().render(single, for: .iptables),
            case .iptables(let b4, _) = try RuleRenderer().render(balanced, for: .iptables)
        else {
            Issue.record("iptables back end rendered something else")
            return
        }
        let queueLine = "-A TOLLGATE-QUEUE -m comment --comment \"tollgate: decide new pod connections\" -j NFQUEUE"
        #expect(v4.chainRules.last == queueLine + " --queue-num 9")
        #expect(v6.chainRules.last == queueLine + " --queue-num 9")
        #expect(b4.chainRules.last == queueLine + " --queue-balance 9:11 --queue-bypass --queue-cpu-fanout")
    }

    @Test
    func familiesGetOnlyTheirOwnPrefixesAndIPv6KeepsNeighbourDiscovery() throws {
        let configuration = RuleConfiguration(
            podCIDRs: try prefixes(["10.244.0.0/16", "fd00:244::/56"]),
            exemptCIDRs: try prefixes(["10.244.1.1/32"]), firstQueue: 1, queueCount: 1, failOpen: true)
        guard case .iptables(let v4, let v6) = try RuleRenderer().render(configuration, for: .iptables) else {
            Issue.record("iptables back end rendered something else")
            return
        }
        let queue = "-A TOLLGATE-QUEUE -m comment --comment \"tollgate: decide new pod connections\" -j NFQUEUE"
            + " --queue-num 1 --queue-bypass"
        #expect(
            v4.chainRules == [
                "-A TOLLGATE-POLICY -m conntrack ! --ctstate NEW -j RETURN",
                "-A TOLLGATE-POLICY -s 10.244.1.1/32 -j RETURN",
                "-A TOLLGATE-POLICY -d 10.244.1.1/32 -j RETURN",
                "-A TOLLGATE-POLICY -s 10.244.0.0/16 -j TOLLGATE-QUEUE",
                "-A TOLLGATE-POLICY -d 10.244.0.0/16 -j TOLLGATE-QUEUE",
                queue,
            ])
        #expect(
            v6.chainRules == [
                "-A TOLLGATE-POLICY -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j RETURN",
                "-A TOLLGATE-POLICY -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN",
                "-A TOLLGATE-POLICY -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN",
                "-A TOLLGATE-POLICY -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN",
                "-A TOLLGATE-POLICY -p ipv6-icmp -m icmp6 --icmpv6-type 137 -j RETURN",
                "-A TOLLGATE-POLICY -m conntrack ! --ctstate NEW -j RETURN",
                "-A TOLLGATE-POLICY -s fd00:244::/56 -j TOLLGATE-QUEUE",
                "-A TOLLGATE-POLICY -d fd00:244::/56 -j TOLLGATE-QUEUE",
                queue,
            ])
        #expect(v4.jumps == Array(RuleRenderer.allJumps.prefix(2)))
    }

    @Test
    func normalizationDropsDuplicatesAndNestedPrefixes() throws {
        let input = try prefixes(["10.1.0.0/16", "10.0.0.0/8", "10.1.2.0/24", "192.168.0.0/24", "10.0.0.0/8", "fd00::/8"])
        #expect(RuleRenderer.normalized(input, family: .ipv4) == (try prefixes(["10.0.0.0/8", "192.168.0.0/24"])))
        #expect(RuleRenderer.normalized(input, family: .ipv6) == (try prefixes(["fd00::/8"])))
    }

    struct InvalidCase: Sendable {
        var firstQueue: UInt16
        var queueCount: UInt16
        var expected: KernelRulesError
    }

    @Test(arguments: [
        InvalidCase(firstQueue: 0, queueCount: 0, expected: .invalidConfiguration("queueCount must be at least 1")),
        InvalidCase(
            firstQueue: 65535, queueCount: 2,
            expected: .invalidConfiguration("queues 65535 + 2 run past 65535")),
    ])
    func invalidQueueRangesAreRejected(_ invalid: InvalidCase) throws {
        let configuration = RuleConfiguration(
            podCIDRs: try prefixes(["10.0.0.0/8"]), firstQueue: invalid.firstQueue, queueCount: invalid.queueCount)
        for backend in RuleBackend.allCases {
            #expect(throws: invalid.expected) { try RuleRenderer().render(configuration, for: backend) }
        }
    }

    /// The allow cache's match comes after every exemption and before the queue, in both back ends: an exempt or
    /// trusted connection is never counted as a cache hit, and a cached one is never queued.
    @Test(arguments: RuleBackend.allCases)
    func allowSetMatchSitsBetweenTheExemptionsAndTheQueue(_ backend: RuleBackend) throws {
        var configuration = RuleConfiguration(
            podCIDRs: try prefixes(["10.244.0.0/16"]), exemptCIDRs: try prefixes(["192.168.10.0/24"]),
            trustedSourceCIDRs: try prefixes(["10.244.2.1/32"]))
        configuration.allowSets = true
        let lines = try RuleRenderer().render(configuration, for: backend).text.split(separator: "\n").map(String.init)
        let match = try #require(lines.firstIndex { $0.contains("tollgate-allow-v4") && $0.contains("-A") || $0.contains("@allow-v4") })
        let lastExemption = try #require(lines.lastIndex { $0.contains("192.168.10.0/24") || $0.contains("10.244.2.1") })
        let firstQueue = try #require(lines.firstIndex { $0.contains("TOLLGATE-QUEUE") && $0.hasPrefix("-A TOLLGATE-POLICY") || $0.contains("goto enqueue") })
        #expect(lastExemption < match && match < firstQueue)
    }

    /// A remote cluster's range inside or around a local pod range is an error on both back ends.
    @Test(arguments: [("10.0.0.0/8", "10.245.0.0/16"), ("10.245.0.0/16", "10.0.0.0/8"), ("fd00::/8", "fd00:245::/56")])
    func remoteClusterRangeOverlappingPodRangeIsRejected(pod: String, remote: String) throws {
        let configuration = RuleConfiguration(
            podCIDRs: try prefixes([pod]), remoteClusterCIDRs: try prefixes(["192.168.0.0/16", remote]))
        for backend in RuleBackend.allCases {
            #expect(throws: KernelRulesError.invalidConfiguration("remote-cluster CIDR \(remote) overlaps the local pod CIDR \(pod)")) {
                try RuleRenderer().render(configuration, for: backend)
            }
        }
    }
}
