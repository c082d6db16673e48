import NetworkTypes

/// Decoding of `ClusterNetworkPolicy` (`policy.networking.k8s.io/v1alpha2`), validated field by field as the CRD
/// of kubernetes-sigs/network-policy-api (apis/v1alpha2/clusternetworkpolicy_types.go) does, into the same
/// `AdminNetworkPolicy` model as the v1alpha1 kinds:
///
/// - `spec.tier` (`Admin` or `Baseline`) and `spec.priority` (0 to 1000) are both required, in both tiers;
/// - actions are `Accept`, `Deny` and `Pass` (Accept is the model's `allow`; Pass in the baseline tier hands the
///   connection to the default, allowed);
/// - at most 25 rules per direction, 25 peers per rule, 25 protocol entries per rule, 25 CIDRs per `networks`;
/// - ports are `protocols: [{tcp|udp|sctp: {destinationPort: {number | range: {start, end}}}} |
///   {destinationNamedPort}]`;
/// - in `pods` peers and subjects `namespaceSelector` may be left out (every namespace);
/// - `domainNames` egress peers (experimental; allowed in Accept rules only) match no traffic: Tollgate does
///   not learn DNS answers, so such a peer fails closed as the API asks of peers an implementation cannot
///   match. A note says so.
extension ObjectDecoder {
    func decodeClusterNetworkPolicy(
        _ root: ManifestNode, prefix: String, name: String, notes: inout [String]
    ) -> ManifestObject? {
        let errorsBefore = errors.count
        guard let spec = mapping(root["spec"], prefix + "spec") else {
            fail(prefix + "spec", root, "is required")
            return nil
        }
        rejectUnknownFields(spec, prefix + "spec", known: ["tier", "priority", "subject", "ingress", "egress"])
        var tier: PolicyTier?
        if let text = string(spec["tier"], prefix + "spec.tier") {
            switch text {
            case "Admin": tier = .admin
            case "Baseline": tier = .baseline
            default: fail(prefix + "spec.tier", spec["tier"], "unknown tier \"\(text)\"; expected Admin or Baseline")
            }
        } else if spec["tier"] == nil || spec["tier"]?.isNull == true {
            fail(prefix + "spec.tier", spec, "is required (Admin or Baseline)")
        }
        let priority = adminPriority(spec, prefix: prefix)
        let dialect = AdminPolicyDialect.v1alpha2
        let subject = self.subject(
            spec["subject"], prefix + "spec.subject", parent: spec,
            namespaceSelectorOptional: dialect.namespaceSelectorOptional)
        let ingress = adminRules(spec["ingress"], prefix + "spec.ingress", ingress: true, dialect: dialect)
        let egress = adminRules(spec["egress"], prefix + "spec.egress", ingress: false, dialect: dialect)
        guard let subject, let tier, let priority, errors.count == errorsBefore else { return nil }
        for peerPath in ingress.domainPeers + egress.domainPeers {
            notes.append(
                "\(file): \(object.map { "\($0)" } ?? "ClusterNetworkPolicy"): \(peerPath): domainNames peers "
                    + "match no traffic (Tollgate does not resolve domain names); the rule's other peers apply")
        }
        return .adminNetworkPolicy(
            AdminNetworkPolicy(
                kind: .clusterNetworkPolicy, name: name, tier: tier, priority: priority, subject: subject,
                ingress: ingress.rules, egress: egress.rules))
    }

    /// A `protocols` entry: exactly one of tcp, udp, sctp (each with a required `destinationPort`) and
    /// destinationNamedPort.
    fileprivate func clusterProtocol(_ node: ManifestNode, _ path: String) -> AdminPolicyPort? {
        guard let (map, field) = exactlyOneField(node, path, of: ["tcp", "udp", "sctp", "destinationNamedPort"])
        else { return nil }
        let fieldPath = "\(path).\(field)"
        if field == "destinationNamedPort" {
            guard let name = string(map[field], fieldPath) else { return nil }
            if let problem = Validation.portNameProblem(name) {
                fail(fieldPath, map[field], problem)
                return nil
            }
            return .named(name)
        }
        let proto: TransportProtocol = field == "tcp" ? .tcp : field == "udp" ? .udp : .sctp
        guard let entry = mapping(map[field], fieldPath) else { return nil }
        rejectUnknownFields(entry, fieldPath, known: ["destinationPort"])
        let portPath = "\(fieldPath).destinationPort"
        guard let port = mapping(entry["destinationPort"], portPath) else {
            if entry["destinationPort"] == nil || entry["destinationPort"]?.isNull == true {
                fail(portPath, entry, "is required (number or range)")
            }
            return nil
        }
        rejectUnknownFields(port, portPath, known: ["number", "range"])
        let portFields = ["number", "range"].filter { port[$0].map { !$0.isNull } ?? false }
        guard portFields.count == 1 else {
            fail(
                portPath, port,
                portFields.isEmpty ? "must set one of number or range" : "must set exactly one of number or range, got number and range")
            return nil
        }
        if portFields[0] == "number" {
            return portValue(port["number"], "\(portPath).number", parent: port).map { .number(proto, $0) }
        }
        let rangePath = "\(portPath).range"
        guard let range = mapping(port["range"], rangePath) else { return nil }
        rejectUnknownFields(range, rangePath, known: ["start", "end"])
        let start = portValue(range["start"], "\(rangePath).start", parent: range)
        let end = portValue(range["end"], "\(rangePath).end", parent: range)
        guard let start, let end else { return nil }
        guard start < end else {
            fail("\(rangePath).end", range["end"], "must be greater than start (\(start)), got \(end)")
            return nil
        }
        return .range(proto, start, end)
    }
}

extension AdminPolicyDialect {
    /// The rules of ClusterNetworkPolicy (v1alpha2 CRD): actions Accept, Deny and Pass, `protocols`, 25 rules,
    /// peers, protocol entries, CIDRs and domain names; `namespaceSelector` optional.
    static let v1alpha2 = AdminPolicyDialect(
        kind: .clusterNetworkPolicy,
        actions: ActionSyntax(
            allowed: [.allow, .deny, .pass], missingMessage: "is required (Accept, Deny or Pass)",
            hints: ["Allow": "v1alpha2 calls it Accept"]),
        ports: PortSyntax(
            field: "protocols", entriesNoun: "entries", namedPortField: "destinationNamedPort",
            decode: { $0.clusterProtocol($1, $2) }),
        limits: Limits(rules: 25, peers: 25, ports: 25, networks: 25, domainNames: 25),
        namespaceSelectorOptional: true)
}
