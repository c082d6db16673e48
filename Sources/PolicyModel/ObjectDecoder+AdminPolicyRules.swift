import NetworkTypes

/// The parts of the network-policy-api kinds that v1alpha1 and v1alpha2 share up to an `AdminPolicyDialect`:
/// `spec.priority`, the rule lists, their peers, and the "exactly one of" objects that peers and ports are.
extension ObjectDecoder {
    /// What a peer decodes to: a peer Tollgate matches, or a `domainNames` peer (v1alpha2), which matches nothing.
    enum DecodedAdminPeer {
        case peer(AdminPolicyPeer)
        case domainNames
    }

    /// A `spec.priority` that is required: 0 to 1000, a lower number taking precedence. Nil after an error.
    func adminPriority(_ spec: ManifestNode, prefix: String) -> Int? {
        let path = prefix + "spec.priority"
        if let value = integer(spec["priority"], path) {
            if AdminPolicyDialect.priorities.contains(value) { return value }
            fail(path, spec["priority"], "must be between 0 and 1000, got \(value)")
        } else if spec["priority"] == nil || spec["priority"]?.isNull == true {
            fail(path, spec, "is required (0 to 1000; a lower number takes precedence)")
        }
        return nil
    }

    /// `spec.ingress` or `spec.egress`: the valid rules, in order, and the paths of the `domainNames` peers of
    /// those rules (which match nothing, for a note).
    func adminRules(
        _ node: ManifestNode?, _ path: String, ingress: Bool, dialect: AdminPolicyDialect
    ) -> (rules: [AdminPolicyRule], domainPeers: [String]) {
        let items = sequence(node, path)
        if items.count > dialect.limits.rules {
            fail(path, node, "must have at most \(dialect.limits.rules) rules, got \(items.count)")
        }
        let peerField = ingress ? "from" : "to"
        var rules: [AdminPolicyRule] = []
        var validDomainPeers: [String] = []
        for (index, item) in items.enumerated() {
            let rulePath = "\(path)[\(index)]"
            guard let rule = mapping(item, rulePath) else {
                if item.isNull { fail(rulePath, item, "must be a rule with action and \(peerField)") }
                continue
            }
            rejectUnknownFields(rule, rulePath, known: ["name", "action", peerField, dialect.ports.field])
            let before = errors.count
            let name = string(rule["name"], "\(rulePath).name") ?? ""
            if name.count > AdminPolicyDialect.maxRuleNameLength {
                fail(
                    "\(rulePath).name", rule["name"],
                    "must be at most \(AdminPolicyDialect.maxRuleNameLength) characters, got \(name.count)")
            }
            let action = ruleAction(rule, rulePath, dialect: dialect)
            let (peers, domainPeers) = rulePeers(rule, rulePath, field: peerField, ingress: ingress, dialect: dialect)
            if !domainPeers.isEmpty, let action, action != .allow {
                fail(
                    "\(rulePath).action", rule["action"],
                    "domainNames peers are allowed only in \(AdminPolicyAction.allow.name(in: dialect.kind)) rules, "
                        + "got \(action.name(in: dialect.kind))")
            }
            let portsPath = "\(rulePath).\(dialect.ports.field)"
            var ports: [AdminPolicyPort]?
            if let portsNode = rule[dialect.ports.field], !portsNode.isNull {
                let entries = sequence(portsNode, portsPath)
                if case .sequence = portsNode, entries.isEmpty || entries.count > dialect.limits.ports {
                    fail(
                        portsPath, portsNode,
                        "must list 1 to \(dialect.limits.ports) \(dialect.ports.entriesNoun), got \(entries.count)")
                }
                ports = entries.enumerated().compactMap { dialect.ports.decode(self, $1, "\(portsPath)[\($0)]") }
            }
            // The CEL rule of both versions: peers that are addresses (nodes, networks, domainNames) have no named
            // ports.
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
                let addressPeers = AdminPolicyDialect.alternatives(dialect.addressPeerFields)
                fail(
                    portsPath, rule[dialect.ports.field],
                    "\(dialect.ports.namedPortField) cannot be used with \(addressPeers) peers, which have no named ports")
            }
            guard errors.count == before, let action else { continue }
            validDomainPeers += domainPeers
            rules.append(AdminPolicyRule(name: name, action: action, peers: peers, ports: ports))
        }
        return (rules, validDomainPeers)
    }

    /// A rule's `action`, spelt as the dialect's kind spells it and one of the dialect's actions.
    private func ruleAction(
        _ rule: ManifestNode, _ rulePath: String, dialect: AdminPolicyDialect
    ) -> AdminPolicyAction? {
        let path = "\(rulePath).action"
        guard let text = string(rule["action"], path) else {
            if rule["action"] == nil || rule["action"]?.isNull == true {
                fail(path, rule, dialect.actions.missingMessage)
            }
            return nil
        }
        if let action = AdminPolicyAction(name: text, in: dialect.kind), dialect.actions.allowed.contains(action) {
            return action
        }
        let expected = AdminPolicyDialect.alternatives(dialect.actions.allowed.map { $0.name(in: dialect.kind) })
        let hint = dialect.actions.hints[text].map { " (\($0))" } ?? ""
        fail(path, rule["action"], "unknown action \"\(text)\"; expected \(expected)\(hint)")
        return nil
    }

    /// A rule's `from` or `to`: the peers it matches, and the paths of its `domainNames` peers.
    private func rulePeers(
        _ rule: ManifestNode, _ rulePath: String, field: String, ingress: Bool, dialect: AdminPolicyDialect
    ) -> (peers: [AdminPolicyPeer], domainPeers: [String]) {
        let path = "\(rulePath).\(field)"
        let peerNodes = sequence(rule[field], path)
        if peerNodes.isEmpty {
            fail(path, rule[field] ?? rule, "must list at least one peer")
        } else if peerNodes.count > dialect.limits.peers {
            fail(path, rule[field], "must list at most \(dialect.limits.peers) peers, got \(peerNodes.count)")
        }
        var peers: [AdminPolicyPeer] = []
        var domainPeers: [String] = []
        for (peerIndex, peerNode) in peerNodes.enumerated() {
            let peerPath = "\(path)[\(peerIndex)]"
            switch adminPeer(peerNode, peerPath, ingress: ingress, dialect: dialect) {
            case .peer(let peer)?: peers.append(peer)
            case .domainNames?: domainPeers.append(peerPath)
            case nil: break
            }
        }
        return (peers, domainPeers)
    }

    /// A peer: exactly one of namespaces and pods, and for egress also nodes, networks and (where the dialect
    /// has them) domainNames.
    private func adminPeer(
        _ node: ManifestNode, _ path: String, ingress: Bool, dialect: AdminPolicyDialect
    ) -> DecodedAdminPeer? {
        guard let (map, field) = exactlyOneField(node, path, of: dialect.peerFields(ingress: ingress)) else {
            return nil
        }
        let fieldPath = "\(path).\(field)"
        switch field {
        case "namespaces":
            return labelSelector(map[field], fieldPath).map { .peer(.namespaces($0)) }
        case "pods":
            return namespacedPod(map[field], fieldPath, namespaceSelectorOptional: dialect.namespaceSelectorOptional)
                .map { .peer(.pods(namespaces: $0.namespaces, pods: $0.pods)) }
        case "nodes":
            return labelSelector(map[field], fieldPath).map { .peer(.nodes($0)) }
        case "networks":
            let items = sequence(map[field], fieldPath)
            guard !items.isEmpty, items.count <= dialect.limits.networks else {
                fail(fieldPath, map[field], "must list 1 to \(dialect.limits.networks) CIDRs, got \(items.count)")
                return nil
            }
            let before = errors.count
            var prefixes: [IPPrefix] = []
            for (index, item) in items.enumerated() {
                if let prefix = prefix(item, "\(fieldPath)[\(index)]") { prefixes.append(prefix) }
            }
            return errors.count == before ? .peer(.networks(prefixes)) : nil
        default:  // domainNames: peerFields offers it only where the dialect has a limit for it
            let limit = dialect.limits.domainNames ?? 0
            let items = sequence(map[field], fieldPath)
            guard !items.isEmpty, items.count <= limit else {
                fail(fieldPath, map[field], "must list 1 to \(limit) domain names, got \(items.count)")
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

    /// An object that must set exactly one of `fields` (a peer, a port entry): the object and the field it sets,
    /// or nil after reporting a null, a non-object, unknown fields, none or several.
    func exactlyOneField(
        _ node: ManifestNode, _ path: String, of fields: [String]
    ) -> (map: ManifestNode, field: String)? {
        let expected = AdminPolicyDialect.alternatives(fields)
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
        return (map, present[0])
    }
}
