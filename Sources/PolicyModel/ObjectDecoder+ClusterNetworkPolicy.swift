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
    /// The limits the v1alpha2 CRD sets.
    private enum ClusterLimits {
        static let priority = 0...1000
        static let rules = 25
        static let peers = 25
        static let protocols = 25
        static let networks = 25
        static let domainNames = 25
        static let ruleName = 100
    }

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
        var priority: Int?
        if let value = integer(spec["priority"], prefix + "spec.priority") {
            if ClusterLimits.priority.contains(value) {
                priority = value
            } else {
                fail(prefix + "spec.priority", spec["priority"], "must be between 0 and 1000, got \(value)")
            }
        } else if spec["priority"] == nil || spec["priority"]?.isNull == true {
            fail(prefix + "spec.priority", spec, "is required (0 to 1000; a lower number takes precedence)")
        }
        let subject = self.subject(
            spec["subject"], prefix + "spec.subject", parent: spec, namespaceSelectorOptional: true)
        var domainNotes: [String] = []
        let ingress = clusterRules(spec["ingress"], prefix + "spec.ingress", ingress: true, notes: &domainNotes)
        let egress = clusterRules(spec["egress"], prefix + "spec.egress", ingress: false, notes: &domainNotes)
        guard let subject, let tier, let priority, errors.count == errorsBefore else { return nil }
        notes += domainNotes
        return .adminNetworkPolicy(
            AdminNetworkPolicy(
                kind: .clusterNetworkPolicy, name: name, tier: tier, priority: priority, subject: subject,
                ingress: ingress, egress: egress))
    }

    private func clusterRules(
        _ node: ManifestNode?, _ path: String, ingress: Bool, notes: inout [String]
    ) -> [AdminPolicyRule] {
        let items = sequence(node, path)
        if items.count > ClusterLimits.rules {
            fail(path, node, "must have at most \(ClusterLimits.rules) rules, got \(items.count)")
        }
        let peerField = ingress ? "from" : "to"
        var result: [AdminPolicyRule] = []
        for (index, item) in items.enumerated() {
            let rulePath = "\(path)[\(index)]"
            guard let rule = mapping(item, rulePath) else {
                if item.isNull { fail(rulePath, item, "must be a rule with action and \(peerField)") }
                continue
            }
            rejectUnknownFields(rule, rulePath, known: ["name", "action", peerField, "protocols"])
            let before = errors.count
            let name = string(rule["name"], "\(rulePath).name") ?? ""
            if name.count > ClusterLimits.ruleName {
                fail(
                    "\(rulePath).name", rule["name"],
                    "must be at most \(ClusterLimits.ruleName) characters, got \(name.count)")
            }
            var action: AdminPolicyAction?
            if let text = string(rule["action"], "\(rulePath).action") {
                action = AdminPolicyAction(name: text, in: .clusterNetworkPolicy)
                if action == nil {
                    let hint = text == "Allow" ? " (v1alpha2 calls it Accept)" : ""
                    fail("\(rulePath).action", rule["action"], "unknown action \"\(text)\"; expected Accept, Deny or Pass\(hint)")
                }
            } else if rule["action"] == nil || rule["action"]?.isNull == true {
                fail("\(rulePath).action", rule, "is required (Accept, Deny or Pass)")
            }
            let peerNodes = sequence(rule[peerField], "\(rulePath).\(peerField)")
            if peerNodes.isEmpty {
                fail("\(rulePath).\(peerField)", rule[peerField] ?? rule, "must list at least one peer")
            } else if peerNodes.count > ClusterLimits.peers {
                fail(
                    "\(rulePath).\(peerField)", rule[peerField],
                    "must list at most \(ClusterLimits.peers) peers, got \(peerNodes.count)")
            }
            var peers: [AdminPolicyPeer] = []
            var domainPeers: [String] = []
            for (peerIndex, peerNode) in peerNodes.enumerated() {
                let peerPath = "\(rulePath).\(peerField)[\(peerIndex)]"
                switch clusterPeer(peerNode, peerPath, ingress: ingress) {
                case .peer(let peer)?: peers.append(peer)
                case .domainNames?: domainPeers.append(peerPath)
                case nil: break
                }
            }
            if !domainPeers.isEmpty, let action, action != .allow {
                fail(
                    "\(rulePath).action", rule["action"],
                    "domainNames peers are allowed only in Accept rules, got \(action.name(in: .clusterNetworkPolicy))")
            }
            var ports: [AdminPolicyPort]?
            if let protocolsNode = rule["protocols"], !protocolsNode.isNull {
                let entries = sequence(protocolsNode, "\(rulePath).protocols")
                if case .sequence = protocolsNode, entries.isEmpty || entries.count > ClusterLimits.protocols {
                    fail(
                        "\(rulePath).protocols", protocolsNode,
                        "must list 1 to \(ClusterLimits.protocols) entries, got \(entries.count)")
                }
                var list: [AdminPolicyPort] = []
                for (entryIndex, entry) in entries.enumerated() {
                    if let port = clusterProtocol(entry, "\(rulePath).protocols[\(entryIndex)]") { list.append(port) }
                }
                ports = list
            }
            // The v1alpha2 CEL rule: nodes, networks and domainNames peers have no named ports.
            let hasNamed = ports?.contains { if case .named = $0 { return true } else { return false } } ?? false
            let hasAddressPeer =
                !domainPeers.isEmpty
                || peers.contains {
                    switch $0 {
                    case .nodes, .networks: return true
                    default: return false
                    }
                }
            if hasNamed && hasAddressPeer {
                fail(
                    "\(rulePath).protocols", rule["protocols"],
                    "destinationNamedPort cannot be used with nodes, networks or domainNames peers, which have no named ports")
            }
            guard errors.count == before, let action else { continue }
            for peerPath in domainPeers {
                notes.append(
                    "\(file): \(object.map { "\($0)" } ?? "ClusterNetworkPolicy"): \(peerPath): domainNames peers "
                        + "match no traffic (Tollgate does not resolve domain names); the rule's other peers apply")
            }
            result.append(AdminPolicyRule(name: name, action: action, peers: peers, ports: ports))
        }
        return result
    }

    /// What a v1alpha2 peer decodes to: a peer Tollgate matches, or a `domainNames` peer, which matches nothing.
    private enum ClusterPeer {
        case peer(AdminPolicyPeer)
        case domainNames
    }

    /// A v1alpha2 peer: exactly one of namespaces and pods, and for egress also nodes, networks or domainNames.
    private func clusterPeer(_ node: ManifestNode, _ path: String, ingress: Bool) -> ClusterPeer? {
        let fields = ingress ? ["namespaces", "pods"] : ["namespaces", "pods", "nodes", "networks", "domainNames"]
        let expected = ingress ? "namespaces or pods" : "namespaces, pods, nodes, networks or domainNames"
        guard let map = mapping(node, path) else {
            if node.isNull { fail(path, node, "must set one of \(expected)") }
            return nil
        }
        rejectUnknownFields(map, path, known: Set(fields))
        let present = fields.filter { map[$0].map { !$0.isNull } ?? false }
        guard present.count == 1 else {
            fail(
                path, map,
                present.isEmpty
                    ? "must set one of \(expected)"
                    : "must set exactly one of \(expected), got \(present.joined(separator: " and "))")
            return nil
        }
        let field = present[0]
        let fieldPath = "\(path).\(field)"
        switch field {
        case "namespaces":
            return labelSelector(map[field], fieldPath).map { .peer(.namespaces($0)) }
        case "pods":
            return namespacedPod(map[field], fieldPath, namespaceSelectorOptional: true)
                .map { .peer(.pods(namespaces: $0.namespaces, pods: $0.pods)) }
        case "nodes":
            return labelSelector(map[field], fieldPath).map { .peer(.nodes($0)) }
        case "networks":
            let items = sequence(map[field], fieldPath)
            guard !items.isEmpty, items.count <= ClusterLimits.networks else {
                fail(fieldPath, map[field], "must list 1 to \(ClusterLimits.networks) CIDRs, got \(items.count)")
                return nil
            }
            let before = errors.count
            var prefixes: [IPPrefix] = []
            for (index, item) in items.enumerated() {
                if let prefix = prefix(item, "\(fieldPath)[\(index)]") { prefixes.append(prefix) }
            }
            return errors.count == before ? .peer(.networks(prefixes)) : nil
        default:
            let items = sequence(map[field], fieldPath)
            guard !items.isEmpty, items.count <= ClusterLimits.domainNames else {
                fail(fieldPath, map[field], "must list 1 to \(ClusterLimits.domainNames) domain names, got \(items.count)")
                return nil
            }
            let before = errors.count
            for (index, item) in items.enumerated() {
                let itemPath = "\(fieldPath)[\(index)]"
                guard let text = string(item, itemPath) else { continue }
                if let problem = Validation.domainNameProblem(text) { fail(itemPath, item, problem) }
            }
            return errors.count == before ? .domainNames : nil
        }
    }

    /// A `protocols` entry: exactly one of tcp, udp, sctp (each with a required `destinationPort`) and
    /// destinationNamedPort.
    private func clusterProtocol(_ node: ManifestNode, _ path: String) -> AdminPolicyPort? {
        let fields = ["tcp", "udp", "sctp", "destinationNamedPort"]
        guard let map = mapping(node, path) else {
            if node.isNull { fail(path, node, "must set one of tcp, udp, sctp or destinationNamedPort") }
            return nil
        }
        rejectUnknownFields(map, path, known: Set(fields))
        let present = fields.filter { map[$0].map { !$0.isNull } ?? false }
        guard present.count == 1 else {
            fail(
                path, map,
                present.isEmpty
                    ? "must set one of tcp, udp, sctp or destinationNamedPort"
                    : "must set exactly one of tcp, udp, sctp or destinationNamedPort, got \(present.joined(separator: " and "))")
            return nil
        }
        let field = present[0]
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
