import NetworkTypes
import PolicyModel
import Testing

/// A broken ClusterNetworkPolicy between two good objects, laid out so that lines are known:
///
///     1  apiVersion: v1                                       (document 0: Namespace ok)
///     2  kind: Namespace
///     3  metadata: {name: ok}
///     4  ---
///     5  apiVersion: policy.networking.k8s.io/v1alpha2        (document 1: the broken policy)
///     6  kind: ClusterNetworkPolicy
///     7  metadata: {name: bad}
///     8  spec:
///     9  <body, indented two spaces>
///     …  ---                                                  (document 2: ClusterNetworkPolicy good)
struct BrokenClusterPolicy: Sendable, CustomTestStringConvertible {
    var name: String
    /// The lines of `spec`, without their two-space indent.
    var body: [String]
    /// (field path, line, message) of each expected error, in order.
    var errors: [(path: String, line: Int?, message: String)]

    var testDescription: String { name }

    var text: String {
        ([
            "apiVersion: v1", "kind: Namespace", "metadata: {name: ok}", "---",
            "apiVersion: policy.networking.k8s.io/v1alpha2", "kind: ClusterNetworkPolicy", "metadata: {name: bad}",
            "spec:",
        ] + body.map { "  " + $0 } + [
            "---", "apiVersion: policy.networking.k8s.io/v1alpha2", "kind: ClusterNetworkPolicy", "metadata: {name: good}",
            "spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [169.254.169.254/32]}]}]}",
        ]).joined(separator: "\n")
    }

    var expectedErrors: [PolicyError] {
        errors.map {
            PolicyError(
                file: "broken.yaml", documentIndex: 1,
                object: ObjectKey(kind: "ClusterNetworkPolicy", namespace: "", name: "bad"), fieldPath: $0.path,
                line: $0.line, message: $0.message)
        }
    }
}

@Suite("ClusterNetworkPolicy (v1alpha2) manifests: decoding and errors located exactly")
struct ClusterNetworkPolicyManifestTests {
    static let subject = "subject: {namespaces: {}}"
    /// Lines 9 to 11 of a valid admin policy head; rules start on line 12.
    static let head = ["tier: Admin", "priority: 1", subject]

