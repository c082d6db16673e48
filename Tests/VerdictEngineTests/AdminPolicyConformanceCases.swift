import NetworkTypes
import PolicyModel
import VerdictEngine

// The conformance tests of kubernetes-sigs/network-policy-api for AdminNetworkPolicy and
// BaselineAdminNetworkPolicy (`conformance/tests/*.go`, policies from `conformance/base/**.yaml`), with their
// names, translated onto `ConformanceModel`. Upstream modifies a policy between subtests (swapping rules,
// changing an action, deleting a NetworkPolicy); each resulting state is a row here, and its name says what
// changed. Upstream's `shouldConnect` becomes the verdict reason, which also names the deciding tier. Rows
// marked "tollgate" are written on the same model for rules upstream does not probe this way (nodes and networks
// peers, named ports and ranges, a baseline Deny that a NetworkPolicy opens, ties in priority).
//
// The upstream YAML of api_integration/core-anp-np-banp.yaml still writes the `namespaces` peer in its older
// form (`namespaces: {namespaceSelector: ...}`); v1alpha1 made it a plain label selector, as here.

private extension ConformanceCase {
    static func anp(
        _ name: String, priority: Int, subject: AdminPolicySubject, ingress: [AdminPolicyRule] = [],
        egress: [AdminPolicyRule] = []
    ) -> AdminNetworkPolicy {
        AdminNetworkPolicy(name: name, priority: priority, subject: subject, ingress: ingress, egress: egress)
    }

    static func banp(subject: AdminPolicySubject, ingress: [AdminPolicyRule] = [], egress: [AdminPolicyRule] = [])
        -> AdminNetworkPolicy
    {
        AdminNetworkPolicy(
            kind: .baselineAdminNetworkPolicy, name: "default", subject: subject, ingress: ingress, egress: egress)
    }

    /// `gress-rules` (base/admin_network_policy/core-gress-rules-combined.yaml): priority 15, subject gryffindor,
    /// rules in the order given by `ravenclawOrder` (indices into allow, deny, pass) and `slytherinPassFirst`.
    static func gressRules(ravenclawOrder: [Int] = [0, 1, 2], slytherinPassFirst: Bool = false) -> AdminNetworkPolicy {
        func ravenclaw(_ direction: String) -> [AdminPolicyRule] {
            let rules = [
                rule("allow-\(direction)-ravenclaw-everything", .allow, [.namespaces(house("ravenclaw"))]),
                rule("deny-\(direction)-ravenclaw-everything", .deny, [.namespaces(house("ravenclaw"))]),
                rule("pass-\(direction)-ravenclaw-everything", .pass, [.namespaces(house("ravenclaw"))]),
            ]
            return ravenclawOrder.map { rules[$0] }
        }
        func slytherin(_ direction: String) -> [AdminPolicyRule] {
            let deny = rule(
                "deny-\(direction)-slytherin-at-ports-80-53-9003", .deny, [.namespaces(house("slytherin"))],
                ports: [tcp80, udp53, sctp9003])
            let pass = rule(
                "pass-\(direction)-slytherin-at-port-80-53-9003", .pass, [.namespaces(house("slytherin"))],
                ports: [tcp80, udp53, sctp9003])
            return slytherinPassFirst ? [pass, deny] : [deny, pass]
        }
        return anp(
            "gress-rules", priority: 15, subject: .namespaces(house("gryffindor")),
            ingress: ravenclaw("from") + slytherin("from") + [
                rule(
                    "allow-from-hufflepuff-at-port-80-5353-9003", .allow, [.namespaces(house("hufflepuff"))],
                    ports: [tcp80, .number(.udp, 5353), sctp9003]),
                rule("deny-from-hufflepuff-everything-else", .deny, [.namespaces(house("hufflepuff"))]),
            ],
            egress: ravenclaw("to") + slytherin("to") + [
                rule(
                    "allow-to-hufflepuff-at-ports-8080-5353", .allow, [.namespaces(house("hufflepuff"))],
                    ports: [.number(.tcp, 8080), .number(.udp, 5353), sctp9003]),
                rule("deny-to-hufflepuff-everything-else", .deny, [.namespaces(house("hufflepuff"))]),
            ])
    }

