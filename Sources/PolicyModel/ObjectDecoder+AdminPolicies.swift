import NetworkTypes

/// Decoding of the network-policy-api kinds (`AdminNetworkPolicy`, `BaselineAdminNetworkPolicy`) and of `Node`,
/// validated field by field as the CRDs of kubernetes-sigs/network-policy-api (apis/v1alpha1) do.
extension ObjectDecoder {
    /// The limits the CRDs set.
    private enum Limits {
        static let priority = 0...1000
        static let rules = 100
        static let peers = 100
        static let ports = 100
        static let networks = 25
        static let ruleName = 100
    }

    func decodeNode(_ root: ManifestNode, prefix: String, name: String, labels: [String: String]) -> ManifestObject? {
        let status = mapping(root["status"], prefix + "status")
        var addresses: [IPAddress] = []
        for (index, entry) in sequence(status?["addresses"], prefix + "status.addresses").enumerated() {
            let path = "\(prefix)status.addresses[\(index)]"
            guard let entry = mapping(entry, path) else { continue }
            let type = string(entry["type"], "\(path).type")
            // Hostname and DNS entries name the node; only IP entries are addresses a packet can carry.
            guard type == "InternalIP" || type == "ExternalIP" else { continue }
            guard let text = string(entry["address"], "\(path).address") else {
                fail("\(path).address", entry, "is required")
                continue
            }
            guard let address = IPAddress(text) else {
                fail("\(path).address", entry["address"], "\"\(text)\" is not an IP address")
                continue
            }
            addresses.append(address)
        }
        return .node(ClusterNode(name: name, labels: labels, addresses: addresses))
    }

    func decodeAdminPolicy(_ root: ManifestNode, prefix: String, kind: AdminPolicyKind, name: String) -> ManifestObject? {
        guard let spec = mapping(root["spec"], prefix + "spec") else {
            fail(prefix + "spec", root, "is required")
            return nil
        }
        let isAdmin = kind == .adminNetworkPolicy
        rejectUnknownFields(
            spec, prefix + "spec", known: isAdmin ? ["priority", "subject", "ingress", "egress"] : ["subject", "ingress", "egress"])
        if kind == .baselineAdminNetworkPolicy && name != "default" {
            fail(
                prefix + "metadata.name", root["metadata"]?["name"],
                "a BaselineAdminNetworkPolicy is a singleton and must be named \"default\", got \"\(name)\"")
        }
        var priority = 0
        if isAdmin {
            if let value = integer(spec["priority"], prefix + "spec.priority") {
                if Limits.priority.contains(value) {
                    priority = value
                } else {
                    fail(prefix + "spec.priority", spec["priority"], "must be between 0 and 1000, got \(value)")
                }
            } else if spec["priority"] == nil || spec["priority"]?.isNull == true {
                fail(prefix + "spec.priority", spec, "is required (0 to 1000; a lower number takes precedence)")
            }
        }
        let subject = self.subject(spec["subject"], prefix + "spec.subject", parent: spec)
        let actions: [AdminPolicyAction] = isAdmin ? [.allow, .deny, .pass] : [.allow, .deny]
        let ingress = adminRules(spec["ingress"], prefix + "spec.ingress", ingress: true, actions: actions)
        let egress = adminRules(spec["egress"], prefix + "spec.egress", ingress: false, actions: actions)
        guard let subject else { return nil }
        return .adminNetworkPolicy(
            AdminNetworkPolicy(
                kind: kind, name: name, priority: priority, subject: subject, ingress: ingress, egress: egress))
    }

    /// `spec.subject`: exactly one of `namespaces` and `pods`. In v1alpha2 (`namespaceSelectorOptional`) a
    /// `pods` subject may leave out `namespaceSelector`, which then selects every namespace.
    func subject(
        _ node: ManifestNode?, _ path: String, parent: ManifestNode, namespaceSelectorOptional: Bool = false
    ) -> AdminPolicySubject? {
        guard let map = mapping(node, path) else {
            if node == nil || node?.isNull == true { fail(path, parent, "is required (namespaces or pods)") }
            return nil
        }
        rejectUnknownFields(map, path, known: ["namespaces", "pods"])
        let present = ["namespaces", "pods"].filter { map[$0].map { !$0.isNull } ?? false }
        guard present.count == 1 else {
            fail(path, map, present.isEmpty ? "must set one of namespaces or pods" : "must set exactly one of namespaces or pods, got both")
            return nil
        }
        if present[0] == "namespaces" {
            return labelSelector(map["namespaces"], "\(path).namespaces").map { .namespaces($0) }
        }
        return namespacedPod(map["pods"], "\(path).pods", namespaceSelectorOptional: namespaceSelectorOptional)
            .map { .pods(namespaces: $0.namespaces, pods: $0.pods) }
    }

