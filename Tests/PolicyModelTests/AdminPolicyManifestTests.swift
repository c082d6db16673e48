import NetworkTypes
import PolicyModel
import Testing

extension BrokenObject {
    /// A broken AdminNetworkPolicy (or BaselineAdminNetworkPolicy) before the AdminNetworkPolicy good.
    static func adminPolicy(
        name: String, kind: AdminPolicyKind = .adminNetworkPolicy, objectName: String = "bad", body: [String],
        errors: [(path: String, line: Int?, message: String)]
    ) -> BrokenObject {
        BrokenObject(
            name: name, apiVersion: "policy.networking.k8s.io/v1alpha1",
            object: ObjectKey(kind: kind.rawValue, namespace: "", name: objectName), body: body,
            neighbour: Neighbour(
                apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "AdminNetworkPolicy",
                spec: "spec: {priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [169.254.169.254/32]}]}]}"),
            errors: errors)
    }
}

@Suite("AdminNetworkPolicy manifests: decoding and errors located exactly")
struct AdminPolicyManifestTests {
    static let subject = "subject: {namespaces: {}}"

    static let broken: [BrokenObject] = [
        .adminPolicy(
            name: "priority above 1000", body: ["priority: 1001", subject],
            errors: [("spec.priority", 9, "must be between 0 and 1000, got 1001")]),
        .adminPolicy(
            name: "negative priority", body: ["priority: -1", subject],
            errors: [("spec.priority", 9, "must be between 0 and 1000, got -1")]),
        .adminPolicy(
            name: "priority as a string", body: ["priority: high", subject],
            errors: [("spec.priority", 9, "must be an integer, got a string")]),
        .adminPolicy(
            name: "missing priority", body: [subject],
            errors: [("spec.priority", 9, "is required (0 to 1000; a lower number takes precedence)")]),
        .adminPolicy(
            name: "missing subject", body: ["priority: 1"],
            errors: [("spec.subject", 9, "is required (namespaces or pods)")]),
        .adminPolicy(
            name: "subject with both namespaces and pods",
            body: ["priority: 1", "subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}"],
            errors: [("spec.subject", 10, "must set exactly one of namespaces or pods, got both")]),
        .adminPolicy(
            name: "pods subject without a podSelector", body: ["priority: 1", "subject: {pods: {namespaceSelector: {}}}"],
            errors: [("spec.subject.pods.podSelector", 10, "is required (use {} to select everything)")]),
        .adminPolicy(
            name: "subject namespaces of the wrong shape (the pre-v1alpha1 namespaceSelector)",
            body: ["priority: 1", "subject: {namespaces: {namespaceSelector: {}}}"],
            errors: [
                (
                    "spec.subject.namespaces.namespaceSelector", 10,
                    "unknown field \"namespaceSelector\"; expected one of: matchExpressions, matchLabels"
                )
            ]),
        .adminPolicy(
            name: "unknown action", body: ["priority: 1", subject, "ingress:", "- {action: Reject, from: [{namespaces: {}}]}"],
            errors: [("spec.ingress[0].action", 12, "unknown action \"Reject\"; expected Allow, Deny or Pass")]),
        .adminPolicy(
            name: "missing action", body: ["priority: 1", subject, "ingress:", "- {from: [{namespaces: {}}]}"],
            errors: [("spec.ingress[0].action", 12, "is required")]),
        .adminPolicy(
            name: "Pass in the baseline", kind: .baselineAdminNetworkPolicy, objectName: "default",
            body: [subject, "egress:", "- {action: Pass, to: [{namespaces: {}}]}"],
            errors: [("spec.egress[0].action", 11, "unknown action \"Pass\"; expected Allow or Deny")]),
        .adminPolicy(
            name: "a baseline not named default", kind: .baselineAdminNetworkPolicy, objectName: "strict",
            body: [subject],
            errors: [
                (
                    "metadata.name", 7,
                    "a BaselineAdminNetworkPolicy is a singleton and must be named \"default\", got \"strict\""
                )
            ]),
        .adminPolicy(
            name: "a priority in the baseline", kind: .baselineAdminNetworkPolicy, objectName: "default",
            body: ["priority: 3", subject],
            errors: [("spec.priority", 9, "unknown field \"priority\"; expected one of: egress, ingress, subject")]),
        .adminPolicy(
            name: "a rule without peers", body: ["priority: 1", subject, "egress:", "- {action: Deny, to: []}"],
            errors: [("spec.egress[0].to", 12, "must list at least one peer")]),
        .adminPolicy(
            name: "a peer with two fields",
            body: ["priority: 1", subject, "egress:", "- action: Deny", "  to: [{namespaces: {}, nodes: {}}]"],
            errors: [("spec.egress[0].to[0]", 13, "must set exactly one of namespaces, pods, nodes or networks, got namespaces and nodes")]),
        .adminPolicy(
            name: "a nodes peer in ingress",
            body: ["priority: 1", subject, "ingress:", "- action: Deny", "  from: [{nodes: {}}]"],
            errors: [
                ("spec.ingress[0].from[0].nodes", 13, "unknown field \"nodes\"; expected one of: namespaces, pods"),
                ("spec.ingress[0].from[0]", 13, "must set one of namespaces or pods"),
            ]),
        .adminPolicy(
            name: "a bad CIDR in networks",
            body: ["priority: 1", subject, "egress:", "- action: Deny", "  to: [{networks: [10.0.0.0/33]}]"],
            errors: [
                (
                    "spec.egress[0].to[0].networks[0]", 13,
                    "\"10.0.0.0/33\" is not a valid CIDR (expected ADDRESS/LENGTH, such as 10.0.0.0/8 or fd00::/64)"
                )
            ]),
        .adminPolicy(
            name: "a port range whose end is not above its start",
            body: [
                "priority: 1", subject, "egress:", "- action: Deny", "  to: [{namespaces: {}}]",
                "  ports: [{portRange: {protocol: UDP, start: 9000, end: 9000}}]",
            ],
            errors: [("spec.egress[0].ports[0].portRange.end", 14, "must be greater than start (9000), got 9000")]),
        .adminPolicy(
            name: "a port entry with two fields",
            body: [
                "priority: 1", subject, "egress:", "- action: Deny", "  to: [{namespaces: {}}]",
                "  ports: [{namedPort: web, portNumber: {port: 80}}]",
            ],
            errors: [
                (
                    "spec.egress[0].ports[0]", 14,
                    "must set exactly one of portNumber, namedPort or portRange, got portNumber and namedPort"
                )
            ]),
        .adminPolicy(
            name: "a named port beside a networks peer",
            body: [
                "priority: 1", subject, "egress:", "- action: Allow", "  to: [{networks: [10.0.0.0/8]}]",
                "  ports: [{namedPort: web}]",
            ],
            errors: [
                ("spec.egress[0].ports", 14, "namedPort cannot be used with nodes or networks peers, which have no named ports")
            ]),
        .adminPolicy(
            name: "port 0", body: ["priority: 1", subject, "ingress:", "- action: Deny", "  from: [{namespaces: {}}]", "  ports: [{portNumber: {port: 0}}]"],
            errors: [("spec.ingress[0].ports[0].portNumber.port", 14, "must be between 1 and 65535, got 0")]),
    ]

