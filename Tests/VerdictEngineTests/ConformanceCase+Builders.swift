import NetworkTypes
import PolicyModel
import VerdictEngine

// What the v1alpha1 (`ConformanceCase.all`) and v1alpha2 (`ConformanceCase.v1alpha2`) tables share: the model's
// pods by name, its selectors, rules, probes, ports, and the NetworkPolicy of the upstream integration tests.
// Static members of `ConformanceCase`, so that each table and its builders use them unqualified.
extension ConformanceCase {
    typealias PodRef = ConformanceModel.PodRef

    /// A pod of the model by house and ordinal.
    static func pod(_ house: String, _ ordinal: Int) -> PodRef { PodRef(house: house, ordinal: ordinal) }
    static let harry0 = pod("gryffindor", 0)
    static let harry1 = pod("gryffindor", 1)
    static let draco0 = pod("slytherin", 0)
    static let draco1 = pod("slytherin", 1)
    static let cedric0 = pod("hufflepuff", 0)
    static let cedric1 = pod("hufflepuff", 1)
    static let luna0 = pod("ravenclaw", 0)
    static let luna1 = pod("ravenclaw", 1)
    /// centaur-0: host-network, on kind-worker.
    static let centaur0 = pod("forbidden-forrest", 0)

    /// `kubernetes.io/metadata.name: network-policy-conformance-<house>`, as most upstream policies select.
    static func house(_ name: String) -> LabelSelector {
        LabelSelector(matchLabels: [Namespace.nameLabel: ConformanceModel.namespace(name)])
    }

    /// `conformance-house: <house>`, as the integration policies select (namespaces and pods both carry it).
    static func houseLabel(_ name: String) -> LabelSelector { LabelSelector(matchLabels: ["conformance-house": name]) }

    /// A named rule; `ports` nil matches every port.
    static func rule(
        _ name: String, _ action: AdminPolicyAction, _ peers: [AdminPolicyPeer], ports: [AdminPolicyPort]? = nil
    ) -> AdminPolicyRule {
        AdminPolicyRule(name: name, action: action, peers: peers, ports: ports)
    }

    /// A probe from one pod of the model to another.
    static func probe(
        _ from: PodRef, _ to: PodRef, _ proto: TransportProtocol, _ port: UInt16, _ expected: VerdictReason
    ) -> Probe {
        Probe(from: from, to: .pod(to), protocol: proto, port: port, expected: expected)
    }

    static let tcp80 = AdminPolicyPort.number(.tcp, 80)
    static let udp53 = AdminPolicyPort.number(.udp, 53)
    static let sctp9003 = AdminPolicyPort.number(.sctp, 9003)

    /// The NetworkPolicy of base/api_integration (core-anp-np-banp.yaml, standard-anp-np-banp.yaml): gryffindor
    /// isolated for both directions, open to and from slytherin.
    static let integrationNetworkPolicy = NetworkPolicy(
        namespace: ConformanceModel.namespace("gryffindor"), name: "allow-gress-from-to-slytherin-to-gryffindor",
        podSelector: .everything, policyTypes: [.ingress, .egress],
        ingress: [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: houseLabel("slytherin"))])],
        egress: [NetworkPolicyRule(peers: [.selector(pods: nil, namespaces: houseLabel("slytherin"))])])
}
