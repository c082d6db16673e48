import ConntrackRevocation
import NetworkTypes
import Testing
import VerdictEngine

/// Revocation's choice of conntrack entries, without a kernel: which entries are Tollgate's to judge, which flow
/// is judged (after destination NAT), and how audit mode turns a revoke into a count.
///
/// (Kept in OperationsTests under a `Watcher` name because that is where this task may add test files; it tests
/// the ConntrackRevocation module that `TollgateDaemon` links.)
@Suite("Revocation filter")
struct WatcherRevocationFilterTests {
    static func address(_ text: String) -> IPAddress {
        guard let address = IPAddress(text) else { fatalError("bad test address \(text)") }
        return address
    }

    static func prefix(_ text: String) -> IPPrefix {
        guard let prefix = IPPrefix(text) else { fatalError("bad test prefix \(text)") }
        return prefix
    }

    /// The server (10.244.1.11 and fd00:244::1:11) denies TCP 8080 from the intruder namespace's addresses; a
    /// flow to 10.244.2.20 is denied but audited (its namespace is in audit mode); everything else is allowed.
    static func evaluate(_ flow: FlowKey) -> Verdict {
        let deniedSources: Set<IPAddress> = [address("10.244.3.10"), address("fd00:244::3:10")]
        let servers: Set<IPAddress> = [address("10.244.1.11"), address("fd00:244::1:11")]
        if servers.contains(flow.destination) && flow.destinationPort == 8080 && deniedSources.contains(flow.source) {
            return Verdict(reason: .deniedByIngress)
        }
        if flow.destination == address("10.244.2.20") { return Verdict(reason: .deniedByIngress, audited: true) }
        return Verdict(reason: .allowedByPolicy)
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var entry: ConntrackEntry
        var auditAll = false
        var expected: RevocationDecision
        var description: String { name }
    }

    static let filterPods = [prefix("10.244.0.0/16"), prefix("fd00:244::/48")]
    static let filterExempt = [prefix("10.244.1.1/32"), prefix("192.168.10.0/24")]

