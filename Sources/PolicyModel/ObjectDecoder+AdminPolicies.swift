import NetworkTypes

/// Decoding of the network-policy-api kinds (`AdminNetworkPolicy`, `BaselineAdminNetworkPolicy`) and of `Node`,
/// validated field by field as the CRDs of kubernetes-sigs/network-policy-api (apis/v1alpha1) do.
extension ObjectDecoder {
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
        // The BaselineAdminNetworkPolicy has no priority: 0.
        let priority = isAdmin ? adminPriority(spec, prefix: prefix) ?? 0 : 0
        let subject = self.subject(spec["subject"], prefix + "spec.subject", parent: spec)
        let dialect = AdminPolicyDialect.v1alpha1(kind)
        // v1alpha1 has no domainNames peers: no rule reports any.
        let ingress = adminRules(spec["ingress"], prefix + "spec.ingress", ingress: true, dialect: dialect).rules
        let egress = adminRules(spec["egress"], prefix + "spec.egress", ingress: false, dialect: dialect).rules
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

    /// A port: exactly one of portNumber, namedPort and portRange.
    fileprivate func adminPort(_ node: ManifestNode, _ path: String) -> AdminPolicyPort? {
        guard let (map, field) = exactlyOneField(node, path, of: ["portNumber", "namedPort", "portRange"]) else {
            return nil
        }
        let fieldPath = "\(path).\(field)"
        switch field {
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

extension AdminPolicyDialect {
    /// The rules of AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1 CRDs): `ports`, 100 rules, peers
    /// and ports, 25 CIDRs; the baseline has no Pass.
    static func v1alpha1(_ kind: AdminPolicyKind) -> AdminPolicyDialect {
        AdminPolicyDialect(
            kind: kind,
            actions: ActionSyntax(
                allowed: kind == .adminNetworkPolicy ? [.allow, .deny, .pass] : [.allow, .deny],
                missingMessage: "is required", hints: [:]),
            ports: PortSyntax(
                field: "ports", entriesNoun: "ports", namedPortField: "namedPort", decode: { $0.adminPort($1, $2) }),
            limits: Limits(rules: 100, peers: 100, ports: 100, networks: 25, domainNames: nil),
            namespaceSelectorOptional: false)
    }
}
