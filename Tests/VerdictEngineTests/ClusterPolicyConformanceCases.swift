import NetworkTypes
import PolicyModel
import VerdictEngine

// The v1alpha2 conformance tests of kubernetes-sigs/network-policy-api (ClusterNetworkPolicy,
// `conformance/tests/*.go` at commit 0eec1b0e, policies from `conformance/base/{admin_tier,baseline_tier,
// api_integration}/*.yaml`), with their names, translated onto `ConformanceModel` like the v1alpha1 cases.
// Upstream mutates a policy between subtests (a new priority, swapped rules, an action changed, a NetworkPolicy
// deleted); each resulting state is a row. Rows marked "tollgate" cover v1alpha2 semantics that upstream does not
// probe: Pass in the baseline tier, AdminNetworkPolicy and ClusterNetworkPolicy sharing the admin priority scale,
// the BaselineAdminNetworkPolicy after every baseline ClusterNetworkPolicy, and a domainNames-only rule.

private typealias PodRef = ConformanceModel.PodRef

private func pod(_ house: String, _ ordinal: Int) -> PodRef { PodRef(house: house, ordinal: ordinal) }
private let harry0 = pod("gryffindor", 0)
private let harry1 = pod("gryffindor", 1)
private let draco0 = pod("slytherin", 0)
private let draco1 = pod("slytherin", 1)
private let cedric0 = pod("hufflepuff", 0)
private let cedric1 = pod("hufflepuff", 1)
private let luna0 = pod("ravenclaw", 0)
private let luna1 = pod("ravenclaw", 1)

/// `kubernetes.io/metadata.name: network-policy-conformance-<house>`.
private func house(_ name: String) -> LabelSelector {
    LabelSelector(matchLabels: [Namespace.nameLabel: ConformanceModel.namespace(name)])
}

/// `conformance-house: <house>` (namespaces and pods both carry it).
private func houseLabel(_ name: String) -> LabelSelector { LabelSelector(matchLabels: ["conformance-house": name]) }

/// A `pods` peer or subject: the pods labelled with `house` in the namespaces labelled with it.
private func housePods(_ name: String) -> (namespaces: LabelSelector, pods: LabelSelector) {
    (houseLabel(name), houseLabel(name))
}

private func rule(
    _ name: String, _ action: AdminPolicyAction, _ peers: [AdminPolicyPeer], ports: [AdminPolicyPort]? = nil
) -> AdminPolicyRule {
    AdminPolicyRule(name: name, action: action, peers: peers, ports: ports)
}

private func cnp(
    _ name: String, _ tier: PolicyTier, priority: Int, subject: AdminPolicySubject, ingress: [AdminPolicyRule] = [],
    egress: [AdminPolicyRule] = []
) -> AdminNetworkPolicy {
    AdminNetworkPolicy(
        kind: .clusterNetworkPolicy, name: name, tier: tier, priority: priority, subject: subject, ingress: ingress,
        egress: egress)
}

private func probe(
    _ from: PodRef, _ to: PodRef, _ proto: TransportProtocol, _ port: UInt16, _ expected: VerdictReason
) -> ConformanceCase.Probe {
    ConformanceCase.Probe(from: from, to: .pod(to), protocol: proto, port: port, expected: expected)
}

private let tcp80 = AdminPolicyPort.number(.tcp, 80)
private let udp53 = AdminPolicyPort.number(.udp, 53)
private let sctp9003 = AdminPolicyPort.number(.sctp, 9003)