    static let cases: [Case] = [
        Case(
            name: "pod to pod, now denied",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080),
            expected: .revoke),
        Case(
            name: "pod to pod over IPv6, now denied",
            entry: ConntrackEntry(
                source: address("fd00:244::3:10"), destination: address("fd00:244::1:11"), transport: .tcp,
                sourcePort: 40000, destinationPort: 8080),
            expected: .revoke),
        Case(
            name: "pod to pod, still allowed",
            entry: ConntrackEntry(
                source: address("10.244.1.10"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080),
            expected: .allowed),
        Case(
            name: "other port, allowed",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.244.1.11"), transport: .udp, sourcePort: 40000,
                destinationPort: 53),
            expected: .allowed),
        Case(
            name: "through a service address: the judged destination is the pod behind the NAT",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.96.0.10"), transport: .tcp, sourcePort: 40000,
                destinationPort: 80, replySource: address("10.244.1.11"), replySourcePort: 8080),
            expected: .revoke),
        Case(
            name: "neither end a pod",
            entry: ConntrackEntry(
                source: address("192.0.2.1"), destination: address("198.51.100.1"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080),
            expected: .notCandidate),
        Case(
            name: "an exempt end (the node's address)",
            entry: ConntrackEntry(
                source: address("10.244.1.1"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080),
            expected: .notCandidate),
        Case(
            name: "an exempt end (infrastructure range)",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("192.168.10.5"), transport: .tcp, sourcePort: 40000,
                destinationPort: 443),
            expected: .notCandidate),
        Case(
            name: "IPv6 neighbour discovery",
            entry: ConntrackEntry(
                source: address("fd00:244::3:10"), destination: address("fd00:244::1:11"), transport: .icmpv6,
                icmpType: 135),
            expected: .notCandidate),
        Case(
            name: "denied, namespace in audit mode",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.244.2.20"), transport: .tcp, sourcePort: 40000,
                destinationPort: 80),
            expected: .wouldRevoke),
        Case(
            name: "a tombstone of a connection still denied stays",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080, replySource: address("0.0.0.0"), replySourcePort: 8080),
            expected: .keepTombstone),
        Case(
            name: "a tombstone of a connection allowed again is lifted",
            entry: ConntrackEntry(
                source: address("10.244.1.10"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080, replySource: address("0.0.0.0"), replySourcePort: 8080),
            expected: .lift),
        Case(
            name: "an IPv6 tombstone in global audit mode is lifted (audit never blocks)",
            entry: ConntrackEntry(
                source: address("fd00:244::3:10"), destination: address("fd00:244::1:11"), transport: .tcp,
                sourcePort: 40000, destinationPort: 8080, replySource: address("::"), replySourcePort: 8080),
            auditAll: true, expected: .lift),
        Case(
            name: "denied, global audit mode",
            entry: ConntrackEntry(
                source: address("10.244.3.10"), destination: address("10.244.1.11"), transport: .tcp, sourcePort: 40000,
                destinationPort: 8080),
            auditAll: true, expected: .wouldRevoke),
    ]

    @Test("Each entry gets the decision the datapath's rules imply", arguments: cases)
    func decision(_ item: Case) {
        let filter = RevocationFilter(podCIDRs: Self.filterPods, exemptCIDRs: Self.filterExempt, auditAll: item.auditAll)
        #expect(filter.decide(item.entry, evaluate: Self.evaluate) == item.expected)
    }

    /// A peer node's source address is not Tollgate's to judge here (that peer judged it), as in the kernel rules;
    /// the same address as a destination still is.
    @Test("Trusted peer sources are not candidates; trusted destinations still are")
    func trustedPeerSourcesAreSkipped() {
        let denied = ConntrackEntry(
            source: Self.address("10.244.3.10"), destination: Self.address("10.244.1.11"), transport: .tcp,
            sourcePort: 40000, destinationPort: 8080)
        let towardsPeer = ConntrackEntry(
            source: Self.address("10.244.1.11"), destination: Self.address("10.244.3.10"), transport: .tcp,
            sourcePort: 40000, destinationPort: 8080)
        let plain = RevocationFilter(podCIDRs: Self.filterPods, exemptCIDRs: Self.filterExempt)
        let trusting = RevocationFilter(
            podCIDRs: Self.filterPods, exemptCIDRs: Self.filterExempt, trustedSourceCIDRs: [Self.prefix("10.244.3.10/32")])
        #expect(plain.decide(denied, evaluate: Self.evaluate) == .revoke)
        #expect(trusting.decide(denied, evaluate: Self.evaluate) == .notCandidate)
        #expect(trusting.decide(towardsPeer, evaluate: Self.evaluate) == .allowed)
    }

    @Test("The judged flow is the original source and the reply source (after DNAT), ports likewise")
    func judgedFlowFollowsDestinationNAT() {
        let entry = ConntrackEntry(
            source: Self.address("10.244.3.10"), destination: Self.address("10.96.0.10"), transport: .tcp,
            sourcePort: 40000, destinationPort: 80, replySource: Self.address("10.244.1.11"), replySourcePort: 8080,
            zone: 0, id: 7)
        #expect(
            entry.judgedFlow
                == FlowKey(
                    source: Self.address("10.244.3.10"), destination: Self.address("10.244.1.11"), transport: .tcp,
                    sourcePort: 40000, destinationPort: 8080))
        #expect(entry.description == "TCP 10.244.3.10:40000 -> 10.244.1.11:8080 (via 10.96.0.10:80)")
        let echo = ConntrackEntry(
            source: Self.address("10.244.3.10"), destination: Self.address("10.244.1.11"), transport: .icmp, icmpType: 8,
            icmpIdentifier: 99)
        #expect(
            echo.judgedFlow
                == FlowKey(
                    source: Self.address("10.244.3.10"), destination: Self.address("10.244.1.11"), transport: .icmp,
                    icmpType: 8))
    }
}