    /// A `NamespacedPod`: `namespaceSelector` and `podSelector`, both required in v1alpha1; in v1alpha2
    /// (`namespaceSelectorOptional`) a missing `namespaceSelector` selects every namespace.
    func namespacedPod(
        _ node: ManifestNode?, _ path: String, namespaceSelectorOptional: Bool = false
    ) -> (namespaces: LabelSelector, pods: LabelSelector)? {
        guard let map = mapping(node, path) else { return nil }
        rejectUnknownFields(map, path, known: ["namespaceSelector", "podSelector"])
        var missing = false
        let required = namespaceSelectorOptional ? ["podSelector"] : ["namespaceSelector", "podSelector"]
        for field in required where map[field] == nil || map[field]?.isNull == true {
            fail("\(path).\(field)", map, "is required (use {} to select everything)")
            missing = true
        }
        let namespacesNode = map["namespaceSelector"]
        let namespaces: LabelSelector?
        if namespacesNode == nil || namespacesNode?.isNull == true {
            namespaces = .everything
        } else {
            namespaces = labelSelector(namespacesNode, "\(path).namespaceSelector")
        }
        guard !missing, let namespaces, let pods = labelSelector(map["podSelector"], "\(path).podSelector") else {
            return nil
        }
        return (namespaces, pods)
    }

    private func adminRules(_ node: ManifestNode?, _ path: String, ingress: Bool, actions: [AdminPolicyAction]) -> [AdminPolicyRule] {
        let items = sequence(node, path)
        if items.count > Limits.rules { fail(path, node, "must have at most \(Limits.rules) rules, got \(items.count)") }
        let peerField = ingress ? "from" : "to"
        var result: [AdminPolicyRule] = []
        for (index, item) in items.enumerated() {
            let rulePath = "\(path)[\(index)]"
            guard let rule = mapping(item, rulePath) else {
                if item.isNull { fail(rulePath, item, "must be a rule with action and \(peerField)") }
                continue
            }
            rejectUnknownFields(rule, rulePath, known: ["name", "action", peerField, "ports"])
            let before = errors.count
            let name = string(rule["name"], "\(rulePath).name") ?? ""
            if name.count > Limits.ruleName {
                fail("\(rulePath).name", rule["name"], "must be at most \(Limits.ruleName) characters, got \(name.count)")
            }
            var action: AdminPolicyAction?
            if let text = string(rule["action"], "\(rulePath).action") {
                action = AdminPolicyAction(rawValue: text).flatMap { actions.contains($0) ? $0 : nil }
                if action == nil {
                    let expected = actions.map(\.rawValue)
                    fail(
                        "\(rulePath).action", rule["action"],
                        "unknown action \"\(text)\"; expected \(expected.dropLast().joined(separator: ", ")) or \(expected.last ?? "")")
                }
            } else if rule["action"] == nil || rule["action"]?.isNull == true {
                fail("\(rulePath).action", rule, "is required")
            }
            let peerNodes = sequence(rule[peerField], "\(rulePath).\(peerField)")
            if peerNodes.isEmpty {
                fail("\(rulePath).\(peerField)", rule[peerField] ?? rule, "must list at least one peer")
            } else if peerNodes.count > Limits.peers {
                fail("\(rulePath).\(peerField)", rule[peerField], "must list at most \(Limits.peers) peers, got \(peerNodes.count)")
            }
            var peers: [AdminPolicyPeer] = []
            for (peerIndex, peerNode) in peerNodes.enumerated() {
                if let peer = adminPeer(peerNode, "\(rulePath).\(peerField)[\(peerIndex)]", ingress: ingress) {
                    peers.append(peer)
                }
            }
            var ports: [AdminPolicyPort]?
            if let portsNode = rule["ports"], !portsNode.isNull {
                let portNodes = sequence(portsNode, "\(rulePath).ports")
                if case .sequence = portsNode, portNodes.isEmpty || portNodes.count > Limits.ports {
                    fail("\(rulePath).ports", portsNode, "must list 1 to \(Limits.ports) ports, got \(portNodes.count)")
                }
                var list: [AdminPolicyPort] = []
                for (portIndex, portNode) in portNodes.enumerated() {
                    if let port = adminPort(portNode, "\(rulePath).ports[\(portIndex)]") { list.append(port) }
                }
                ports = list
            }
            // network-policy-api CEL rule: nodes and networks peers have no named ports.
            let hasNamed = ports?.contains { if case .named = $0 { return true } else { return false } } ?? false
            let hasAddressPeer = peers.contains {
                switch $0 {
                case .nodes, .networks: return true
                default: return false
                }
            }
            if hasNamed && hasAddressPeer {
                fail("\(rulePath).ports", rule["ports"], "namedPort cannot be used with nodes or networks peers, which have no named ports")
            }
            guard errors.count == before, let action else { continue }
            result.append(AdminPolicyRule(name: name, action: action, peers: peers, ports: ports))
        }
        return result
    }