    static let broken: [BrokenClusterPolicy] = [
        BrokenClusterPolicy(
            name: "unknown tier", body: ["tier: Developer", "priority: 1", subject],
            errors: [("spec.tier", 9, "unknown tier \"Developer\"; expected Admin or Baseline")]),
        BrokenClusterPolicy(
            name: "tier in the wrong case", body: ["tier: admin", "priority: 1", subject],
            errors: [("spec.tier", 9, "unknown tier \"admin\"; expected Admin or Baseline")]),
        BrokenClusterPolicy(
            name: "missing tier", body: ["priority: 1", subject],
            errors: [("spec.tier", 9, "is required (Admin or Baseline)")]),
        BrokenClusterPolicy(
            name: "priority above 1000 in the baseline tier", body: ["tier: Baseline", "priority: 1001", subject],
            errors: [("spec.priority", 10, "must be between 0 and 1000, got 1001")]),
        BrokenClusterPolicy(
            name: "negative priority", body: ["tier: Admin", "priority: -5", subject],
            errors: [("spec.priority", 10, "must be between 0 and 1000, got -5")]),
        BrokenClusterPolicy(
            name: "missing priority, which the baseline tier needs too", body: ["tier: Baseline", subject],
            errors: [("spec.priority", 9, "is required (0 to 1000; a lower number takes precedence)")]),
        BrokenClusterPolicy(
            name: "the v1alpha1 action Allow",
            body: head + ["ingress:", "- {action: Allow, from: [{namespaces: {}}]}"],
            errors: [
                ("spec.ingress[0].action", 13, "unknown action \"Allow\"; expected Accept, Deny or Pass (v1alpha2 calls it Accept)")
            ]),
        BrokenClusterPolicy(
            name: "unknown action", body: head + ["ingress:", "- {action: Reject, from: [{namespaces: {}}]}"],
            errors: [("spec.ingress[0].action", 13, "unknown action \"Reject\"; expected Accept, Deny or Pass")]),
        BrokenClusterPolicy(
            name: "missing action", body: head + ["ingress:", "- {from: [{namespaces: {}}]}"],
            errors: [("spec.ingress[0].action", 13, "is required (Accept, Deny or Pass)")]),
        BrokenClusterPolicy(
            name: "the v1alpha1 ports field",
            body: head + ["egress:", "- action: Deny", "  to: [{namespaces: {}}]", "  ports: [{portNumber: {port: 80}}]"],
            errors: [("spec.egress[0].ports", 15, "unknown field \"ports\"; expected one of: action, name, protocols, to")]),
        BrokenClusterPolicy(
            name: "a pods subject whose podSelector is a list",
            body: ["tier: Admin", "priority: 1", "subject: {pods: {podSelector: [app]}}"],
            errors: [("spec.subject.pods.podSelector", 11, "must be an object, got a list")]),
        BrokenClusterPolicy(
            name: "a pods subject without a podSelector",
            body: ["tier: Admin", "priority: 1", "subject: {pods: {namespaceSelector: {}}}"],
            errors: [("spec.subject.pods.podSelector", 11, "is required (use {} to select everything)")]),
        BrokenClusterPolicy(
            name: "a subject with namespaces and pods",
            body: ["tier: Admin", "priority: 1", "subject: {namespaces: {}, pods: {podSelector: {}}}"],
            errors: [("spec.subject", 11, "must set exactly one of namespaces or pods, got both")]),
        BrokenClusterPolicy(
            name: "matchLabels of the wrong shape in a peer",
            body: head + ["ingress:", "- action: Deny", "  from: [{namespaces: {matchLabels: [team]}}]"],
            errors: [("spec.ingress[0].from[0].namespaces.matchLabels", 14, "must be an object, got a list")]),
        BrokenClusterPolicy(
            name: "a networks peer in ingress",
            body: head + ["ingress:", "- action: Deny", "  from: [{networks: [10.0.0.0/8]}]"],
            errors: [
                ("spec.ingress[0].from[0].networks", 14, "unknown field \"networks\"; expected one of: namespaces, pods"),
                ("spec.ingress[0].from[0]", 14, "must set one of namespaces or pods"),
            ]),
        BrokenClusterPolicy(
            name: "a rule without peers", body: head + ["egress:", "- {action: Deny, to: []}"],
            errors: [("spec.egress[0].to", 13, "must list at least one peer")]),
        BrokenClusterPolicy(
            name: "tcp without a destinationPort",
            body: head + ["egress:", "- action: Deny", "  to: [{namespaces: {}}]", "  protocols: [{tcp: {}}]"],
            errors: [("spec.egress[0].protocols[0].tcp.destinationPort", 15, "is required (number or range)")]),
        BrokenClusterPolicy(
            name: "a range whose end is not above its start",
            body: head + [
                "egress:", "- action: Deny", "  to: [{namespaces: {}}]",
                "  protocols: [{udp: {destinationPort: {range: {start: 9000, end: 9000}}}}]",
            ],
            errors: [
                ("spec.egress[0].protocols[0].udp.destinationPort.range.end", 15, "must be greater than start (9000), got 9000")
            ]),
        BrokenClusterPolicy(
            name: "a destinationPort with number and range",
            body: head + [
                "egress:", "- action: Deny", "  to: [{namespaces: {}}]",
                "  protocols: [{sctp: {destinationPort: {number: 80, range: {start: 1, end: 2}}}}]",
            ],
            errors: [
                ("spec.egress[0].protocols[0].sctp.destinationPort", 15, "must set exactly one of number or range, got number and range")
            ]),
        BrokenClusterPolicy(
            name: "port 0",
            body: head + [
                "ingress:", "- action: Deny", "  from: [{namespaces: {}}]",
                "  protocols: [{sctp: {destinationPort: {number: 0}}}]",
            ],
            errors: [("spec.ingress[0].protocols[0].sctp.destinationPort.number", 15, "must be between 1 and 65535, got 0")]),
        BrokenClusterPolicy(
            name: "a protocols entry with two fields",
            body: head + [
                "egress:", "- action: Deny", "  to: [{namespaces: {}}]",
                "  protocols: [{tcp: {destinationPort: {number: 80}}, destinationNamedPort: web}]",
            ],
            errors: [
                (
                    "spec.egress[0].protocols[0]", 15,
                    "must set exactly one of tcp, udp, sctp or destinationNamedPort, got tcp and destinationNamedPort"
                )
            ]),
        BrokenClusterPolicy(
            name: "an empty protocols list",
            body: head + ["egress:", "- action: Deny", "  to: [{namespaces: {}}]", "  protocols: []"],
            errors: [("spec.egress[0].protocols", 15, "must list 1 to 25 entries, got 0")]),
        BrokenClusterPolicy(
            name: "a destinationNamedPort beside a networks peer",
            body: head + [
                "egress:", "- action: Accept", "  to: [{networks: [10.0.0.0/8]}]", "  protocols: [{destinationNamedPort: web}]",
            ],
            errors: [
                (
                    "spec.egress[0].protocols", 15,
                    "destinationNamedPort cannot be used with nodes, networks or domainNames peers, which have no named ports"
                )
            ]),
        BrokenClusterPolicy(
            name: "domainNames in a Deny rule",
            body: head + ["egress:", "- action: Deny", "  to: [{domainNames: [example.com]}]"],
            errors: [("spec.egress[0].action", 13, "domainNames peers are allowed only in Accept rules, got Deny")]),
        BrokenClusterPolicy(
            name: "a wildcard inside a domain name",
            body: head + ["egress:", "- action: Accept", "  to: [{domainNames: [\"www.*.example.com\"]}]"],
            errors: [
                (
                    "spec.egress[0].to[0].domainNames[0]", 14,
                    "\"www.*.example.com\" is not a domain name (labels of letters, digits, '-' and '_', such as example.com; a leading \"*.\" matches subdomains)"
                )
            ]),
        BrokenClusterPolicy(
            name: "26 rules",
            body: head + ["ingress:"] + Array(repeating: "- {action: Deny, from: [{namespaces: {}}]}", count: 26),
            errors: [("spec.ingress", 13, "must have at most 25 rules, got 26")]),
    ]

