import NetworkTypes
import PolicyModel
import Testing
import VerdictEngine

// Specification tables: one parameterised test per rule of NetworkPolicy v1
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the API reference of
// networking.k8s.io/v1 NetworkPolicySpec). Every row is checked against the compiled engine (verdict and reason)
// and the reference evaluator, over IPv4 and over IPv6.
//
// The world: namespaces prod (team=a, env=prod), dev (team=b) and other (no labels), and these pods:
//
//   pod            labels                 IPv4 / IPv6              named container ports
//   prod/web       app=web, tier=front    10.1.0.1 / fd01::1       http 8080/TCP, dns 53/UDP, metrics 9090/TCP
//   prod/db        app=db                 10.1.0.2 / fd01::2       pg 5432/TCP, http 8081/TCP
//   prod/bare      (none)                 10.1.0.3 / fd01::3       (none)
//   dev/web        app=web                10.2.0.1 / fd02::1       http 8080/TCP
//   dev/tool       app=tool, tier=back    10.2.0.2 / fd02::2       (none)
//   other/x        app=web                10.3.0.1 / fd03::1       (none)
//   prod/hostnet   app=web, hostNetwork   10.9.0.1 / fd09::1       http 8080/TCP   (not an endpoint)
//   prod/done      app=web, Succeeded     10.1.0.9 / fd01::9       (none)          (not an endpoint)
//   prod/failed    app=web, Failed        10.1.0.8 / fd01::8       (none)          (not an endpoint)
//   prod/pending   app=web, no address    -                        (none)
//
// and one address outside every pod, `ext`: 192.0.2.10 / 2001:db8::10.

/// The symbolic endpoints of the tables and their addresses per family.
private let endpoints: [String: (v4: String, v6: String)] = [
    "prod/web": ("10.1.0.1", "fd01::1"), "prod/db": ("10.1.0.2", "fd01::2"), "prod/bare": ("10.1.0.3", "fd01::3"),
    "dev/web": ("10.2.0.1", "fd02::1"), "dev/tool": ("10.2.0.2", "fd02::2"), "other/x": ("10.3.0.1", "fd03::1"),
    "prod/hostnet": ("10.9.0.1", "fd09::1"), "prod/done": ("10.1.0.9", "fd01::9"),
    "prod/failed": ("10.1.0.8", "fd01::8"), "ext": ("192.0.2.10", "2001:db8::10"),
]

private func address(_ name: String, _ family: AddressFamily) throws -> IPAddress {
    let pair = try #require(endpoints[name], "unknown endpoint \(name)")
    return try #require(IPAddress(family == .ipv4 ? pair.v4 : pair.v6), "bad address for \(name)")
}

private func prefix(_ text: String) throws -> IPPrefix { try #require(IPPrefix(text), "bad prefix \(text)") }

private func pod(
    _ key: String, _ labels: [String: String], ports: [ContainerPort] = [], hostNetwork: Bool = false,
    phase: PodPhase = .running, family: AddressFamily? = nil, addresses: Bool = true
) throws -> Pod {
    let parts = key.split(separator: "/").map(String.init)
    let namespace = try #require(parts.first)
    let name = try #require(parts.last)
    let ips = addresses ? [try address(key, .ipv4), try address(key, .ipv6)] : []
    return Pod(
        namespace: namespace, name: name, labels: labels, nodeName: "node-1", hostNetwork: hostNetwork,
        containerPorts: ports, phase: phase, ips: ips)
}

/// The world above with `policies` (and `extraPods`).
private func world(_ policies: [NetworkPolicy], extraPods: [Pod] = []) throws -> ClusterState {
    let namespaces = [
        Namespace(name: "prod", labels: ["team": "a", "env": "prod"]), Namespace(name: "dev", labels: ["team": "b"]),
        Namespace(name: "other"),
    ]
    let pods = [
        try pod(
            "prod/web", ["app": "web", "tier": "front"],
            ports: [
                ContainerPort(name: "http", port: 8080), ContainerPort(name: "dns", port: 53, protocol: .udp),
                ContainerPort(name: "metrics", port: 9090),
            ]),
        try pod("prod/db", ["app": "db"], ports: [ContainerPort(name: "pg", port: 5432), ContainerPort(name: "http", port: 8081)]),
        try pod("prod/bare", [:]),
        try pod("dev/web", ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)]),
        try pod("dev/tool", ["app": "tool", "tier": "back"]),
        try pod("other/x", ["app": "web"]),
        try pod("prod/hostnet", ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)], hostNetwork: true),
        try pod("prod/done", ["app": "web"], phase: .succeeded),
        try pod("prod/failed", ["app": "web"], phase: .failed),
        try pod("prod/pending", ["app": "web"], phase: .pending, addresses: false),
    ]
    return ClusterState(namespaces: namespaces, pods: pods + extraPods, networkPolicies: policies)
}