/// base/admin_tier/standard-priority-field.yaml: `priority-50-example` (Deny), `old-priority-60-new-priority-40-
/// example` (Pass) at `passPriority`, and the baseline `default` (Accept), all on gryffindor's pods and
/// slytherin's pods.
private func priorityField(passPriority: Int) -> [AdminNetworkPolicy] {
    let gryffindor = housePods("gryffindor")
    let slytherin = AdminPolicyPeer.pods(namespaces: housePods("slytherin").namespaces, pods: housePods("slytherin").pods)
    let subject = AdminPolicySubject.pods(namespaces: gryffindor.namespaces, pods: gryffindor.pods)
    return [
        cnp(
            "priority-50-example", .admin, priority: 50, subject: subject,
            ingress: [rule("deny-all-ingress-from-slytherin", .deny, [slytherin])],
            egress: [rule("deny-all-egress-to-slytherin", .deny, [slytherin])]),
        cnp(
            "old-priority-60-new-priority-40-example", .admin, priority: passPriority, subject: subject,
            ingress: [rule("pass-all-ingress-from-slytherin", .pass, [slytherin])],
            egress: [rule("pass-all-egress-to-slytherin", .pass, [slytherin])]),
        cnp(
            "default", .baseline, priority: 10, subject: subject,
            ingress: [rule("allow-all-ingress-from-slytherin", .allow, [slytherin])],
            egress: [rule("allow-all-egress-to-slytherin", .allow, [slytherin])]),
    ]
}

/// base/api_integration/standard-anp-np-banp.yaml: the admin `pass-example` with the given actions, and the
/// baseline `default`.
private func integration(ingress: AdminPolicyAction, egress: AdminPolicyAction) -> [AdminNetworkPolicy] {
    let subject = AdminPolicySubject.namespaces(houseLabel("gryffindor"))
    let slytherin = AdminPolicyPeer.namespaces(houseLabel("slytherin"))
    return [
        cnp(
            "pass-example", .admin, priority: 10, subject: subject,
            ingress: [rule("deny-all-ingress-from-slytherin", ingress, [slytherin])],
            egress: [rule("deny-all-egress-to-slytherin", egress, [slytherin])]),
        cnp(
            "default", .baseline, priority: 10, subject: subject,
            ingress: [rule("deny-all-ingress-from-slytherin", .deny, [slytherin])],
            egress: [rule("deny-all-egress-to-slytherin", .deny, [slytherin])]),
    ]
}

private let integrationNetworkPolicy = NetworkPolicy(
    namespace: ConformanceModel.namespace("gryffindor"), name: "allow-gress-from-to-slytherin-to-gryffindor",
    podSelector: .everything, policyTypes: [.ingress, .egress],
    ingress: [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: houseLabel("slytherin"))])],
    egress: [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: houseLabel("slytherin"))])])

/// base/baseline_tier/standard-gress-rules-combined.yaml: the baseline `default` on gryffindor, with its
/// ravenclaw rules Accept-then-Deny (or swapped, `denyFirst`).
private func baselineGressRules(denyFirst: Bool = false) -> AdminNetworkPolicy {
    func ravenclaw(_ direction: String) -> [AdminPolicyRule] {
        let rules = [
            rule("allow-\(direction)-ravenclaw-everything", .allow, [.namespaces(house("ravenclaw"))]),
            rule("deny-\(direction)-ravenclaw-everything", .deny, [.namespaces(house("ravenclaw"))]),
        ]
        return denyFirst ? rules.reversed() : rules
    }
    return cnp(
        "default", .baseline, priority: 10, subject: .namespaces(house("gryffindor")),
        ingress: ravenclaw("from") + [
            rule(
                "deny-from-slytherin-at-port-80-53-9003", .deny, [.namespaces(house("slytherin"))],
                ports: [tcp80, udp53, sctp9003]),
            rule(
                "allow-from-hufflepuff-at-port-80-5353-9003", .allow, [.namespaces(house("hufflepuff"))],
                ports: [tcp80, .number(.udp, 5353), sctp9003]),
            rule("deny-from-hufflepuff-everything-else", .deny, [.namespaces(house("hufflepuff"))]),
        ],
        egress: ravenclaw("to") + [
            rule(
                "deny-to-slytherin-at-ports-80-53-9003", .deny, [.namespaces(house("slytherin"))],
                ports: [tcp80, udp53, sctp9003]),
            rule(
                "allow-to-hufflepuff-at-ports-8080-5353", .allow, [.namespaces(house("hufflepuff"))],
                ports: [.number(.tcp, 8080), .number(.udp, 5353), sctp9003]),
            rule("deny-to-hufflepuff-everything-else", .deny, [.namespaces(house("hufflepuff"))]),
        ])
}