    @Test("each broken policy gives exactly its errors, and its neighbours load", arguments: broken)
    func brokenPolicies(_ manifest: BrokenClusterPolicy) {
        let result = ManifestLoader.load(text: manifest.text, file: "broken.yaml")
        #expect(result.errors == manifest.expectedErrors)
        #expect(
            result.objects.map(\.key) == [
                ObjectKey(kind: "Namespace", namespace: "", name: "ok"),
                ObjectKey(kind: "ClusterNetworkPolicy", namespace: "", name: "good"),
            ])
    }

    @Test("a ClusterNetworkPolicy needs apiVersion v1alpha2")
    func wrongAPIVersion() {
        let text = """
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: ClusterNetworkPolicy
            metadata: {name: old}
            spec: {tier: Admin, priority: 1, subject: {namespaces: {}}}
            """
        let result = ManifestLoader.load(text: text, file: "old.yaml")
        #expect(
            result.errors == [
                PolicyError(
                    file: "old.yaml", documentIndex: 0,
                    object: ObjectKey(kind: "ClusterNetworkPolicy", namespace: "", name: "old"), fieldPath: "apiVersion",
                    line: 1,
                    message: "ClusterNetworkPolicy must have apiVersion policy.networking.k8s.io/v1alpha2, got \"policy.networking.k8s.io/v1alpha1\"")
            ])
        #expect(result.objects.isEmpty)
    }

    @Test("every field decodes: tiers, priorities, subjects, actions, peers, protocols, domainNames")
    func everyFieldDecodes() throws {
        let text = """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: all-fields}
            spec:
              tier: Admin
              priority: 1000
              subject:
                pods:
                  podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
              ingress:
              - name: from-monitoring
                action: Accept
                from:
                - namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
                - pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: prometheus}}}
                protocols:
                - tcp: {destinationPort: {number: 9090}}
                - destinationNamedPort: metrics
                - sctp: {destinationPort: {range: {start: 9000, end: 9100}}}
                - udp: {destinationPort: {number: 53}}
              egress:
              - action: Pass
                to:
                - nodes: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
                - networks: [169.254.169.254/32, "fd00:ec2::254/128"]
              - name: registry
                action: Accept
                to:
                - domainNames: ["*.example.com", registry.example.org.]
                - pods: {podSelector: {matchLabels: {app: mirror}}}
            ---
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: baseline-default}
            spec:
              tier: Baseline
              priority: 0
              subject: {namespaces: {}}
              ingress:
              - {action: Pass, from: [{namespaces: {matchLabels: {env: dev}}}]}
              - {action: Deny, from: [{namespaces: {}}]}
            """
        let result = ManifestLoader.load(text: text, file: "all.yaml")
        #expect(result.errors == [])
        let expected: [ManifestObject] = [
            .adminNetworkPolicy(
                AdminNetworkPolicy(
                    kind: .clusterNetworkPolicy, name: "all-fields", tier: .admin, priority: 1000,
                    subject: .pods(
                        namespaces: .everything,
                        pods: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "app", operator: .in, values: ["web"])])),
                    ingress: [
                        AdminPolicyRule(
                            name: "from-monitoring", action: .allow,
                            peers: [
                                .namespaces(LabelSelector(matchLabels: [Namespace.nameLabel: "monitoring"])),
                                .pods(
                                    namespaces: LabelSelector(matchLabels: ["team": "a"]),
                                    pods: LabelSelector(matchLabels: ["app": "prometheus"])),
                            ],
                            ports: [.number(.tcp, 9090), .named("metrics"), .range(.sctp, 9000, 9100), .number(.udp, 53)])
                    ],
                    egress: [
                        AdminPolicyRule(
                            action: .pass,
                            peers: [
                                .nodes(LabelSelector(matchLabels: ["node-role.kubernetes.io/control-plane": ""])),
                                .networks([try #require(IPPrefix("169.254.169.254/32")), try #require(IPPrefix("fd00:ec2::254/128"))]),
                            ]),
                        AdminPolicyRule(
                            name: "registry", action: .allow,
                            peers: [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "mirror"]))]),
                    ])),
            .adminNetworkPolicy(
                AdminNetworkPolicy(
                    kind: .clusterNetworkPolicy, name: "baseline-default", tier: .baseline, priority: 0,
                    subject: .namespaces(.everything),
                    ingress: [
                        AdminPolicyRule(action: .pass, peers: [.namespaces(LabelSelector(matchLabels: ["env": "dev"]))]),
                        AdminPolicyRule(action: .deny, peers: [.namespaces(.everything)]),
                    ])),
        ]
        #expect(result.objects == expected)
        #expect(
            result.objects.map(\.key.description) == [
                "ClusterNetworkPolicy all-fields", "ClusterNetworkPolicy baseline-default",
            ])
        #expect(
            result.notes == [
                "all.yaml: ClusterNetworkPolicy all-fields: spec.egress[1].to[0]: domainNames peers match no traffic "
                    + "(Tollgate does not resolve domain names); the rule's other peers apply"
            ])
    }

    @Test("tiers order AdminNetworkPolicy and ClusterNetworkPolicy by priority, the baseline singleton last; ties are reported")
    func mixedKindsAreOrdered() {
        let subject = AdminPolicySubject.namespaces(.everything)
        let state = ClusterState(adminPolicies: [
            AdminNetworkPolicy(kind: .baselineAdminNetworkPolicy, name: "default", subject: subject),
            AdminNetworkPolicy(kind: .clusterNetworkPolicy, name: "base-late", tier: .baseline, priority: 1000, subject: subject),
            AdminNetworkPolicy(kind: .clusterNetworkPolicy, name: "base-early", tier: .baseline, priority: 3, subject: subject),
            AdminNetworkPolicy(kind: .clusterNetworkPolicy, name: "base-twin", tier: .baseline, priority: 3, subject: subject),
            AdminNetworkPolicy(kind: .clusterNetworkPolicy, name: "shared", tier: .admin, priority: 5, subject: subject),
            AdminNetworkPolicy(name: "shared", priority: 5, subject: subject),
            AdminNetworkPolicy(kind: .clusterNetworkPolicy, name: "first", tier: .admin, priority: 0, subject: subject),
        ])
        #expect(
            state.adminPolicies.map(\.key.description) == [
                "ClusterNetworkPolicy first", "AdminNetworkPolicy shared", "ClusterNetworkPolicy shared",
                "ClusterNetworkPolicy base-early", "ClusterNetworkPolicy base-twin", "ClusterNetworkPolicy base-late",
                "BaselineAdminNetworkPolicy default",
            ])
        #expect(
            state.priorityTies == [
                "Admin-tier policies AdminNetworkPolicy shared, ClusterNetworkPolicy shared share priority 5; "
                    + "the API leaves their order undefined, Tollgate evaluates them by name",
                "Baseline-tier ClusterNetworkPolicies base-early, base-twin share priority 3; "
                    + "the API leaves their order undefined, Tollgate evaluates them by name",
            ])
    }
}