private func labels(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }

private func requirement(_ key: String, _ op: LabelSelectorRequirement.Operator, _ values: [String] = [])
    -> LabelSelector
{
    LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)])
}

private func port(_ number: UInt16, _ proto: TransportProtocol = .tcp, end: UInt16? = nil) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: .number(number), endPort: end)
}

private func named(_ name: String, _ proto: TransportProtocol = .tcp) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: .name(name))
}

/// An ipBlock for each family, so that a row holds over IPv4 and IPv6 alike.
private func blocks(_ v4: String, except v4Except: [String] = [], _ v6: String, except v6Except: [String] = []) throws
    -> [NetworkPolicyPeer]
{
    [
        .ipBlock(IPBlock(cidr: try prefix(v4), except: try v4Except.map(prefix))),
        .ipBlock(IPBlock(cidr: try prefix(v6), except: try v6Except.map(prefix))),
    ]
}

/// Ingress isolation of `selector` in prod with `rules`.
private func ingress(
    named name: String = "in", in namespace: String = "prod", _ selector: LabelSelector, _ rules: [NetworkPolicyRule]
) -> NetworkPolicy {
    NetworkPolicy(namespace: namespace, name: name, podSelector: selector, policyTypes: .ingress, ingress: rules)
}

/// Egress isolation of `selector` in prod with `rules`.
private func egress(
    named name: String = "out", in namespace: String = "prod", _ selector: LabelSelector, _ rules: [NetworkPolicyRule]
) -> NetworkPolicy {
    NetworkPolicy(namespace: namespace, name: name, podSelector: selector, policyTypes: .egress, egress: rules)
}

/// One row: a description, the policies (built when the row runs, so that a bad literal fails the row), the
/// connection (symbolic endpoints), and the expected reason, which also says allowed or denied.
struct SpecRow: Sendable, CustomTestStringConvertible {
    var name: String
    var policies: @Sendable () throws -> [NetworkPolicy]
    var extraPods: @Sendable () throws -> [Pod] = { [] }
    var from: String
    var to: String
    /// TCP, UDP or SCTP, or ICMP (ICMPv6 over IPv6).
    var transport: IPProtocol = .tcp
    var port: UInt16 = 80
    var expected: VerdictReason

    var testDescription: String { name }

    init(
        _ name: String, _ policies: @escaping @Sendable () throws -> [NetworkPolicy],
        extraPods: @escaping @Sendable () throws -> [Pod] = { [] }, from: String, to: String, port: UInt16 = 80,
        _ expected: VerdictReason
    ) {
        self.init(name, policies, extraPods: extraPods, from: from, to: to, .tcp, port: port, expected)
    }

    init(
        _ name: String, _ policies: @escaping @Sendable () throws -> [NetworkPolicy],
        extraPods: @escaping @Sendable () throws -> [Pod] = { [] }, from: String, to: String,
        _ transport: IPProtocol, port: UInt16 = 80, _ expected: VerdictReason
    ) {
        self.name = name
        self.policies = policies
        self.extraPods = extraPods
        self.from = from
        self.to = to
        self.transport = transport
        self.port = port
        self.expected = expected
    }

    func flow(_ family: AddressFamily) throws -> FlowKey {
        let proto = transport == .icmp && family == .ipv6 ? IPProtocol.icmpv6 : transport
        return FlowKey(
            source: try address(from, family), destination: try address(to, family), transport: proto,
            sourcePort: proto.hasPorts ? 40_000 : 0, destinationPort: proto.hasPorts ? port : 0,
            icmpType: proto.hasPorts ? 0 : 8)
    }

    /// Checks the row against both engines.
    func check(_ family: AddressFamily, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let state = try world(try policies(), extraPods: try extraPods())
        let flow = try flow(family)
        let snapshot = PolicyCompiler.compile(state)
        #expect(snapshot.evaluate(flow).reason == expected, "compiled engine", sourceLocation: sourceLocation)
        #expect(
            ReferenceEvaluator(state: state).isAllowed(flow) == expected.isAllowed, "reference evaluator",
            sourceLocation: sourceLocation)
    }
}

private let families: [AddressFamily] = [.ipv4, .ipv6]

@Suite("NetworkPolicy specification tables")
struct SpecTableTests {
    // MARK: Isolation per direction