    /// A peer: exactly one of namespaces, pods, and for egress nodes or networks.
    private func adminPeer(_ node: ManifestNode, _ path: String, ingress: Bool) -> AdminPolicyPeer? {
        let fields = ingress ? ["namespaces", "pods"] : ["namespaces", "pods", "nodes", "networks"]
        let expected = ingress ? "namespaces or pods" : "namespaces, pods, nodes or networks"
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
            return labelSelector(map[field], fieldPath).map { .namespaces($0) }
        case "pods":
            return namespacedPod(map[field], fieldPath).map { .pods(namespaces: $0.namespaces, pods: $0.pods) }
        case "nodes":
            return labelSelector(map[field], fieldPath).map { .nodes($0) }
        default:
            let items = sequence(map[field], fieldPath)
            guard !items.isEmpty, items.count <= Limits.networks else {
                fail(fieldPath, map[field], "must list 1 to \(Limits.networks) CIDRs, got \(items.count)")
                return nil
            }
            let before = errors.count
            var prefixes: [IPPrefix] = []
            for (index, item) in items.enumerated() {
                if let prefix = prefix(item, "\(fieldPath)[\(index)]") { prefixes.append(prefix) }
            }
            return errors.count == before ? .networks(prefixes) : nil
        }
    }

    /// A port: exactly one of portNumber, namedPort and portRange.
    private func adminPort(_ node: ManifestNode, _ path: String) -> AdminPolicyPort? {
        guard let map = mapping(node, path) else {
            if node.isNull { fail(path, node, "must set one of portNumber, namedPort or portRange") }
            return nil
        }
        let fields = ["portNumber", "namedPort", "portRange"]
        rejectUnknownFields(map, path, known: Set(fields))
        let present = fields.filter { map[$0].map { !$0.isNull } ?? false }
        guard present.count == 1 else {
            fail(
                path, map,
                present.isEmpty
                    ? "must set one of portNumber, namedPort or portRange"
                    : "must set exactly one of portNumber, namedPort or portRange, got \(present.joined(separator: " and "))")
            return nil
        }
        let fieldPath = "\(path).\(present[0])"
        switch present[0] {
        case "namedPort":
            guard let name = string(map["namedPort"], fieldPath) else { return nil }
            if let problem = Validation.portNameProblem(name) {
                fail(fieldPath, map["namedPort"], problem)
                return nil
            }
            return .named(name)
        case "portNumber":
            guard let entry = mapping(map["portNumber"], fieldPath) else { return nil }
            rejectUnknownFields(entry, fieldPath, known: ["protocol", "port"])
            guard let proto = transportProtocol(entry["protocol"], "\(fieldPath).protocol"),
                let port = portValue(entry["port"], "\(fieldPath).port", parent: entry)
            else { return nil }
            return .number(proto, port)
        default:
            guard let entry = mapping(map["portRange"], fieldPath) else { return nil }
            rejectUnknownFields(entry, fieldPath, known: ["protocol", "start", "end"])
            let proto = transportProtocol(entry["protocol"], "\(fieldPath).protocol")
            let start = portValue(entry["start"], "\(fieldPath).start", parent: entry)
            let end = portValue(entry["end"], "\(fieldPath).end", parent: entry)
            guard let proto, let start, let end else { return nil }
            guard start < end else {
                fail("\(fieldPath).end", entry["end"], "must be greater than start (\(start)), got \(end)")
                return nil
            }
            return .range(proto, start, end)
        }
    }

    /// A required port number, 1 to 65535.
    func portValue(_ node: ManifestNode?, _ path: String, parent: ManifestNode) -> UInt16? {
        guard let node, !node.isNull else {
            fail(path, parent, "is required")
            return nil
        }
        guard let value = integer(node, path) else { return nil }
        guard (1...65535).contains(value) else {
            fail(path, node, "must be between 1 and 65535, got \(value)")
            return nil
        }
        return UInt16(value)
    }
}