extension ConformanceCase {
    /// The ClusterNetworkPolicy (v1alpha2) cases.
    static let v1alpha2: [ConformanceCase] = [
        // conformance/tests/admin-network-policy-standard-priority.go
        ConformanceCase(
            name: "CNPAdminTierPriorityField: Should Deny traffic from slytherin to gryffindor respecting admin CNP",
            adminPolicies: { _ in priorityField(passPriority: 60) }, fixture: "v1alpha2-priority-field.yaml",
            probes: [
                probe(draco0, harry0, .tcp, 80, .deniedByAdminIngress),
                probe(draco1, harry0, .tcp, 8080, .deniedByAdminIngress),
            ]),
        ConformanceCase(
            name: "CNPAdminTierPriorityField: Should Deny traffic to slytherin from gryffindor respecting admin CNP",
            adminPolicies: { _ in priorityField(passPriority: 60) },
            probes: [
                probe(harry0, draco0, .tcp, 80, .deniedByAdminEgress),
                probe(harry1, draco0, .tcp, 8080, .deniedByAdminEgress),
            ]),
        ConformanceCase(
            name: "CNPAdminTierPriorityField: Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP (priority 60 updated to 40)",
            adminPolicies: { _ in priorityField(passPriority: 40) },
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByBaseline), probe(draco1, harry0, .tcp, 8080, .allowedByBaseline),
                probe(harry0, draco0, .tcp, 80, .allowedByBaseline), probe(harry1, draco0, .tcp, 8080, .allowedByBaseline),
            ]),

        // conformance/tests/admin-network-policy-standard-integration.go
        ConformanceCase(
            name: "CNPIntegration: Should Deny traffic from slytherin to gryffindor respecting admin CNP (a NetworkPolicy cannot reopen an admin Deny)",
            adminPolicies: { _ in integration(ingress: .deny, egress: .deny) }, networkPolicies: [integrationNetworkPolicy],
            fixture: "v1alpha2-integration.yaml",
            probes: [
                probe(draco0, harry0, .tcp, 80, .deniedByAdminIngress),
                probe(draco1, harry0, .tcp, 8080, .deniedByAdminIngress),
                probe(harry0, draco0, .tcp, 80, .deniedByAdminEgress), probe(harry1, draco0, .tcp, 8080, .deniedByAdminEgress),
            ]),
        ConformanceCase(
            name: "CNPIntegration: Should support a 'pass-ingress' and 'pass-egress' policy for admin CNP and respect the match for network policy",
            adminPolicies: { _ in integration(ingress: .pass, egress: .pass) }, networkPolicies: [integrationNetworkPolicy],
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByPolicy), probe(draco1, harry0, .tcp, 8080, .allowedByPolicy),
                probe(harry0, draco0, .tcp, 80, .allowedByPolicy), probe(harry1, draco0, .tcp, 8080, .allowedByPolicy),
            ]),
        ConformanceCase(
            name: "CNPIntegration: Should support a 'pass-ingress' and 'pass-egress' policy for admin CNP and respect the match for baseline CNP (NetworkPolicy deleted)",
            adminPolicies: { _ in integration(ingress: .pass, egress: .pass) },
            probes: [
                probe(draco0, harry0, .tcp, 80, .deniedByBaselineIngress),
                probe(draco1, harry0, .tcp, 8080, .deniedByBaselineIngress),
                probe(harry0, draco0, .tcp, 80, .deniedByBaselineEgress),
                probe(harry1, draco0, .tcp, 8080, .deniedByBaselineEgress),
                probe(luna0, harry0, .tcp, 80, .notIsolated),
            ]),

        // conformance/tests/baseline-admin-network-policy-standard-gress-rules.go
        ConformanceCase(
            name: "CNPBaselineTierGress: Should support an 'allow-gress' policy across different protocols",
            adminPolicies: { _ in [baselineGressRules()] }, fixture: "v1alpha2-baseline-gress-rules.yaml",
            probes: [
                probe(harry0, luna0, .tcp, 80, .allowedByBaseline), probe(harry1, luna0, .udp, 53, .allowedByBaseline),
                probe(harry0, luna0, .sctp, 9003, .allowedByBaseline), probe(luna0, harry0, .tcp, 80, .allowedByBaseline),
                probe(luna1, harry0, .udp, 53, .allowedByBaseline), probe(luna1, harry0, .sctp, 9003, .allowedByBaseline),
            ]),
        ConformanceCase(
            name: "CNPBaselineTierGress: Should support an 'allow-gress' policy across different protocols at the specified ports",
            adminPolicies: { _ in [baselineGressRules()] },
            probes: [
                probe(harry0, cedric1, .tcp, 8080, .allowedByBaseline),
                probe(harry1, cedric1, .tcp, 80, .deniedByBaselineEgress),
                probe(harry0, cedric1, .udp, 5353, .allowedByBaseline),
                probe(harry1, cedric1, .udp, 53, .deniedByBaselineEgress),
                probe(harry0, cedric1, .sctp, 9003, .allowedByBaseline),
                probe(harry1, cedric1, .sctp, 9005, .deniedByBaselineEgress),
                probe(cedric0, harry1, .tcp, 80, .allowedByBaseline),
                probe(cedric1, harry1, .tcp, 8080, .deniedByBaselineIngress),
                probe(cedric0, harry1, .udp, 5353, .allowedByBaseline),
                probe(cedric1, harry1, .udp, 53, .deniedByBaselineIngress),
                probe(cedric0, harry1, .sctp, 9003, .allowedByBaseline),
                probe(cedric1, harry1, .sctp, 9005, .deniedByBaselineIngress),
            ]),
        ConformanceCase(
            name: "CNPBaselineTierGress: Should support an 'deny-gress' policy across different protocols (rules 0 and 1 swapped)",
            adminPolicies: { _ in [baselineGressRules(denyFirst: true)] },
            probes: [
                probe(harry0, luna1, .tcp, 80, .deniedByBaselineEgress),
                probe(harry1, luna1, .udp, 53, .deniedByBaselineEgress),
                probe(harry0, luna1, .sctp, 9003, .deniedByBaselineEgress),
                probe(luna0, harry1, .tcp, 80, .deniedByBaselineIngress),
                probe(luna1, harry1, .udp, 53, .deniedByBaselineIngress),
                probe(luna1, harry1, .sctp, 9003, .deniedByBaselineIngress),
            ]),
        ConformanceCase(
            name: "CNPBaselineTierGress: Should support a 'deny-gress' policy across different protocols at the specified ports",
            adminPolicies: { _ in [baselineGressRules(denyFirst: true)] },
            probes: [
                probe(harry0, draco0, .tcp, 80, .deniedByBaselineEgress), probe(harry1, draco0, .tcp, 8080, .notIsolated),
                probe(harry0, draco0, .udp, 53, .deniedByBaselineEgress), probe(harry1, draco0, .udp, 5353, .notIsolated),
                probe(harry0, draco0, .sctp, 9003, .deniedByBaselineEgress),
                probe(harry1, draco0, .sctp, 9005, .notIsolated),
                probe(draco0, harry0, .tcp, 80, .deniedByBaselineIngress), probe(draco1, harry0, .tcp, 8080, .notIsolated),
                probe(draco0, harry0, .udp, 53, .deniedByBaselineIngress), probe(draco1, harry0, .udp, 5353, .notIsolated),
                probe(draco0, harry0, .sctp, 9003, .deniedByBaselineIngress),
                probe(draco1, harry0, .sctp, 9005, .notIsolated),
            ]),

        // v1alpha2 semantics on the same model.
        ConformanceCase(
            name: "tollgate: a baseline Pass hands over to the default, past a later baseline Deny",
            adminPolicies: { _ in
                [
                    cnp(
                        "dev-passes", .baseline, priority: 5, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("pass-from-slytherin", .pass, [.namespaces(house("slytherin"))], ports: [tcp80])]),
                    cnp(
                        "deny-rest", .baseline, priority: 6, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("deny-from-slytherin", .deny, [.namespaces(house("slytherin"))])]),
                ]
            },
            fixture: "v1alpha2-baseline-pass.yaml",
            probes: [
                probe(draco0, harry0, .tcp, 80, .notIsolated), probe(draco0, harry0, .tcp, 8080, .deniedByBaselineIngress),
                probe(luna0, harry0, .tcp, 80, .notIsolated),
            ]),
        ConformanceCase(
            name: "tollgate: an admin Pass, then a baseline Pass, is allowed as passed by the admin tier",
            adminPolicies: { _ in
                [
                    cnp(
                        "admin-pass", .admin, priority: 1, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("pass-slytherin", .pass, [.namespaces(house("slytherin"))])]),
                    cnp(
                        "baseline-pass", .baseline, priority: 1, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("pass-slytherin", .pass, [.namespaces(house("slytherin"))])]),
                ]
            },
            probes: [probe(draco0, harry0, .tcp, 80, .passedByAdmin)]),
        ConformanceCase(
            name: "tollgate: AdminNetworkPolicy and admin ClusterNetworkPolicy share one priority scale",
            adminPolicies: { _ in
                [
                    AdminNetworkPolicy(
                        name: "anp-deny", priority: 20, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("deny-slytherin", .deny, [.namespaces(house("slytherin"))])]),
                    cnp(
                        "cnp-accept", .admin, priority: 10, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("accept-slytherin-80", .allow, [.namespaces(house("slytherin"))], ports: [tcp80])]),
                    // Same priority as the AdminNetworkPolicy: ties go by name, and "anp-deny" < "cnp-late".
                    cnp(
                        "cnp-late", .admin, priority: 20, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("accept-slytherin", .allow, [.namespaces(house("slytherin"))])]),
                ]
            },
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByAdmin), probe(draco0, harry0, .tcp, 8080, .deniedByAdminIngress),
            ]),
        ConformanceCase(
            name: "tollgate: the BaselineAdminNetworkPolicy comes after every baseline ClusterNetworkPolicy",
            adminPolicies: { _ in
                [
                    AdminNetworkPolicy(
                        kind: .baselineAdminNetworkPolicy, name: "default", subject: .namespaces(house("gryffindor")),
                        ingress: [rule("deny-slytherin", .deny, [.namespaces(house("slytherin"))])]),
                    cnp(
                        "late-accept", .baseline, priority: 1000, subject: .namespaces(house("gryffindor")),
                        ingress: [rule("accept-slytherin-80", .allow, [.namespaces(house("slytherin"))], ports: [tcp80])]),
                ]
            },
            probes: [
                probe(draco0, harry0, .tcp, 80, .allowedByBaseline),
                probe(draco0, harry0, .tcp, 8080, .deniedByBaselineIngress),
            ]),
        ConformanceCase(
            name: "tollgate: an Accept rule whose only peers were domainNames matches nothing",
            adminPolicies: { _ in
                [
                    cnp(
                        "egress-allowlist", .admin, priority: 1, subject: .namespaces(house("gryffindor")),
                        egress: [
                            rule("registry", .allow, []),
                            rule("deny-slytherin", .deny, [.namespaces(house("slytherin"))]),
                        ])
                ]
            },
            fixture: "v1alpha2-domain-names.yaml",
            probes: [probe(harry0, draco0, .tcp, 443, .deniedByAdminEgress), probe(harry0, luna0, .tcp, 443, .notIsolated)]),
    ]
}
