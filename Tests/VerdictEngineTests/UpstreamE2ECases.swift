import NetworkTypes
import PolicyModel

// The cases of kubernetes/kubernetes `test/e2e/network/netpol/network_policy.go`, in its order, with its names.
// Upstream runs each case on a subset of the nine pods (x/a, x/b, y/a, ...); here every case runs on all nine, so
// an expectation upstream states for "every pod of the subset" is stated for every pod of the model. Where that
// changes the written form of an expectation, the comment says so.

private let nameKey = Namespace.nameLabel

/// `GenNetworkPolicyWithNameAndPodMatchLabel` / `...PodSelector` with `SetSpecIngressRules` and
/// `SetSpecEgressRules`: upstream always states `policyTypes` explicitly, and so does this helper.
private func policy(
    _ name: String, in namespace: String = "x", pods: [String: String] = [:], podSelector: LabelSelector? = nil,
    types: PolicyTypes, ingress: [NetworkPolicyRule] = [], egress: [NetworkPolicyRule] = []
) -> NetworkPolicy {
    NetworkPolicy(
        namespace: namespace, name: name, podSelector: podSelector ?? LabelSelector(matchLabels: pods),
        policyTypes: types, ingress: ingress, egress: egress)
}

private func labels(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }

private func expression(_ key: String, _ op: LabelSelectorRequirement.Operator, _ values: [String]) -> LabelSelector {
    LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)])
}

private func peer(pods: LabelSelector? = nil, namespaces: LabelSelector? = nil) -> NetworkPolicyPeer {
    .selector(pods: pods, namespaces: namespaces)
}

private func number(_ port: UInt16, _ proto: TransportProtocol = .tcp, end: UInt16? = nil) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: .number(port), endPort: end)
}

private func named(_ name: String, _ proto: TransportProtocol = .tcp) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: .name(name))
}

private func rule(_ peers: [NetworkPolicyPeer] = [], ports: [NetworkPolicyPort] = []) -> NetworkPolicyRule {
    NetworkPolicyRule(peers: peers, ports: ports)
}

private func step(
    namespaceLabels: [String: [String: String]] = [:], podLabels: [UpstreamModel.PodID: [String: String]] = [:],
    _ policies: @escaping @Sendable (UpstreamAddressing) throws -> [NetworkPolicy], probes: [UpstreamCase.Probe]
) -> UpstreamCase.Step {
    UpstreamCase.Step(namespaceLabels: namespaceLabels, podLabels: podLabels, policies: policies, probes: probes)
}

private func fixed(_ policies: [NetworkPolicy], probes: [UpstreamCase.Probe]) -> UpstreamCase.Step {
    step({ _ in policies }, probes: probes)
}

private typealias Probe = UpstreamCase.Probe
private let open = Reachability()
private let anyPod = Reachability.Peer.any

extension UpstreamCase {
    /// Every case, upstream's first.
    static let all: [UpstreamCase] = tcpCases + udpCases + sctpCases + tollgateCases

    // MARK: NetworkPolicy between server and client

