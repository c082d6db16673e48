import Testing
import TollgateTestSupport

extension EndToEndTests {
    /// The demo's cluster plus two unisolated pods, one inside the intruder's `except` range.
    static let enforcementPods: [Manifests.Pod] = [
        .init(name: "frontend", namespace: "web", labels: ["app": "frontend"], ipv4: "10.244.1.10", ipv6: "fd00:244::1:10"),
        .init(
            name: "backend", namespace: "web", labels: ["app": "backend"], ipv4: "10.244.1.11", ipv6: "fd00:244::1:11",
            ports: [("http", 8080, "TCP"), ("dns", 5353, "UDP")]),
        .init(
            name: "db", namespace: "data", labels: ["app": "db"], ipv4: "10.244.2.10", ipv6: "fd00:244::2:10",
            ports: [("sql", 5432, "TCP")]),
        .init(name: "intruder", namespace: "other", labels: ["app": "intruder"], ipv4: "10.244.3.10", ipv6: "fd00:244::3:10"),
        .init(name: "open", namespace: "public", labels: ["app": "open"], ipv4: "10.244.4.10", ipv6: "fd00:244::4:10"),
        .init(name: "fenced", namespace: "public", labels: ["app": "fenced"], ipv4: "10.244.2.20", ipv6: "fd00:244::2:20"),
    ]

    /// Ingress by pod selector and named port, a ports-only rule, namespace-plus-pod selectors, default deny,
    /// and egress restricted to an IPv4 ipBlock with an `except` hole and a UDP port.
    static let enforcementPolicies = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: backend-from-frontend, namespace: web}
        spec:
          podSelector: {matchLabels: {app: backend}}
          ingress:
            - from: [{podSelector: {matchLabels: {app: frontend}}}]
              ports: [{port: http}]
            - ports: [{protocol: UDP, port: dns}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny, namespace: data}
        spec:
          podSelector: {}
          policyTypes: [Ingress]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db-from-backend, namespace: data}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress:
            - from:
                - namespaceSelector: {matchLabels: {team: shop}}
                  podSelector: {matchLabels: {app: backend}}
              ports: [{protocol: TCP, port: sql}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: intruder-egress, namespace: other}
        spec:
          podSelector: {matchLabels: {app: intruder}}
          policyTypes: [Egress]
          egress:
            - to: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}}]
              ports: [{protocol: UDP, port: 5353}]

        """

    /// Every probe with the verdict the policies call for.
    static let enforcementTable: [(Probe, Bool)] = [
        (Probe("frontend", "backend", 8080), true),  // ingress podSelector + named port
        (Probe("frontend", "backend", 8080, v: 6), true),
        (Probe("intruder", "backend", 8080), false),  // egress denies TCP; ingress denies too
        (Probe("frontend", "backend", 5353, .udp), true),  // ports-only ingress rule
        (Probe("intruder", "backend", 5353, .udp), true),  // egress ipBlock + UDP port, ingress ports-only
        (Probe("intruder", "backend", 5353, .udp, v: 6), false),  // the ipBlock is IPv4 only
        (Probe("open", "backend", 8080), false),  // not the frontend
        (Probe("open", "backend", 5353, .udp, v: 6), true),
        (Probe("backend", "db", 5432), true),  // namespaceSelector AND podSelector, named port
        (Probe("backend", "db", 5432, v: 6), true),
        (Probe("frontend", "db", 5432), false),  // default deny in data
        (Probe("frontend", "db", 5432, v: 6), false),
        (Probe("intruder", "open", 5353, .udp), true),  // egress ipBlock
        (Probe("intruder", "open", 8080), false),  // egress port
        (Probe("intruder", "fenced", 5353, .udp), false),  // ipBlock except
        (Probe("frontend", "open", 8080), true),  // nobody isolated
        (Probe("frontend", "open", 8080, v: 6), true),
    ]

    @Test("Allowed TCP and UDP connections succeed and denied ones fail, IPv4 and IPv6")
    func allowedConnectionsSucceedAndDeniedOnesFail() throws {
        let scenario = try Scenario(
            tag: "e2e-enf", pods: Self.enforcementPods,
            files: [
                "cluster.yaml": Manifests.cluster(
                    namespaces: [
                        ("web", ["team": "shop"]), ("data", ["team": "shop"]), ("other", ["team": "guests"]),
                        ("public", ["team": "public"]),
                    ], pods: Self.enforcementPods),
                "policies.yaml": Self.enforcementPolicies,
            ])
        defer { scenario.close() }
        try scenario.serve("backend", port: 8080, transport: .tcp)
        try scenario.serve("backend", port: 5353, transport: .udp)
        try scenario.serve("db", port: 5432, transport: .tcp)
        try scenario.serve("open", port: 8080, transport: .tcp)
        try scenario.serve("open", port: 5353, transport: .udp)
        try scenario.serve("fenced", port: 5353, transport: .udp)
        // Without the daemon everything connects: a denial below is the daemon's doing.
        let probes = Self.enforcementTable.map(\.0)
        #expect(try scenario.reachability(probes) == probes.map { _ in true })

        let daemon = try scenario.startDaemon(scenario.options(queue: 100, port: 19101))
        let status = try daemon.status()
        #expect(
            [status.ready, status.rulesInstalled] == [true, true] && status.generation == 1 && status.namespaces == 4
                && status.pods == 6 && status.policies == 4 && status.queues == [100, 101]
                && status.backend == "iptables" && status.failureMode == "open" && status.sources.first?.errors == [],
            "\(status)")

        let answers = try scenario.reachability(probes, timeout: .seconds(3))
        let expected = Self.enforcementTable.map(\.1)
        #expect(answers == expected, "\(zip(probes, zip(answers, expected)).filter { $1.0 != $1.1 }.map { "\($0): got \($1.0)" })")

        // Every kind of decision was taken by the engine, and nothing fell back to the failure mode.
        let verdicts = try daemon.metrics().verdicts.filter { $0.value > 0 }
        #expect(
            Set(verdicts.keys)
                == ["accept/allowed_by_policy", "accept/not_isolated", "drop/denied_ingress", "drop/denied_egress"],
            "\(verdicts)")
    }
}