    static let isolation: [SpecRow] = [
        SpecRow("no policy: allowed", { [] }, from: "prod/web", to: "prod/db", .notIsolated),
        SpecRow(
            "an Egress-only policy does not isolate ingress",
            { [egress(labels(["app": "db"]), [])] }, from: "prod/web", to: "prod/db", .notIsolated),
        SpecRow(
            "an Egress-only policy isolates the source's egress",
            { [egress(labels(["app": "web"]), [])] }, from: "prod/web", to: "prod/db", .deniedByEgress),
        SpecRow(
            "an Ingress-only policy does not isolate egress",
            { [ingress(labels(["app": "web"]), [])] }, from: "prod/web", to: "prod/db", .notIsolated),
        SpecRow(
            "an Ingress-only policy isolates the destination's ingress",
            { [ingress(labels(["app": "db"]), [])] }, from: "prod/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "egress is decided before ingress when both deny",
            { [egress(labels(["app": "web"]), []), ingress(labels(["app": "db"]), [])] }, from: "prod/web",
            to: "prod/db", .deniedByEgress),
        SpecRow(
            "both directions allowed by their own policies",
            {
                [
                    egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "db"]), namespaces: nil)])]),
                    ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])]),
                ]
            }, from: "prod/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "a policy in another namespace does not select the pod",
            { [ingress(in: "dev", .everything, [])] }, from: "prod/web", to: "prod/db", .notIsolated),
        SpecRow(
            "traffic from an address outside every pod to an unisolated pod",
            { [ingress(labels(["app": "db"]), [])] }, from: "ext", to: "prod/web", .notIsolated),
        SpecRow(
            "traffic from an unisolated pod to an outside address",
            { [] }, from: "prod/web", to: "ext", .notIsolated),
    ]

    @Test("isolation is per direction", arguments: isolation, families)
    func isolationIsPerDirection(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: Union

    static let union: [SpecRow] = [
        SpecRow(
            "two policies selecting the pod: either rule allows (first)",
            {
                [
                    ingress(named: "a", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])]),
                    ingress(named: "b", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "tool"]), namespaces: .everything)])]),
                ]
            }, from: "prod/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "two policies selecting the pod: either rule allows (second)",
            {
                [
                    ingress(named: "a", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])]),
                    ingress(named: "b", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "tool"]), namespaces: .everything)])]),
                ]
            }, from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "two policies selecting the pod: neither rule allows",
            {
                [
                    ingress(named: "a", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])]),
                    ingress(named: "b", labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "tool"]), namespaces: .everything)])]),
                ]
            }, from: "other/x", to: "prod/db", .deniedByIngress),
        SpecRow(
            "a deny-all policy never subtracts from another policy's allow",
            {
                [
                    ingress(named: "deny", .everything, []),
                    ingress(named: "allow", labels(["app": "db"]), [NetworkPolicyRule(ports: [port(80)])]),
                ]
            }, from: "other/x", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "two rules of one policy: either allows",
            {
                [
                    ingress(
                        labels(["app": "db"]),
                        [NetworkPolicyRule(ports: [port(81)]), NetworkPolicyRule(ports: [port(80)])])
                ]
            }, from: "other/x", to: "prod/db", .allowedByPolicy),
    ]

    @Test("policies and rules are a union", arguments: union, families)
    func policiesAreAUnion(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: policyTypes defaulting

    /// (egress rules, explicit types, expected defaulted types).
    static let defaulting: [(egressRules: Int, explicit: PolicyTypes?, expected: PolicyTypes)] = [
        (0, nil, .ingress), (1, nil, [.ingress, .egress]), (0, .egress, .egress), (1, .ingress, .ingress),
        (0, [.ingress, .egress], [.ingress, .egress]),
    ]

    @Test("policyTypes defaults to Ingress, plus Egress when there are egress rules", arguments: defaulting)
    func policyTypesDefaulting(_ row: (egressRules: Int, explicit: PolicyTypes?, expected: PolicyTypes)) throws {
        let policy = NetworkPolicy(
            namespace: "prod", name: "p", podSelector: labels(["app": "web"]), policyTypes: row.explicit,
            egress: Array(repeating: NetworkPolicyRule(ports: [port(53, .udp)]), count: row.egressRules))
        #expect(policy.policyTypes == row.expected)
        // Its effect: ingress to prod/web is always isolated by a defaulted policy; egress only with egress rules.
        let state = try world([policy])
        let snapshot = PolicyCompiler.compile(state)
        let reference = ReferenceEvaluator(state: state)
        for family in families {
            let inbound = FlowKey(
                source: try address("dev/tool", family), destination: try address("prod/web", family), transport: .tcp,
                sourcePort: 40_000, destinationPort: 80)
            let outbound = FlowKey(
                source: try address("prod/web", family), destination: try address("dev/tool", family), transport: .tcp,
                sourcePort: 40_000, destinationPort: 80)
            let inboundReason: VerdictReason = row.expected.contains(.ingress) ? .deniedByIngress : .notIsolated
            let outboundReason: VerdictReason = row.expected.contains(.egress) ? .deniedByEgress : .notIsolated
            #expect(snapshot.evaluate(inbound).reason == inboundReason)
            #expect(snapshot.evaluate(outbound).reason == outboundReason)
            #expect(reference.isAllowed(inbound) == inboundReason.isAllowed)
            #expect(reference.isAllowed(outbound) == outboundReason.isAllowed)
        }
    }

    // MARK: Selectors

    static let selectors: [SpecRow] = [
        SpecRow(
            "empty podSelector of the policy selects every pod of its namespace",
            { [ingress(.everything, [])] }, from: "dev/web", to: "prod/bare", .deniedByIngress),
        SpecRow(
            "empty podSelector peer: every pod of the policy's namespace",
            { [ingress(.everything, [NetworkPolicyRule(peers: [.selector(pods: .everything, namespaces: nil)])])] },
            from: "prod/bare", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "empty podSelector peer: not pods of other namespaces",
            { [ingress(.everything, [NetworkPolicyRule(peers: [.selector(pods: .everything, namespaces: nil)])])] },
            from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "empty namespaceSelector peer: every pod of every namespace",
            { [ingress(.everything, [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: .everything)])])] },
            from: "other/x", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "empty namespaceSelector peer: not addresses outside pods",
            { [ingress(.everything, [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: .everything)])])] },
            from: "ext", to: "prod/db", .deniedByIngress),
        SpecRow(
            "empty rule (no peers, no ports): everything, outside addresses too",
            { [ingress(.everything, [NetworkPolicyRule()])] }, from: "ext", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "podSelector only: matching pod of the own namespace",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "podSelector only: matching pod of another namespace is not a peer",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "namespaceSelector only: every pod of a matching namespace",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: labels(["team": "b"]))])])] },
            from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "namespaceSelector only: the policy's own namespace only if it matches",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: labels(["team": "b"]))])])] },
            from: "prod/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "namespaceSelector by the name label",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: labels([Namespace.nameLabel: "other"]))])])] },
            from: "other/x", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "both in one peer (AND): pod matches, namespace matches",
            {
                [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: labels(["team": "b"]))])])]
            }, from: "dev/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "both in one peer (AND): namespace matches, pod does not",
            {
                [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: labels(["team": "b"]))])])]
            }, from: "dev/tool", to: "prod/db", .deniedByIngress),
        SpecRow(
            "both in one peer (AND): pod matches, namespace does not",
            {
                [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: labels(["team": "b"]))])])]
            }, from: "other/x", to: "prod/db", .deniedByIngress),
        SpecRow(
            "two peers (OR): the namespace peer alone allows",
            {
                [
                    ingress(
                        labels(["app": "db"]),
                        [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil), .selector(pods: nil, namespaces: labels(["team": "b"]))])])
                ]
            }, from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "two peers (OR): the pod peer alone allows (own namespace)",
            {
                [
                    ingress(
                        labels(["app": "db"]),
                        [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil), .selector(pods: nil, namespaces: labels(["team": "b"]))])])
                ]
            }, from: "prod/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "two peers (OR): neither",
            {
                [
                    ingress(
                        labels(["app": "db"]),
                        [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil), .selector(pods: nil, namespaces: labels(["team": "b"]))])])
                ]
            }, from: "other/x", to: "prod/db", .deniedByIngress),
        SpecRow(
            "egress peers use the same rules: podSelector only is the own namespace",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/web", to: "dev/web", .deniedByEgress),
        SpecRow(
            "egress to a namespaceSelector peer",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: labels(["team": "b"]))])])] },
            from: "prod/web", to: "dev/web", .allowedByPolicy),
        SpecRow(
            "egress selector peers do not match outside addresses",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: .everything)])])] },
            from: "prod/web", to: "ext", .deniedByEgress),
    ]

    @Test("selectors: empty, pod-only, namespace-only, AND within a peer, OR across peers", arguments: selectors, families)
    func selectorSemantics(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: matchExpressions

    static let expressions: [SpecRow] = [
        SpecRow(
            "In: value listed", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("app", .in, ["web", "tool"]), namespaces: .everything)])])] },
            from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "In: value not listed", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("app", .in, ["web", "tool"]), namespaces: .everything)])])] },
            from: "prod/bare", to: "prod/db", .deniedByIngress),
        SpecRow(
            "NotIn: value listed", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("app", .notIn, ["web"]), namespaces: .everything)])])] },
            from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "NotIn: other value", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("app", .notIn, ["web"]), namespaces: .everything)])])] },
            from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "NotIn: a pod without the key matches", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("app", .notIn, ["web"]), namespaces: .everything)])])] },
            from: "prod/bare", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "Exists: key present", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("tier", .exists), namespaces: .everything)])])] },
            from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "Exists: key absent", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("tier", .exists), namespaces: .everything)])])] },
            from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "DoesNotExist: key absent", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("tier", .doesNotExist), namespaces: .everything)])])] },
            from: "dev/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "DoesNotExist: key present", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: requirement("tier", .doesNotExist), namespaces: .everything)])])] },
            from: "prod/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "namespace NotIn: a namespace without the key matches",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: requirement("team", .notIn, ["a"]))])])] },
            from: "other/x", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "namespace DoesNotExist",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: requirement("team", .doesNotExist))])])] },
            from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "matchLabels and matchExpressions must all hold",
            {
                [
                    ingress(
                        labels(["app": "db"]),
                        [NetworkPolicyRule(peers: [.selector(pods: LabelSelector(matchLabels: ["app": "web"], matchExpressions: [LabelSelectorRequirement(key: "tier", operator: .exists)]), namespaces: .everything)])])
                ]
            }, from: "dev/web", to: "prod/db", .deniedByIngress),
        SpecRow(
            "the policy's podSelector uses expressions too",
            { [ingress(requirement("app", .notIn, ["web", "db"]), [])] }, from: "prod/web", to: "prod/bare", .deniedByIngress),
    ]

    @Test("matchExpressions operators", arguments: expressions, families)
    func matchExpressionOperators(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: ipBlock

    static let ipBlocks: [SpecRow] = [
        SpecRow(
            "ipBlock matches an outside address in the cidr",
            { [ingress(.everything, [NetworkPolicyRule(peers: try blocks("192.0.2.0/24", "2001:db8::/64"))])] },
            from: "ext", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "ipBlock: an outside address in an except is not matched",
            { [ingress(.everything, [NetworkPolicyRule(peers: try blocks("192.0.2.0/24", except: ["192.0.2.8/29"], "2001:db8::/64", except: ["2001:db8::10/124"]))])] },
            from: "ext", to: "prod/db", .deniedByIngress),
        SpecRow(
            "ipBlock matches pod addresses too (ingress)",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: try blocks("10.2.0.0/16", "fd02::/64"))])] },
            from: "dev/tool", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "ipBlock matches pod addresses too (egress)",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: try blocks("10.2.0.0/16", "fd02::/64"))])] },
            from: "prod/web", to: "dev/tool", .allowedByPolicy),
        SpecRow(
            "ipBlock except carves out one pod",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: try blocks("10.2.0.0/16", except: ["10.2.0.2/32"], "fd02::/64", except: ["fd02::2/128"]))])] },
            from: "prod/web", to: "dev/tool", .deniedByEgress),
        SpecRow(
            "ipBlock except leaves the neighbours",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: try blocks("10.2.0.0/16", except: ["10.2.0.2/32"], "fd02::/64", except: ["fd02::2/128"]))])] },
            from: "prod/web", to: "dev/web", .allowedByPolicy),
        SpecRow(
            "an address in one block's except and another block's cidr is matched",
            {
                [
                    egress(
                        labels(["app": "web"]),
                        [NetworkPolicyRule(peers: try blocks("10.0.0.0/8", except: ["10.2.0.0/16"], "fd00::/8", except: ["fd02::/16"]) + blocks("10.2.0.2/32", "fd02::2/128"))])
                ]
            }, from: "prod/web", to: "dev/tool", .allowedByPolicy),
        SpecRow(
            "an outside address matches only ipBlock peers, not selectors",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.selector(pods: .everything, namespaces: .everything)])])] },
            from: "prod/web", to: "ext", .deniedByEgress),
        SpecRow(
            "egress to an outside address through ipBlock 0.0.0.0/0 and ::/0",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: try blocks("0.0.0.0/0", "::/0"))])] },
            from: "prod/web", to: "ext", .allowedByPolicy),
        SpecRow(
            "an IPv4 block does not match an IPv6 address and vice versa",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(peers: [.ipBlock(IPBlock(cidr: try prefix("0.0.0.0/0")))])])] },
            from: "prod/web", to: "ext", .deniedByEgress),
    ]

    @Test("ipBlock with except", arguments: ipBlocks, families)
    func ipBlockSemantics(_ row: SpecRow, family: AddressFamily) throws {
        // The family-specific row holds only over IPv6: over IPv4 the v4-only block allows.
        if row.name.hasPrefix("an IPv4 block") && family == .ipv4 {
            var v4 = row
            v4.expected = .allowedByPolicy
            try v4.check(family)
        } else {
            try row.check(family)
        }
    }

    // MARK: Ports

    static let ports: [SpecRow] = [
        SpecRow(
            "number: equal", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(ports: [port(5432)])])] },
            from: "prod/web", to: "prod/db", port: 5432, .allowedByPolicy),
        SpecRow(
            "number: other port", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(ports: [port(5432)])])] },
            from: "prod/web", to: "prod/db", port: 5433, .deniedByIngress),
        SpecRow(
            "number: other protocol", { [ingress(labels(["app": "db"]), [NetworkPolicyRule(ports: [port(5432)])])] },
            from: "prod/web", to: "prod/db", .udp, port: 5432, .deniedByIngress),
        SpecRow(
            "name, ingress: resolved against the destination pod (db's http is 8081)",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("http")])])] },
            from: "prod/web", to: "prod/db", port: 8081, .allowedByPolicy),
        SpecRow(
            "name, ingress: another pod's number for the name does not count",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("http")])])] },
            from: "prod/web", to: "prod/db", port: 8080, .deniedByIngress),
        SpecRow(
            "name, egress: resolved against the destination pod, not the source",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(ports: [named("pg")])])] },
            from: "prod/web", to: "prod/db", port: 5432, .allowedByPolicy),
        SpecRow(
            "name, egress: the source's own port of that name does not count",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(ports: [named("metrics")])])] },
            from: "prod/web", to: "prod/db", port: 9090, .deniedByEgress),
        SpecRow(
            "name, egress: a destination in another namespace",
            { [egress(labels(["app": "db"]), [NetworkPolicyRule(ports: [named("http")])])] },
            from: "prod/db", to: "dev/web", port: 8080, .allowedByPolicy),
        SpecRow(
            "name the destination pod lacks matches nothing",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("pg")])])] },
            from: "prod/db", to: "prod/bare", port: 5432, .deniedByIngress),
        SpecRow(
            "name, egress to an outside address matches nothing",
            { [egress(labels(["app": "web"]), [NetworkPolicyRule(ports: [named("http")])])] },
            from: "prod/web", to: "ext", port: 8080, .deniedByEgress),
        SpecRow(
            "name with the wrong protocol (dns is UDP, rule says TCP)",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("dns", .tcp)])])] },
            from: "prod/db", to: "prod/web", port: 53, .deniedByIngress),
        SpecRow(
            "name with the wrong protocol, probed over UDP",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("dns", .tcp)])])] },
            from: "prod/db", to: "prod/web", .udp, port: 53, .deniedByIngress),
        SpecRow(
            "name with its protocol",
            { [ingress(.everything, [NetworkPolicyRule(ports: [named("dns", .udp)])])] },
            from: "prod/db", to: "prod/web", .udp, port: 53, .allowedByPolicy),
        SpecRow(
            "protocol-only entry: every port of the protocol",
            { [ingress(.everything, [NetworkPolicyRule(ports: [NetworkPolicyPort(protocol: .udp)])])] },
            from: "prod/db", to: "prod/web", .udp, port: 65535, .allowedByPolicy),
        SpecRow(
            "protocol-only entry: not another protocol",
            { [ingress(.everything, [NetworkPolicyRule(ports: [NetworkPolicyPort(protocol: .udp)])])] },
            from: "prod/db", to: "prod/web", .tcp, port: 53, .deniedByIngress),
        SpecRow(
            "SCTP port", { [ingress(.everything, [NetworkPolicyRule(ports: [port(9999, .sctp)])])] },
            from: "prod/db", to: "prod/web", .sctp, port: 9999, .allowedByPolicy),
        SpecRow(
            "a rule with no ports matches ICMP",
            { [ingress(.everything, [NetworkPolicyRule(peers: [.selector(pods: .everything, namespaces: nil)])])] },
            from: "prod/db", to: "prod/web", .icmp, .allowedByPolicy),
        SpecRow(
            "a rule with ports does not match ICMP",
            { [ingress(.everything, [NetworkPolicyRule(ports: [NetworkPolicyPort(protocol: .tcp)])])] },
            from: "prod/db", to: "prod/web", .icmp, .deniedByIngress),
        SpecRow(
            "ICMP to an unisolated pod", { [] }, from: "prod/db", to: "prod/web", .icmp, .notIsolated),
    ]

    @Test("ports: numbers, names, protocols, ICMP", arguments: ports, families)
    func portSemantics(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    static let endPorts: [SpecRow] = [1000, 1999, 2000, 2500, 3000, 3001, 65535].map { probe in
        let allowed = (2000...3000).contains(probe)
        return SpecRow(
            "range 2000-3000, port \(probe)",
            { [ingress(.everything, [NetworkPolicyRule(ports: [port(2000, end: 3000)])])] }, from: "dev/web",
            to: "prod/db", port: UInt16(probe), allowed ? .allowedByPolicy : .deniedByIngress)
    } + [
        SpecRow(
            "range of one port (endPort == port)",
            { [ingress(.everything, [NetworkPolicyRule(ports: [port(443, end: 443)])])] }, from: "dev/web",
            to: "prod/db", port: 443, .allowedByPolicy),
        SpecRow(
            "range up to 65535", { [ingress(.everything, [NetworkPolicyRule(ports: [port(1, end: 65535)])])] },
            from: "dev/web", to: "prod/db", port: 65535, .allowedByPolicy),
        SpecRow(
            "range over UDP does not match TCP",
            { [ingress(.everything, [NetworkPolicyRule(ports: [port(2000, .udp, end: 3000)])])] }, from: "dev/web",
            to: "prod/db", port: 2500, .deniedByIngress),
        SpecRow(
            "egress range", { [egress(.everything, [NetworkPolicyRule(ports: [port(2000, .udp, end: 3000)])])] },
            from: "prod/web", to: "ext", .udp, port: 3000, .allowedByPolicy),
    ]

    @Test("endPort ranges and their edges", arguments: endPorts, families)
    func endPortRanges(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: Who is an endpoint

    static let endpointsTable: [SpecRow] = [
        SpecRow(
            "a host-network pod is not selected by a policy: its address is a plain address",
            { [ingress(labels(["app": "web"]), [])] }, from: "dev/tool", to: "prod/hostnet", .notIsolated),
        SpecRow(
            "a host-network pod is not a selector peer",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/hostnet", to: "prod/db", .deniedByIngress),
        SpecRow(
            "a host-network pod's address matches ipBlock peers",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: try blocks("10.9.0.0/16", "fd09::/64"))])] },
            from: "prod/hostnet", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "a Succeeded pod's address is not selected by policy",
            { [egress(labels(["app": "web"]), [])] }, from: "prod/done", to: "prod/db", .notIsolated),
        SpecRow(
            "a Succeeded pod is not a selector peer",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/done", to: "prod/db", .deniedByIngress),
        SpecRow(
            "a Failed pod is not a selector peer",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/failed", to: "prod/db", .deniedByIngress),
        SpecRow(
            "a Failed pod's address matches ipBlock peers",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: try blocks("10.1.0.8/32", "fd01::8/128"))])] },
            from: "prod/failed", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "a pod without an address changes nothing (the Running web pod still is a peer)",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)])])] },
            from: "prod/web", to: "prod/db", .allowedByPolicy),
        SpecRow(
            "a pod that reuses a Succeeded pod's address owns it",
            { [ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "new"]), namespaces: nil)])])] },
            extraPods: {
                [
                    Pod(
                        namespace: "prod", name: "new", labels: ["app": "new"], phase: .running,
                        ips: [try address("prod/done", .ipv4), try address("prod/done", .ipv6)])
                ]
            }, from: "prod/done", to: "prod/db", .allowedByPolicy),
    ]

    @Test("host-network, address-less, Succeeded and Failed pods are not endpoints", arguments: endpointsTable, families)
    func endpointOwnership(_ row: SpecRow, family: AddressFamily) throws { try row.check(family) }

    // MARK: Two pods claiming one address

    /// prod/aa and prod/zz both claim dev/tool's address... no: both claim 10.5.0.1 / fd05::1; the first in
    /// namespace/name order (prod/aa) owns it, in both engines, whichever order the pods are given in.
    @Test("two pods claiming one address: the first in namespace/name order wins", arguments: [false, true], families)
    func duplicateAddressFirstPodWins(reversed: Bool, family: AddressFamily) throws {
        let shared = try #require(IPAddress(family == .ipv4 ? "10.5.0.1" : "fd05::1"))
        let first = Pod(namespace: "prod", name: "aa", labels: ["app": "first"], ips: [shared])
        let second = Pod(namespace: "prod", name: "zz", labels: ["app": "second"], ips: [shared])
        let policies = [
            ingress(labels(["app": "db"]), [NetworkPolicyRule(peers: [.selector(pods: labels(["app": "first"]), namespaces: nil)])]),
            ingress(named: "isolate-second", labels(["app": "second"]), []),
        ]
        let state = try world(policies, extraPods: reversed ? [second, first] : [first, second])
        let snapshot = PolicyCompiler.compile(state)
        let reference = ReferenceEvaluator(state: state)
        let toDB = FlowKey(
            source: shared, destination: try address("prod/db", family), transport: .tcp, sourcePort: 40_000,
            destinationPort: 80)
        let fromDB = FlowKey(
            source: try address("prod/db", family), destination: shared, transport: .tcp, sourcePort: 40_000,
            destinationPort: 80)
        #expect(snapshot.evaluate(toDB).reason == .allowedByPolicy)
        #expect(reference.isAllowed(toDB))
        // prod/zz's isolation does not apply: the address is prod/aa's, which is not isolated.
        #expect(snapshot.evaluate(fromDB).reason == .notIsolated)
        #expect(reference.isAllowed(fromDB))
        #expect(snapshot.pod(owning: shared)?.key == first.key)
        #expect(snapshot.diagnostics.contains { $0.contains("prod/aa") && $0.contains("prod/zz") })
    }

    // MARK: explain

    @Test("explain lists the isolating policies and every allowing rule", arguments: families)
    func explainListsReasons(family: AddressFamily) throws {
        let policies = [
            ingress(named: "deny-all", .everything, []),
            ingress(
                named: "db-from-web", labels(["app": "db"]),
                [
                    NetworkPolicyRule(ports: [port(9999)]),
                    NetworkPolicyRule(peers: [.selector(pods: labels(["app": "web"]), namespaces: nil)]),
                    NetworkPolicyRule(ports: [port(5432)]),
                ]),
            egress(named: "web-out", labels(["app": "web"]), [NetworkPolicyRule(ports: [named("pg")])]),
        ]
        let state = try world(policies)
        let snapshot = PolicyCompiler.compile(state)
        let flow = FlowKey(
            source: try address("prod/web", family), destination: try address("prod/db", family), transport: .tcp,
            sourcePort: 40_000, destinationPort: 5432)
        let explanation = snapshot.explain(flow)
        #expect(explanation.verdict.reason == .allowedByPolicy)
        #expect(explanation.sourcePod == ObjectKey(kind: "Pod", namespace: "prod", name: "web"))
        #expect(explanation.destinationPod == ObjectKey(kind: "Pod", namespace: "prod", name: "db"))

        func rules(_ report: DirectionReport?) -> [String] {
            (report?.allowingRules ?? []).map { "\($0.policy) \($0.direction.rawValue)[\($0.index)]" }
        }
        let ingressReport = try #require(explanation.ingress)
        #expect(ingressReport.pod == ObjectKey(kind: "Pod", namespace: "prod", name: "db"))
        #expect(ingressReport.isolated)
        #expect(
            ingressReport.isolatingPolicies == [
                ObjectKey(kind: "NetworkPolicy", namespace: "prod", name: "db-from-web"),
                ObjectKey(kind: "NetworkPolicy", namespace: "prod", name: "deny-all"),
            ])
        #expect(
            rules(ingressReport)
                == ["NetworkPolicy prod/db-from-web Ingress[1]", "NetworkPolicy prod/db-from-web Ingress[2]"])
        let egressReport = try #require(explanation.egress)
        #expect(egressReport.isolated)
        #expect(egressReport.isolatingPolicies == [ObjectKey(kind: "NetworkPolicy", namespace: "prod", name: "web-out")])
        #expect(rules(egressReport) == ["NetworkPolicy prod/web-out Egress[0]"])

        // Denied: the reasons say who isolates and that nothing allows.
        let denied = snapshot.explain(
            FlowKey(
                source: try address("dev/tool", family), destination: try address("prod/bare", family), transport: .tcp,
                sourcePort: 40_000, destinationPort: 80))
        #expect(denied.verdict.reason == .deniedByIngress)
        #expect(denied.egress?.isolated == false)
        #expect(denied.ingress?.isolatingPolicies == [ObjectKey(kind: "NetworkPolicy", namespace: "prod", name: "deny-all")])
        #expect(rules(denied.ingress) == [])
        #expect(denied.lines.contains("  no ingress rule allows this connection"))

        // Not a pod: no report for that end.
        let outside = snapshot.explain(
            FlowKey(
                source: try address("ext", family), destination: try address("prod/bare", family), transport: .tcp,
                sourcePort: 40_000, destinationPort: 80))
        #expect(outside.sourcePod == nil)
        #expect(outside.egress == nil)
    }
}