    @Test("each broken policy gives exactly its errors, and its neighbours load", arguments: broken)
    func brokenPolicies(_ manifest: BrokenObject) {
        manifest.expectExactErrors()
    }

    @Test("every field decodes: subjects, actions, peers, ports, defaults")
    func everyFieldDecodes() throws {
        let text = """
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: {name: all-fields, namespace: ignored-for-cluster-scoped}
            spec:
              priority: 1000
              subject:
                pods:
                  namespaceSelector: {matchLabels: {team: a}}
                  podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
              ingress:
              - name: from-monitoring
                action: Allow
                from:
                - namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
                - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: prometheus}}}
                ports:
                - portNumber: {port: 9090}
                - namedPort: metrics
                - portRange: {protocol: SCTP, start: 9000, end: 9100}
              egress:
              - action: Pass
                to:
                - nodes: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
                - networks: [169.254.169.254/32, "fd00:ec2::254/128"]
            ---
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: BaselineAdminNetworkPolicy
            metadata: {name: default}
            spec:
              subject: {namespaces: {}}
              ingress:
              - {action: Deny, from: [{namespaces: {}}]}
            """
        let result = ManifestLoader.load(text: text, file: "all.yaml")
        #expect(result.errors == [])
        let expected: [ManifestObject] = [
            .adminNetworkPolicy(
                AdminNetworkPolicy(
                    name: "all-fields", priority: 1000,
                    subject: .pods(
                        namespaces: LabelSelector(matchLabels: ["team": "a"]),
                        pods: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "app", operator: .in, values: ["web"])])),
                    ingress: [
                        AdminPolicyRule(
                            name: "from-monitoring", action: .allow,
                            peers: [
                                .namespaces(LabelSelector(matchLabels: [Namespace.nameLabel: "monitoring"])),
                                .pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "prometheus"])),
                            ],
                            ports: [.number(.tcp, 9090), .named("metrics"), .range(.sctp, 9000, 9100)])
                    ],
                    egress: [
                        AdminPolicyRule(
                            action: .pass,
                            peers: [
                                .nodes(LabelSelector(matchLabels: ["node-role.kubernetes.io/control-plane": ""])),
                                .networks([try #require(IPPrefix("169.254.169.254/32")), try #require(IPPrefix("fd00:ec2::254/128"))]),
                            ])
                    ])),
            .adminNetworkPolicy(
                AdminNetworkPolicy(
                    kind: .baselineAdminNetworkPolicy, name: "default", subject: .namespaces(.everything),
                    ingress: [AdminPolicyRule(action: .deny, peers: [.namespaces(.everything)])])),
        ]
        #expect(result.objects == expected)
        #expect(result.objects.map(\.key.description) == ["AdminNetworkPolicy all-fields", "BaselineAdminNetworkPolicy default"])
    }

    @Test("a Node decodes its labels and its IP addresses, not its host name")
    func nodeDecodes() throws {
        let text = """
            apiVersion: v1
            kind: Node
            metadata: {name: worker-1, labels: {kubernetes.io/hostname: worker-1}}
            status:
              addresses:
              - {type: Hostname, address: worker-1}
              - {type: InternalIP, address: 192.168.1.10}
              - {type: ExternalIP, address: "2001:db8::10"}
              - {type: InternalDNS, address: worker-1.internal}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: worker-2}
            status:
              addresses:
              - {type: InternalIP, address: 192.168.1.300}
            """
        let result = ManifestLoader.load(text: text, file: "nodes.yaml")
        #expect(
            result.objects == [
                .node(
                    ClusterNode(
                        name: "worker-1", labels: ["kubernetes.io/hostname": "worker-1"],
                        addresses: [try #require(IPAddress("192.168.1.10")), try #require(IPAddress("2001:db8::10"))]))
            ])
        #expect(
            result.errors == [
                PolicyError(
                    file: "nodes.yaml", documentIndex: 1, object: ObjectKey(kind: "Node", namespace: "", name: "worker-2"),
                    fieldPath: "status.addresses[0].address", line: 16, message: "\"192.168.1.300\" is not an IP address")
            ])
    }

    @Test("ties in priority are reported; policies are ordered by tier, priority and name")
    func tiesAreReported() {
        let subject = AdminPolicySubject.namespaces(.everything)
        let state = ClusterState(adminPolicies: [
            AdminNetworkPolicy(kind: .baselineAdminNetworkPolicy, name: "default", subject: subject),
            AdminNetworkPolicy(name: "zeta", priority: 5, subject: subject),
            AdminNetworkPolicy(name: "alpha", priority: 5, subject: subject),
            AdminNetworkPolicy(name: "first", priority: 0, subject: subject),
        ])
        #expect(state.adminPolicies.map(\.name) == ["first", "alpha", "zeta", "default"])
        #expect(
            state.priorityTies == [
                "AdminNetworkPolicies alpha, zeta share priority 5; the API leaves their order undefined, Tollgate evaluates them by name"
            ])
    }

    @Test("host-network pods lend their addresses to their node")
    func hostNetworkPodsAreTheirNode() throws {
        let node = ClusterNode(name: "n1", addresses: [try #require(IPAddress("10.0.0.1"))])
        let hostPod = Pod(
            namespace: "kube-system", name: "proxy", nodeName: "n1", hostNetwork: true,
            ips: [try #require(IPAddress("10.0.0.1")), try #require(IPAddress("fd00::1"))])
        let finished = Pod(
            namespace: "kube-system", name: "old", nodeName: "n1", hostNetwork: true, phase: .succeeded,
            ips: [try #require(IPAddress("10.0.0.9"))])
        let state = ClusterState(pods: [hostPod, finished], nodes: [node])
        #expect(state.nodeAddresses() == [[try #require(IPAddress("10.0.0.1")), try #require(IPAddress("fd00::1"))]])
    }
}