    static let tcpCases: [UpstreamCase] = [
        UpstreamCase(
            name: "should support a 'default-deny-ingress' policy", origin: .upstream,
            fixture: "default-deny-ingress.yaml",
            steps: [
                fixed(
                    [policy("deny-ingress", types: .ingress)],
                    probes: [Probe(80, open.expectPeer(anyPod, .init(namespace: "x"), false))])
            ]),
        UpstreamCase(
            name: "should support a 'default-deny-all' policy", origin: .upstream, fixture: "default-deny-all.yaml",
            steps: [
                fixed(
                    [policy("deny-all", types: [.ingress, .egress])],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(anyPod, .init(namespace: "x"), false)
                                .expectPeer(.init(namespace: "x"), anyPod, false))
                    ])
            ]),
        UpstreamCase(
            name: "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
            origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "x-a-allows-x-b", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(pods: labels(["pod": "b"]))])])
                    ],
                    probes: [Probe(80, open.expectAllIngress("x/a", false).expect("x/b", "x/a", true))])
            ]),
        UpstreamCase(
            // Upstream's subset has x/a and x/b only; on the full model x/c is denied by deny-all as x/b is.
            name: "should enforce policy to allow ingress traffic for a target", origin: .upstream,
            fixture: "allow-ingress-for-target.yaml",
            steps: [
                fixed(
                    [
                        policy("deny-all", types: .ingress),
                        policy(
                            "allow-all-to-a", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(pods: .everything, namespaces: .everything)])]),
                    ],
                    probes: [Probe(80, open.expectPeer(anyPod, .init(namespace: "x"), false).expectAllIngress("x/a", true))])
            ]),
        UpstreamCase(
            name: "should enforce policy to allow ingress traffic from pods in all namespaces", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-from-another-ns", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: .everything)])])
                    ],
                    probes: [Probe(80, open)])
            ]),
        UpstreamCase(
            name: "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
            origin: .upstream, fixture: "allow-from-namespace-y.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-client-a-via-ns-selector", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: labels([nameKey: "y"]))])])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false))
                    ])
            ]),
        UpstreamCase(
            name: "should enforce policy based on PodSelector with MatchExpressions", origin: .upstream,
            fixture: "pod-selector-match-expressions.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "x-a-allows-x-b", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(pods: expression("pod", .in, ["b"]))])])
                    ],
                    probes: [Probe(80, open.expectAllIngress("x/a", false).expect("x/b", "x/a", true))])
            ]),
        UpstreamCase(
            name: "should enforce policy based on NamespaceSelector with MatchExpressions", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-match-selector", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: expression(nameKey, .in, ["y"]))])])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false))
                    ])
            ]),
        UpstreamCase(
            name: "should enforce policy based on PodSelector or NamespaceSelector", origin: .upstream,
            fixture: "pod-selector-or-namespace-selector.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-match-selector", pods: ["pod": "a"], types: .ingress,
                            ingress: [
                                rule([
                                    peer(namespaces: expression(nameKey, .notIn, ["x"])),
                                    peer(pods: labels(["pod": "b"])),
                                ])
                            ])
                    ],
                    probes: [Probe(80, open.expect("x/a", "x/a", false).expect("x/c", "x/a", false))])
            ]),
        UpstreamCase(
            name: "should enforce policy based on PodSelector and NamespaceSelector", origin: .upstream,
            fixture: "pod-selector-and-namespace-selector.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-podselector-and-nsselector", pods: ["pod": "a"], types: .ingress,
                            ingress: [
                                rule([
                                    peer(pods: labels(["pod": "b"]), namespaces: expression(nameKey, .notIn, ["x"]))
                                ])
                            ])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectAllIngress("x/a", false).expect("y/b", "x/a", true).expect("z/b", "x/a", true))
                    ])
            ]),
        UpstreamCase(
            // Upstream's subset lacks z/*: on the full model z/a is denied and z/b, z/c are allowed, as in y.
            name: "should enforce policy based on Multiple PodSelectors and NamespaceSelectors", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-z-pod-b-c", pods: ["pod": "a"], types: .ingress,
                            ingress: [
                                rule([
                                    peer(
                                        pods: expression("pod", .in, ["b", "c"]),
                                        namespaces: expression(nameKey, .notIn, ["x"]))
                                ])
                            ])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expect("y/a", "x/a", false).expect("z/a", "x/a", false))
                    ])
            ]),
        UpstreamCase(
            name: "should enforce policy based on any PodSelectors", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-x-pod-b-c", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(pods: labels(["pod": "b"])), peer(pods: labels(["pod": "c"]))])])
                    ],
                    probes: [
                        Probe(
                            80, open.expectAllIngress("x/a", false).expect("x/b", "x/a", true).expect("x/c", "x/a", true))
                    ])
            ]),
        UpstreamCase(
            name:
                "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
            origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-pod-a-via-namespace-pod-selector", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(pods: labels(["pod": "a"]), namespaces: labels([nameKey: "y"]))])])
                    ],
                    probes: [Probe(80, open.expectAllIngress("x/a", false).expect("y/a", "x/a", true))])
            ]),
        UpstreamCase(
            name: "should enforce policy based on Ports", origin: .upstream, fixture: "ports.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-client-a-via-ns-selector", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: labels([nameKey: "y"]))], ports: [number(81)])])
                    ],
                    probes: [
                        Probe(
                            81,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expectPeer(.init(namespace: "y"), .init(namespace: "x", pod: "a"), true)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false)),
                        // Not probed upstream: the other port is closed to everyone.
                        Probe(80, open.expectAllIngress("x/a", false)),
                    ])
            ]),
        UpstreamCase(
            name: "should enforce multiple, stacked policies with overlapping podSelectors", origin: .upstream,
            steps: {
                let allow81 = policy(
                    "allow-client-a-via-ns-selector", pods: ["pod": "a"], types: .ingress,
                    ingress: [rule([peer(namespaces: labels([nameKey: "y"]))], ports: [number(81)])])
                let allow80 = policy(
                    "allow-client-a-via-ns-selector-80", pods: ["pod": "a"], types: .ingress,
                    ingress: [rule([peer(namespaces: labels([nameKey: "y"]))], ports: [number(80)])])
                let allowed = open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                    .expectPeer(.init(namespace: "y"), .init(namespace: "x", pod: "a"), true)
                    .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false)
                return [
                    fixed([allow81], probes: [Probe(81, allowed), Probe(80, open.expectAllIngress("x/a", false))]),
                    fixed([allow81, allow80], probes: [Probe(80, allowed), Probe(81, allowed)]),
                ]
            }()),
        UpstreamCase(
            name: "should support allow-all policy", origin: .upstream, fixture: "allow-all.yaml",
            steps: [
                fixed(
                    [policy("allow-all", types: .ingress, ingress: [rule()])],
                    probes: [Probe(80, open), Probe(81, open)])
            ]),
        UpstreamCase(
            name: "should allow ingress access on one named port", origin: .upstream,
            fixture: "ingress-named-port.yaml",
            steps: [
                fixed(
                    [policy("allow-all", types: .ingress, ingress: [rule(ports: [named("serve-81-tcp")])])],
                    probes: [Probe(81, open), Probe(80, open.expectPeer(anyPod, .init(namespace: "x"), false))])
            ]),
        UpstreamCase(
            name: "should allow ingress access from namespace on one named port", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-client-a-via-ns-selector-80", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: labels([nameKey: "y"]))], ports: [named("serve-80-tcp")])])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false)),
                        Probe(81, open.expectAllIngress("x/a", false)),
                    ])
            ]),
        UpstreamCase(
            name: "should allow egress access on one named port", origin: .upstream, fixture: "egress-named-port.yaml",
            steps: [
                fixed(
                    [policy("allow-egress", types: .egress, egress: [rule(ports: [named("serve-80-tcp")])])],
                    probes: [Probe(80, open), Probe(81, open.expectPeer(.init(namespace: "x"), anyPod, false))])
            ]),
        UpstreamCase(
            name: "should enforce updated policy", origin: .upstream,
            steps: [
                fixed(
                    [policy("allow-all-mutate-to-deny-all", types: .ingress, ingress: [rule()])],
                    probes: [Probe(81, open)]),
                fixed(
                    [policy("allow-all-mutate-to-deny-all", types: .ingress)],
                    probes: [Probe(81, open.expectPeer(anyPod, .init(namespace: "x"), false))]),
            ]),
        UpstreamCase(
            name: "should allow ingress access from updated namespace", origin: .upstream,
            steps: {
                let policies = [
                    policy(
                        "allow-client-a-via-ns-selector", pods: ["pod": "a"], types: .ingress,
                        ingress: [rule([peer(namespaces: labels(["ns2": "updated"]))])])
                ]
                return [
                    fixed(policies, probes: [Probe(80, open.expectAllIngress("x/a", false))]),
                    step(
                        namespaceLabels: ["y": ["ns2": "updated"]], { _ in policies },
                        probes: [
                            Probe(80, open.expectAllIngress("x/a", false).expectPeer(.init(namespace: "y"), anyPod, true))
                        ]),
                ]
            }()),
        UpstreamCase(
            name: "should allow ingress access from updated pod", origin: .upstream,
            steps: {
                let policies = [
                    policy(
                        "allow-client-a-via-pod-selector", pods: ["pod": "a"], types: .ingress,
                        ingress: [rule([peer(pods: labels(["pod": "b", "pod2": "updated"]))])])
                ]
                return [
                    fixed(policies, probes: [Probe(80, open.expectAllIngress("x/a", false))]),
                    step(
                        podLabels: [.init(namespace: "x", name: "b"): ["pod2": "updated"]], { _ in policies },
                        probes: [Probe(80, open.expectAllIngress("x/a", false).expect("x/b", "x/a", true))]),
                ]
            }()),
        UpstreamCase(
            name: "should deny ingress from pods on other namespaces", origin: .upstream,
            fixture: "deny-ingress-from-other-namespaces.yaml",
            steps: [
                fixed(
                    [policy("deny-empty-policy", types: .ingress, ingress: [rule([peer(pods: .everything)])])],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "y"), .init(namespace: "x"), false)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x"), false))
                    ])
            ]),
        UpstreamCase(
            name: "should deny ingress access to updated pod", origin: .upstream,
            steps: {
                let policies = [
                    policy("deny-ingress-via-label-selector", pods: ["target": "isolated"], types: .ingress)
                ]
                return [
                    fixed(policies, probes: [Probe(80, open)]),
                    step(
                        podLabels: [.init(namespace: "x", name: "a"): ["target": "isolated"]], { _ in policies },
                        probes: [Probe(80, open.expectAllIngress("x/a", false))]),
                ]
            }()),
        UpstreamCase(
            name: "should deny egress from pods based on PodSelector", origin: .upstream,
            steps: [
                fixed(
                    [policy("deny-egress-pod-a", pods: ["pod": "a"], types: .egress)],
                    probes: [Probe(80, open.expectAllEgress("x/a", false))])
            ]),
        UpstreamCase(
            name: "should deny egress from all pods in a namespace", origin: .upstream, fixture: "deny-egress-ns-x.yaml",
            steps: [
                fixed(
                    [policy("deny-egress-ns-x", types: .egress)],
                    probes: [Probe(80, open.expectPeer(.init(namespace: "x"), anyPod, false))])
            ]),
        UpstreamCase(
            name: "should work with Ingress, Egress specified together", origin: .upstream,
            fixture: "ingress-egress-together.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-client-a-via-pod-selector", pods: ["pod": "a"], types: [.ingress, .egress],
                            ingress: [rule([peer(pods: labels(["pod": "b"]))])], egress: [rule(ports: [number(80)])])
                    ],
                    probes: [
                        Probe(80, open.expectAllIngress("x/a", false).expect("x/b", "x/a", true)),
                        Probe(
                            81,
                            open.expectAllIngress("x/a", false).expectAllEgress("x/a", false).expect("x/b", "x/a", true)),
                    ])
            ]),
        UpstreamCase(
            name:
                "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
            origin: .upstream,
            steps: {
                let toYA = rule([peer(pods: labels(["pod": "a"]), namespaces: labels([nameKey: "y"]))])
                let fromXA = rule([peer(pods: labels(["pod": "a"]), namespaces: labels([nameKey: "x"]))])
                return [
                    fixed(
                        [
                            policy("allow-to-ns-y-pod-a", pods: ["pod": "a"], types: .egress, egress: [toYA]),
                            policy(
                                "allow-from-xa-on-ya-match-selector", in: "y", pods: ["pod": "a"], types: .ingress,
                                ingress: [fromXA]),
                            policy(
                                "allow-from-xa-on-yb-match-selector", in: "y", pods: ["pod": "b"], types: .ingress,
                                ingress: [fromXA]),
                        ],
                        probes: [
                            Probe(
                                80,
                                open.expectPeer(.init(namespace: "x", pod: "a"), anyPod, false)
                                    .expectPeer(anyPod, .init(namespace: "y", pod: "a"), false)
                                    .expectPeer(.init(namespace: "x", pod: "a"), .init(namespace: "y", pod: "a"), true)
                                    .expectPeer(anyPod, .init(namespace: "y", pod: "b"), false))
                        ])
                ]
            }()),
        UpstreamCase(
            name:
                "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
            origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-to-ns-y-pod-a", pods: ["pod": "a"], types: .egress,
                            egress: [rule([peer(pods: labels(["pod": "a"]), namespaces: labels([nameKey: "y"]))])])
                    ],
                    probes: [Probe(80, open.expectAllEgress("x/a", false).expect("x/a", "y/a", true))])
            ]),
        UpstreamCase(
            name: "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
            origin: .upstream, fixture: "ingress-by-protocol.json",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ingress-by-proto", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [NetworkPolicyPort(protocol: .tcp)])])
                    ],
                    probes: [
                        Probe(80, .tcp, open),
                        Probe(80, .udp, open.expectPeer(anyPod, .init(namespace: "x", pod: "a"), false)),
                    ])
            ]),
        UpstreamCase(
            name: "should enforce multiple ingress policies with ingress allow-all policy taking precedence",
            origin: .upstream,
            steps: {
                let only80 = policy("allow-ingress-port-80", types: .ingress, ingress: [rule(ports: [number(80)])])
                return [
                    fixed([only80], probes: [Probe(81, open.expectPeer(anyPod, .init(namespace: "x"), false))]),
                    fixed(
                        [only80, policy("allow-ingress", types: .ingress, ingress: [rule()])], probes: [Probe(81, open)]),
                ]
            }()),
        UpstreamCase(
            name: "should enforce multiple egress policies with egress allow-all policy taking precedence",
            origin: .upstream,
            steps: {
                let only80 = policy("allow-egress-port-80", types: .egress, egress: [rule(ports: [number(80)])])
                return [
                    fixed([only80], probes: [Probe(81, open.expectPeer(.init(namespace: "x"), anyPod, false))]),
                    fixed([only80, policy("allow-egress", types: .egress, egress: [rule()])], probes: [Probe(81, open)]),
                ]
            }()),
        UpstreamCase(
            name: "should stop enforcing policies after they are deleted", origin: .upstream,
            steps: [
                fixed(
                    [policy("deny-all", types: [.ingress, .egress])],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), anyPod, false)
                                .expectPeer(anyPod, .init(namespace: "x"), false))
                    ]),
                fixed([], probes: [Probe(80, open)]),
            ]),
        UpstreamCase(
            name: "should allow egress access to server in CIDR block", origin: .upstream,
            fixture: "egress-cidr-block.yaml",
            steps: [
                step(
                    { addressing in
                        [
                            policy(
                                "allow-client-a-via-cidr-egress-rule", pods: ["pod": "a"], types: .egress,
                                egress: [rule([.ipBlock(IPBlock(cidr: addressing.host("y", "b")))])])
                        ]
                    }, probes: [Probe(80, open.expectAllEgress("x/a", false).expect("x/a", "y/b", true))])
            ]),
        UpstreamCase(
            name: "should enforce except clause while egress access to server in CIDR block", origin: .upstream,
            fixture: "egress-cidr-except.yaml",
            steps: [
                step(
                    { addressing in
                        [
                            policy(
                                "allow-client-a-via-cidr-egress-rule", pods: ["pod": "a"], types: .egress,
                                egress: [
                                    rule([
                                        .ipBlock(
                                            IPBlock(
                                                cidr: try addressing.large("x", "b"), except: [addressing.host("x", "b")]))
                                    ])
                                ])
                        ]
                    }, probes: [Probe(80, open.expect("x/a", "x/b", false))])
            ]),
        UpstreamCase(
            // Upstream's second step updates the policy of the same name, replacing it; a third step (not upstream)
            // keeps both policies, so that x/b is in one policy's except and in the other's cidr: allowed.
            name: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed", origin: .upstream,
            steps: {
                let name = "allow-client-a-via-cidr-egress-rule"
                let exceptB: @Sendable (UpstreamAddressing) throws -> NetworkPolicy = { addressing in
                    policy(
                        name, pods: ["pod": "a"], types: .egress,
                        egress: [
                            rule([
                                .ipBlock(IPBlock(cidr: try addressing.large("x", "b"), except: [addressing.host("x", "b")]))
                            ])
                        ])
                }
                let onlyB: @Sendable (UpstreamAddressing) -> NetworkPolicy = { addressing in
                    policy(
                        name, pods: ["pod": "a"], types: .egress,
                        egress: [rule([.ipBlock(IPBlock(cidr: addressing.host("x", "b")))])])
                }
                let onlyBSecond: @Sendable (UpstreamAddressing) -> NetworkPolicy = { addressing in
                    policy(
                        "allow-client-a-to-x-b", pods: ["pod": "a"], types: .egress,
                        egress: [rule([.ipBlock(IPBlock(cidr: addressing.host("x", "b")))])])
                }
                return [
                    step({ [try exceptB($0)] }, probes: [Probe(80, open.expect("x/a", "x/b", false))]),
                    step(
                        { [onlyB($0)] },
                        probes: [Probe(80, open.expectAllEgress("x/a", false).expect("x/a", "x/b", true))]),
                    step({ [try exceptB($0), onlyBSecond($0)] }, probes: [Probe(80, open)]),
                ]
            }()),
        UpstreamCase(
            name:
                "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
            origin: .upstream,
            steps: {
                let allowEgress = policy("allow-egress-for-target", pods: ["pod": "a"], types: .egress, egress: [rule()])
                return [
                    fixed([allowEgress], probes: [Probe(80, open)]),
                    fixed(
                        [allowEgress, policy("deny-ingress-via-label-selector", pods: ["pod": "a"], types: .ingress)],
                        probes: [Probe(80, open.expectAllIngress("x/a", false))]),
                ]
            }()),
        UpstreamCase(
            name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
            origin: .upstream, fixture: "sctp-not-tcp.yaml",
            steps: [
                fixed(
                    [
                        policy("deny-ingress", types: .ingress),
                        policy(
                            "allow-only-sctp-ingress-on-port-81", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [number(81, .sctp)])]),
                    ],
                    probes: [
                        Probe(81, .tcp, open.expectPeer(anyPod, .init(namespace: "x"), false)),
                        // Not probed upstream (its clusters may lack SCTP): SCTP 81 reaches x/a only.
                        Probe(
                            81, .sctp, open.expectPeer(anyPod, .init(namespace: "x"), false).expectAllIngress("x/a", true)),
                    ])
            ]),
        UpstreamCase(
            name:
                "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
            origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-only-sctp-ingress-on-port-80", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [number(80, .sctp)])])
                    ],
                    probes: [Probe(81, .tcp, open.expectAllIngress("x/a", false)), Probe(80, .sctp, open)])
            ]),
        UpstreamCase(
            name: "should not allow access by TCP when a policy specifies only UDP", origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-only-udp-ingress-on-port-81", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [number(81, .udp)])])
                    ],
                    probes: [Probe(81, .tcp, open.expectAllIngress("x/a", false)), Probe(81, .udp, open)])
            ]),
        UpstreamCase(
            name:
                "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
            origin: .upstream,
            steps: [
                fixed(
                    [
                        policy(
                            "allow-client-a-via-ns-selector-for-immutable-ns-label", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: labels([nameKey: "y"]))])])
                    ],
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false))
                    ])
            ]),
        UpstreamCase(
            name: "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
            origin: .upstream, fixture: "egress-namespace-not-in.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-ns-y-match-selector-for-immutable-ns-label", pods: ["pod": "a"], types: .egress,
                            egress: [rule([peer(namespaces: expression(nameKey, .notIn, ["y"]))])])
                    ],
                    probes: [Probe(80, open.expectPeer(.init(namespace: "x", pod: "a"), .init(namespace: "y"), false))])
            ]),
    ]

    // MARK: NetworkPolicy between server and client using UDP, and using SCTP

    static let udpCases: [UpstreamCase] = transportCases(.udp, origin: .upstreamUDP)
    static let sctpCases: [UpstreamCase] = transportCases(.sctp, origin: .upstreamSCTP)

    /// The three cases upstream repeats for UDP and for SCTP.
    private static func transportCases(_ proto: TransportProtocol, origin: Origin) -> [UpstreamCase] {
        [
            UpstreamCase(
                name: "should support a 'default-deny-ingress' policy", origin: origin,
                steps: [
                    fixed(
                        [policy("deny-all", types: .ingress)],
                        probes: [
                            Probe(80, proto, open.expectPeer(anyPod, .init(namespace: "x"), false)),
                            // Not probed upstream: every port is closed, and so is TCP.
                            Probe(81, proto, open.expectPeer(anyPod, .init(namespace: "x"), false)),
                            Probe(80, .tcp, open.expectPeer(anyPod, .init(namespace: "x"), false)),
                        ])
                ]),
            UpstreamCase(
                name: "should enforce policy based on Ports", origin: origin,
                steps: [
                    fixed(
                        [
                            policy(
                                "allow-ingress-on-port-81-ns-x", pods: ["pod": "a"], types: .ingress,
                                ingress: [rule([peer(namespaces: labels([nameKey: "y"]))], ports: [number(81, proto)])])
                        ],
                        probes: [
                            Probe(
                                81, proto,
                                open.expectPeer(.init(namespace: "x"), .init(namespace: "x", pod: "a"), false)
                                    .expectPeer(.init(namespace: "z"), .init(namespace: "x", pod: "a"), false)),
                            // Not probed upstream: the same port over TCP is not allowed.
                            Probe(81, .tcp, open.expectAllIngress("x/a", false)),
                        ])
                ]),
            UpstreamCase(
                name:
                    "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
                origin: origin,
                steps: [
                    fixed(
                        [
                            policy(
                                "allow-ns-y-pod-a-via-namespace-pod-selector", pods: ["pod": "a"], types: .ingress,
                                ingress: [rule([peer(pods: labels(["pod": "a"]), namespaces: labels([nameKey: "y"]))])])
                        ],
                        probes: [Probe(80, proto, open.expectAllIngress("x/a", false).expect("y/a", "x/a", true))])
                ]),
        ]
    }

    // MARK: Tollgate cases on the upstream model

    static let tollgateCases: [UpstreamCase] = [
        UpstreamCase(
            name: "endPort: a TCP range 80-81 from namespace y, edges and neighbours", origin: .tollgate,
            fixture: "end-port-range.yaml",
            steps: [
                fixed(
                    [
                        policy(
                            "allow-y-80-81", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule([peer(namespaces: labels(["ns": "y"]))], ports: [number(80, end: 81)])])
                    ],
                    probes: {
                        let open = open.expectAllIngress("x/a", false).expectPeer(
                            .init(namespace: "y"), .init(namespace: "x", pod: "a"), true)
                        let closed = open.expectAllIngress("x/a", false)
                        return [
                            Probe(79, closed), Probe(80, open), Probe(81, open), Probe(82, closed),
                            Probe(80, .udp, closed),
                        ]
                    }())
            ]),
        UpstreamCase(
            name: "endPort: an egress UDP range of one port", origin: .tollgate,
            steps: [
                fixed(
                    [policy("egress-udp-81", types: .egress, egress: [rule(ports: [number(81, .udp, end: 81)])])],
                    probes: [
                        Probe(81, .udp, open),
                        Probe(80, .udp, open.expectPeer(.init(namespace: "x"), anyPod, false)),
                        Probe(81, .tcp, open.expectPeer(.init(namespace: "x"), anyPod, false)),
                    ])
            ]),
        UpstreamCase(
            name: "named port over UDP matches UDP only", origin: .tollgate,
            steps: [
                fixed(
                    [
                        policy(
                            "udp-named", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [named("serve-81-udp", .udp)])])
                    ],
                    probes: [
                        Probe(81, .udp, open), Probe(80, .udp, open.expectAllIngress("x/a", false)),
                        Probe(81, .tcp, open.expectAllIngress("x/a", false)),
                    ])
            ]),
        UpstreamCase(
            name: "a named port whose name exists only for another protocol matches nothing", origin: .tollgate,
            steps: [
                fixed(
                    [
                        policy(
                            "wrong-protocol-name", pods: ["pod": "a"], types: .ingress,
                            ingress: [rule(ports: [named("serve-80-udp", .tcp)])])
                    ],
                    probes: [
                        Probe(80, .tcp, open.expectAllIngress("x/a", false)),
                        Probe(80, .udp, open.expectAllIngress("x/a", false)),
                    ])
            ]),
        UpstreamCase(
            name: "egress named port over SCTP resolves against each destination pod", origin: .tollgate,
            steps: [
                fixed(
                    [
                        policy(
                            "egress-sctp-named", pods: ["pod": "a"], types: .egress,
                            egress: [rule(ports: [named("serve-81-sctp", .sctp)])])
                    ],
                    probes: [
                        Probe(81, .sctp, open), Probe(80, .sctp, open.expectAllEgress("x/a", false)),
                        Probe(81, .tcp, open.expectAllEgress("x/a", false)),
                    ])
            ]),
        UpstreamCase(
            name: "ingress from an ipBlock holding one pod's address", origin: .tollgate,
            steps: [
                step(
                    { addressing in
                        [
                            policy(
                                "from-x-a-only", in: "y", types: .ingress,
                                ingress: [rule([.ipBlock(IPBlock(cidr: addressing.host("x", "a")))])])
                        ]
                    },
                    probes: [
                        Probe(
                            80,
                            open.expectPeer(anyPod, .init(namespace: "y"), false)
                                .expectPeer(.init(namespace: "x", pod: "a"), .init(namespace: "y"), true))
                    ])
            ]),
        UpstreamCase(
            name: "matchExpressions Exists and DoesNotExist on pod labels", origin: .tollgate,
            steps: [
                step(
                    podLabels: [
                        .init(namespace: "y", name: "b"): ["tier": "web"], .init(namespace: "z", name: "c"): ["tier": "db"],
                    ],
                    { _ in
                        [
                            policy(
                                "tier-exists", pods: ["pod": "a"], types: .ingress,
                                ingress: [rule([peer(pods: expression("tier", .exists, []), namespaces: .everything)])]),
                            policy(
                                "no-tier-on-b", in: "y", pods: ["pod": "b"], types: .ingress,
                                ingress: [rule([peer(pods: expression("tier", .doesNotExist, []))])]),
                        ]
                    },
                    probes: [
                        Probe(
                            80,
                            open.expectAllIngress("x/a", false).expect("y/b", "x/a", true).expect("z/c", "x/a", true)
                                .expectAllIngress("y/b", false).expect("y/a", "y/b", true).expect("y/c", "y/b", true))
                    ])
            ]),
    ]
}