    /// `pass-example`, the NetworkPolicy and the BaselineAdminNetworkPolicy of
    /// base/api_integration/core-anp-np-banp.yaml.
    static func passExample(ingress: AdminPolicyAction, egress: AdminPolicyAction) -> AdminNetworkPolicy {
        anp(
            "pass-example", priority: 10, subject: .namespaces(houseLabel("gryffindor")),
            ingress: [rule("deny-all-ingress-from-slytherin", ingress, [.namespaces(houseLabel("slytherin"))])],
            egress: [rule("deny-all-egress-to-slytherin", egress, [.namespaces(houseLabel("slytherin"))])])
    }

    static let integrationBaseline = banp(
        subject: .namespaces(houseLabel("gryffindor")),
        ingress: [rule("deny-all-ingress-from-slytherin", .deny, [.namespaces(houseLabel("slytherin"))])],
        egress: [rule("deny-all-egress-to-slytherin", .deny, [.namespaces(houseLabel("slytherin"))])])
}

extension ConformanceCase {
    static let all: [ConformanceCase] = [
        // conformance/tests/admin-network-policy-core-gress-rules.go
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support an 'allow-gress' policy across different protocols",
            adminPolicies: { _ in [gressRules()] }, fixture: "gress-rules.yaml",
            probes: [
                probe(harry0, luna0, .tcp, 80, .allowedByAdmin), probe(harry1, luna0, .udp, 53, .allowedByAdmin),
                probe(harry0, luna0, .sctp, 9003, .allowedByAdmin), probe(luna0, harry0, .tcp, 80, .allowedByAdmin),
                probe(luna1, harry0, .udp, 53, .allowedByAdmin), probe(luna1, harry0, .sctp, 9003, .allowedByAdmin),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support an 'allow-gress' policy across different protocols at the specified ports",
            adminPolicies: { _ in [gressRules()] },
            probes: [
                probe(harry0, cedric1, .tcp, 8080, .allowedByAdmin), probe(harry1, cedric1, .tcp, 80, .deniedByAdminEgress),
                probe(harry0, cedric1, .udp, 5353, .allowedByAdmin), probe(harry1, cedric1, .udp, 53, .deniedByAdminEgress),
                probe(harry0, cedric1, .sctp, 9003, .allowedByAdmin),
                probe(harry1, cedric1, .sctp, 9005, .deniedByAdminEgress),
                probe(cedric0, harry1, .tcp, 80, .allowedByAdmin), probe(cedric1, harry1, .tcp, 8080, .deniedByAdminIngress),
                probe(cedric0, harry1, .udp, 5353, .allowedByAdmin), probe(cedric1, harry1, .udp, 53, .deniedByAdminIngress),
                probe(cedric0, harry1, .sctp, 9003, .allowedByAdmin),
                probe(cedric1, harry1, .sctp, 9005, .deniedByAdminIngress),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support an 'deny-gress' policy across different protocols (rules 0 and 1 swapped)",
            adminPolicies: { _ in [gressRules(ravenclawOrder: [1, 0, 2])] },
            probes: [
                probe(harry0, luna1, .tcp, 80, .deniedByAdminEgress), probe(harry1, luna1, .udp, 53, .deniedByAdminEgress),
                probe(harry0, luna1, .sctp, 9003, .deniedByAdminEgress),
                probe(luna0, harry1, .tcp, 80, .deniedByAdminIngress), probe(luna1, harry1, .udp, 53, .deniedByAdminIngress),
                probe(luna1, harry1, .sctp, 9003, .deniedByAdminIngress),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support a 'deny-gress' policy across different protocols at the specified ports",
            adminPolicies: { _ in [gressRules(ravenclawOrder: [1, 0, 2])] },
            probes: [
                probe(harry0, draco0, .tcp, 80, .deniedByAdminEgress), probe(harry1, draco0, .tcp, 8080, .notIsolated),
                probe(harry0, draco0, .udp, 53, .deniedByAdminEgress), probe(harry1, draco0, .udp, 5353, .notIsolated),
                probe(harry0, draco0, .sctp, 9003, .deniedByAdminEgress), probe(harry1, draco0, .sctp, 9005, .notIsolated),
                probe(draco0, harry1, .tcp, 80, .deniedByAdminIngress), probe(draco1, harry1, .tcp, 8080, .notIsolated),
                probe(draco0, harry1, .udp, 53, .deniedByAdminIngress), probe(draco1, harry1, .udp, 5353, .notIsolated),
                probe(draco0, harry1, .sctp, 9003, .deniedByAdminIngress), probe(draco1, harry1, .sctp, 9005, .notIsolated),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support an 'pass-gress' policy across different protocols (rules 0 and 2 swapped)",
            adminPolicies: { _ in [gressRules(ravenclawOrder: [2, 0, 1])] },
            probes: [
                probe(harry0, luna1, .tcp, 80, .passedByAdmin), probe(harry1, luna1, .udp, 53, .passedByAdmin),
                probe(harry0, luna1, .sctp, 9003, .passedByAdmin), probe(luna0, harry1, .tcp, 80, .passedByAdmin),
                probe(luna1, harry1, .udp, 53, .passedByAdmin), probe(luna1, harry1, .sctp, 9003, .passedByAdmin),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyGress: Should support a 'pass-gress' policy across different protocols at the specified ports (rules 3 and 4 swapped)",
            adminPolicies: { _ in [gressRules(ravenclawOrder: [2, 0, 1], slytherinPassFirst: true)] },
            probes: [
                probe(harry0, draco0, .tcp, 80, .passedByAdmin), probe(harry1, draco0, .tcp, 8080, .notIsolated),
                probe(harry0, draco0, .udp, 53, .passedByAdmin), probe(harry0, draco0, .sctp, 9003, .passedByAdmin),
                probe(draco0, harry1, .tcp, 80, .passedByAdmin), probe(draco1, harry1, .udp, 5353, .notIsolated),
            ]),

        // conformance/tests/admin-network-policy-core-integration.go
        ConformanceCase(
            name: "AdminNetworkPolicyIntegration: Should Deny traffic from slytherin to gryffindor respecting ANP (a NetworkPolicy cannot reopen an admin Deny)",
            adminPolicies: { _ in [passExample(ingress: .deny, egress: .deny), integrationBaseline] },
            networkPolicies: [integrationNetworkPolicy], fixture: "integration.yaml",
            probes: [
                probe(draco0, harry0, .tcp, 80, .deniedByAdminIngress),
                probe(draco1, harry0, .tcp, 8080, .deniedByAdminIngress),
                probe(harry0, draco0, .tcp, 80, .deniedByAdminEgress), probe(harry1, draco0, .tcp, 8080, .deniedByAdminEgress),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyIntegration: Should support a 'pass-ingress' and 'pass-egress' policy for ANP and respect the match for network policy",
            adminPolicies: { _ in [passExample(ingress: .pass, egress: .pass), integrationBaseline] },
            networkPolicies: [integrationNetworkPolicy],
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByPolicy), probe(draco1, harry0, .tcp, 8080, .allowedByPolicy),
                probe(harry0, draco0, .tcp, 80, .allowedByPolicy), probe(harry1, draco0, .tcp, 8080, .allowedByPolicy),
                // Not in upstream: the NetworkPolicy isolates gryffindor, so other houses are denied by it.
                probe(luna0, harry0, .tcp, 80, .deniedByIngress), probe(harry0, luna0, .tcp, 80, .deniedByEgress),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyIntegration: Should support a 'pass-ingress' and 'pass-egress' policy for ANP and respect the match for baseline admin network policy (NetworkPolicy deleted)",
            adminPolicies: { _ in [passExample(ingress: .pass, egress: .pass), integrationBaseline] },
            probes: [
                probe(draco0, harry0, .tcp, 80, .deniedByBaselineIngress),
                probe(draco1, harry0, .tcp, 8080, .deniedByBaselineIngress),
                probe(harry0, draco0, .tcp, 80, .deniedByBaselineEgress),
                probe(harry1, draco0, .tcp, 8080, .deniedByBaselineEgress),
                probe(luna0, harry0, .tcp, 80, .notIsolated),
            ]),

        // The tier order, on the same model.
        ConformanceCase(
            name: "tollgate: a baseline Deny that a NetworkPolicy opens",
            adminPolicies: { _ in [integrationBaseline] },
            networkPolicies: [
                NetworkPolicy(
                    namespace: ConformanceModel.namespace("gryffindor"), name: "allow-from-slytherin",
                    podSelector: .everything, policyTypes: [.ingress],
                    ingress: [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: houseLabel("slytherin"))])])
            ],
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByPolicy),
                probe(luna0, harry0, .tcp, 80, .deniedByIngress),
                // Egress is not isolated by the NetworkPolicy: the baseline decides it.
                probe(harry0, draco0, .tcp, 80, .deniedByBaselineEgress),
                probe(harry0, luna0, .tcp, 80, .notIsolated),
            ]),
        ConformanceCase(
            name: "tollgate: the baseline rules in order (allow, then deny, per port)",
            adminPolicies: { _ in
                [
                    banp(
                        subject: .namespaces(house("gryffindor")),
                        ingress: [
                            rule("allow-from-hufflepuff-at-80", .allow, [.namespaces(house("hufflepuff"))], ports: [tcp80]),
                            rule("deny-from-hufflepuff", .deny, [.namespaces(house("hufflepuff"))]),
                        ],
                        egress: [
                            rule("allow-to-ravenclaw", .allow, [.pods(namespaces: house("ravenclaw"), pods: .everything)]),
                            rule("deny-to-ravenclaw", .deny, [.namespaces(house("ravenclaw"))]),
                        ])
                ]
            },
            probes: [
                probe(cedric0, harry0, .tcp, 80, .allowedByBaseline), probe(cedric0, harry0, .tcp, 8080, .deniedByBaselineIngress),
                probe(cedric0, harry0, .udp, 80, .deniedByBaselineIngress), probe(harry1, luna1, .udp, 53, .allowedByBaseline),
                probe(luna1, harry1, .udp, 53, .notIsolated),
            ]),
        ConformanceCase(
            name: "AdminNetworkPolicyPriorityField (tollgate rows): the lower priority number decides",
            adminPolicies: { _ in
                [
                    anp("priority-50-allow", priority: 50, subject: .namespaces(house("gryffindor")),
                        egress: [rule("allow-to-ravenclaw", .allow, [.namespaces(house("ravenclaw"))])]),
                    anp("priority-60-deny", priority: 60, subject: .namespaces(house("gryffindor")),
                        egress: [rule("deny-to-ravenclaw", .deny, [.namespaces(house("ravenclaw"))])]),
                ]
            },
            probes: [probe(harry0, luna0, .tcp, 80, .allowedByAdmin)]),
        ConformanceCase(
            name: "AdminNetworkPolicyPriorityField (tollgate rows): after the deny policy's priority is updated to 40",
            adminPolicies: { _ in
                [
                    anp("priority-50-allow", priority: 50, subject: .namespaces(house("gryffindor")),
                        egress: [rule("allow-to-ravenclaw", .allow, [.namespaces(house("ravenclaw"))])]),
                    anp("priority-60-deny", priority: 40, subject: .namespaces(house("gryffindor")),
                        egress: [rule("deny-to-ravenclaw", .deny, [.namespaces(house("ravenclaw"))])]),
                ]
            },
            probes: [probe(harry0, luna0, .tcp, 80, .deniedByAdminEgress), probe(harry0, draco0, .tcp, 80, .notIsolated)]),
        ConformanceCase(
            name: "tollgate: two policies with the same priority are evaluated by name",
            adminPolicies: { _ in
                [
                    anp("b-allow", priority: 7, subject: .namespaces(house("gryffindor")),
                        egress: [rule("allow", .allow, [.namespaces(house("ravenclaw"))])]),
                    anp("a-deny", priority: 7, subject: .namespaces(house("gryffindor")),
                        egress: [rule("deny", .deny, [.namespaces(house("ravenclaw"))])]),
                ]
            },
            probes: [probe(harry0, luna0, .tcp, 80, .deniedByAdminEgress)]),
        ConformanceCase(
            name: "tollgate: nodes peers match node addresses and host-network pods",
            adminPolicies: { _ in
                [
                    anp("nodes", priority: 1, subject: .namespaces(house("gryffindor")),
                        egress: [
                            rule(
                                "allow-to-kind-worker-36363", .allow,
                                [.nodes(LabelSelector(matchLabels: ["kubernetes.io/hostname": "kind-worker"]))],
                                ports: [.number(.tcp, 36363)]),
                            rule("deny-to-all-nodes", .deny, [.nodes(LabelSelector(matchLabels: ["kubernetes.io/os": "linux"]))]),
                        ])
                ]
            },
            probes: [
                Probe(from: harry0, to: .node(0), protocol: .tcp, port: 36363, expected: .allowedByAdmin),
                Probe(from: harry0, to: .node(0), protocol: .tcp, port: 36364, expected: .deniedByAdminEgress),
                Probe(from: harry1, to: .node(1), protocol: .tcp, port: 36363, expected: .deniedByAdminEgress),
                // centaur-1 is host-network on kind-worker2: it is that node.
                probe(harry0, pod("forbidden-forrest", 1), .udp, 53, .deniedByAdminEgress),
                probe(harry0, luna0, .tcp, 80, .notIsolated),
            ]),
        ConformanceCase(
            name: "tollgate: namespaces and pods peers never match host-network pods",
            adminPolicies: { _ in
                [
                    anp("not-host-network", priority: 1, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("deny-from-forest", .deny, [.namespaces(house("forbidden-forrest"))])],
                        egress: [
                            rule("deny-to-forest", .deny, [.pods(namespaces: house("forbidden-forrest"), pods: .everything)])
                        ])
                ]
            },
            probes: [
                probe(centaur0, harry0, .tcp, 80, .notIsolated), probe(harry0, centaur0, .tcp, 36363, .notIsolated),
            ]),
        ConformanceCase(
            name: "tollgate: networks peers match any address in the CIDRs, pods included (standard-egress-inline-cidr-rules)",
            adminPolicies: { family in
                let luna = IPPrefix(host: ConformanceModel.address(of: luna0, family: family))
                let pods = IPPrefix(family == .ipv4 ? "10.244.0.0/16" : "fd00:10:244::/48")!
                let documentation = IPPrefix(family == .ipv4 ? "192.0.2.0/24" : "2001:db8::/32")!
                return [
                    anp("networks", priority: 1, subject: .namespaces(house("gryffindor")),
                        egress: [
                            rule("allow-to-luna-0", .allow, [.networks([luna])]),
                            rule("deny-to-pods-and-documentation", .deny, [.networks([pods, documentation])]),
                        ])
                ]
            },
            probes: [
                probe(harry0, luna0, .tcp, 80, .allowedByAdmin), probe(harry0, luna1, .tcp, 80, .deniedByAdminEgress),
                probe(harry0, draco0, .udp, 53, .deniedByAdminEgress),
                Probe(
                    from: harry0, to: .external(v4: "192.0.2.10", v6: "2001:db8::10"), protocol: .tcp, port: 443,
                    expected: .deniedByAdminEgress),
                Probe(
                    from: harry0, to: .external(v4: "198.51.100.1", v6: "2001:db9::1"), protocol: .tcp, port: 443,
                    expected: .notIsolated),
                Probe(from: harry0, to: .node(0), protocol: .tcp, port: 36363, expected: .notIsolated),
            ]),
        ConformanceCase(
            name: "tollgate: named ports and port ranges (standard-port-range-rules)",
            adminPolicies: { _ in
                [
                    anp("ports", priority: 1, subject: .namespaces(house("gryffindor")),
                        ingress: [
                            rule("allow-dns", .allow, [.namespaces(house("ravenclaw"))], ports: [.named("dns")]),
                            rule(
                                "allow-ranges", .allow, [.namespaces(house("ravenclaw"))],
                                ports: [.range(.tcp, 8000, 8100), .range(.sctp, 9000, 9004)]),
                            rule("deny-rest", .deny, [.namespaces(house("ravenclaw"))]),
                        ],
                        egress: [
                            rule(
                                "allow-web", .allow, [.pods(namespaces: house("slytherin"), pods: houseLabel("slytherin"))],
                                ports: [.named("web")]),
                            rule("deny-rest", .deny, [.namespaces(house("slytherin"))]),
                        ])
                ]
            },
            probes: [
                probe(luna0, harry0, .udp, 53, .allowedByAdmin), probe(luna0, harry0, .tcp, 53, .deniedByAdminIngress),
                probe(luna0, harry0, .udp, 5353, .deniedByAdminIngress), probe(luna0, harry0, .tcp, 8000, .allowedByAdmin),
                probe(luna0, harry0, .tcp, 8080, .allowedByAdmin), probe(luna0, harry0, .tcp, 8100, .allowedByAdmin),
                probe(luna0, harry0, .tcp, 8101, .deniedByAdminIngress), probe(luna0, harry0, .tcp, 80, .deniedByAdminIngress),
                probe(luna0, harry0, .sctp, 9003, .allowedByAdmin), probe(luna0, harry0, .sctp, 9005, .deniedByAdminIngress),
                probe(harry0, draco0, .tcp, 80, .allowedByAdmin), probe(harry0, draco0, .tcp, 8080, .deniedByAdminEgress),
                probe(harry0, draco0, .udp, 80, .deniedByAdminEgress),
            ]),
    ]
}
