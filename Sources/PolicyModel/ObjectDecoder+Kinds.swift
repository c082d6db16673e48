import NetworkTypes

extension ObjectDecoder {
    /// Decodes one document (or `List` item) into an object. Returns nil, with a note, for kinds Tollgate skips,
    /// and nil with errors for invalid objects.
    func decodeObject(_ node: ManifestNode, path: String, notes: inout [String]) -> ManifestObject? {
        let startCount = errors.count
        guard let root = mapping(node, path.isEmpty ? "<document>" : path) else {
            if node.isNull { return nil }  // an empty document, as after a trailing `---`
            return nil
        }
        let prefix = path.isEmpty ? "" : "\(path)."
        let apiVersion = string(root["apiVersion"], prefix + "apiVersion")
        guard let kind = string(root["kind"], prefix + "kind") else {
            fail(prefix + "kind", root, "is required")
            return nil
        }
        let metadata = mapping(root["metadata"], prefix + "metadata")
        let name = string(metadata?["name"], prefix + "metadata.name")
        let namespaceField = string(metadata?["namespace"], prefix + "metadata.namespace")

        var expected: [String: String] = [
            "Namespace": "v1", "Pod": "v1", "NetworkPolicy": "networking.k8s.io/v1", "Node": "v1",
        ]
        for adminKind in AdminPolicyKind.allCases { expected[adminKind.rawValue] = adminKind.apiVersion }
        let clusterScoped = ["Namespace", "Node"].contains(kind) || AdminPolicyKind(rawValue: kind) != nil
        guard let wantedVersion = expected[kind] else {
            skippedKinds += 1
            notes.append(
                "\(file): document \(documentIndex ?? 0)\(path.isEmpty ? "" : " \(path)"): skipped \(kind)"
                    + (name.map { " \($0)" } ?? "") + " (not a kind Tollgate enforces)")
            return nil
        }
        let namespace = clusterScoped ? "" : (namespaceField ?? "default")
        object = ObjectKey(kind: kind, namespace: namespace, name: name ?? "<unnamed>")
        if apiVersion != wantedVersion {
            fail(
                prefix + "apiVersion", root["apiVersion"],
                "\(kind) must have apiVersion \(wantedVersion), got \(apiVersion.map { "\"\($0)\"" } ?? "none")")
        }
        guard let name else {
            fail(prefix + "metadata.name", metadata ?? root, "is required")
            return nil
        }
        if let problem = kind == "Namespace" ? Validation.dnsLabelProblem(name) : Validation.dnsSubdomainProblem(name) {
            fail(prefix + "metadata.name", metadata?["name"], problem)
        }
        if !clusterScoped, let problem = Validation.dnsLabelProblem(namespace) {
            fail(prefix + "metadata.namespace", metadata?["namespace"], problem)
        }
        let labels = labels(metadata?["labels"], prefix + "metadata.labels")
        let result: ManifestObject?
        switch kind {
        case "Namespace":
            var enforcement = EnforcementMode.enforce
            let annotations = mapping(metadata?["annotations"], prefix + "metadata.annotations")
            if let value = annotations?[EnforcementMode.annotation] {
                let path = prefix + "metadata.annotations.\(EnforcementMode.annotation)"
                if let text = string(value, path) {
                    if let mode = EnforcementMode(rawValue: text) {
                        enforcement = mode
                    } else {
                        fail(path, value, "unknown enforcement mode \"\(text)\"; expected audit or enforce")
                    }
                }
            }
            result = .namespace(Namespace(name: name, labels: labels, enforcement: enforcement))
        case "Pod":
            result = decodePod(root, prefix: prefix, namespace: namespace, name: name, labels: labels)
        case "Node":
            result = decodeNode(root, prefix: prefix, name: name, labels: labels)
        default:
            if kind == AdminPolicyKind.clusterNetworkPolicy.rawValue {
                result = decodeClusterNetworkPolicy(root, prefix: prefix, name: name, notes: &notes)
            } else if let adminKind = AdminPolicyKind(rawValue: kind) {
                result = decodeAdminPolicy(root, prefix: prefix, kind: adminKind, name: name)
            } else {
                result = decodeNetworkPolicy(root, prefix: prefix, namespace: namespace, name: name)
            }
        }
        return errors.count == startCount ? result : nil
    }

    private func decodePod(
        _ root: ManifestNode, prefix: String, namespace: String, name: String, labels: [String: String]
    ) -> ManifestObject? {
        let spec = mapping(root["spec"], prefix + "spec")
        let status = mapping(root["status"], prefix + "status")
        var ports: [ContainerPort] = []
        for field in ["containers", "initContainers"] {
            for (index, container) in sequence(spec?[field], "\(prefix)spec.\(field)").enumerated() {
                let containerPath = "\(prefix)spec.\(field)[\(index)]"
                guard let container = mapping(container, containerPath) else { continue }
                // Init containers serve traffic only as sidecars (restartPolicy: Always).
                if field == "initContainers", string(container["restartPolicy"], "\(containerPath).restartPolicy") != "Always" {
                    continue
                }
                for (portIndex, portNode) in sequence(container["ports"], "\(containerPath).ports").enumerated() {
                    let portPath = "\(containerPath).ports[\(portIndex)]"
                    guard let port = mapping(portNode, portPath) else { continue }
                    guard let number = integer(port["containerPort"], "\(portPath).containerPort") else {
                        fail("\(portPath).containerPort", port, "is required")
                        continue
                    }
                    guard (1...65535).contains(number) else {
                        fail("\(portPath).containerPort", port["containerPort"], "must be between 1 and 65535, got \(number)")
                        continue
                    }
                    let portName = string(port["name"], "\(portPath).name")
                    if let portName, let problem = Validation.portNameProblem(portName) {
                        fail("\(portPath).name", port["name"], problem)
                        continue
                    }
                    guard let proto = transportProtocol(port["protocol"], "\(portPath).protocol") else { continue }
                    ports.append(ContainerPort(name: portName, port: UInt16(number), protocol: proto))
                }
            }
        }
        var ips: [IPAddress] = []
        if let text = string(status?["podIP"], "\(prefix)status.podIP"), !text.isEmpty {
            if let ip = IPAddress(text) { ips.append(ip) } else {
                fail("\(prefix)status.podIP", status?["podIP"], "\"\(text)\" is not an IP address")
            }
        }
        for (index, entry) in sequence(status?["podIPs"], "\(prefix)status.podIPs").enumerated() {
            let path = "\(prefix)status.podIPs[\(index)].ip"
            guard let entry = mapping(entry, "\(prefix)status.podIPs[\(index)]"),
                let text = string(entry["ip"], path)
            else { continue }
            if let ip = IPAddress(text) { ips.append(ip) } else { fail(path, entry["ip"], "\"\(text)\" is not an IP address") }
        }
        var phase: PodPhase?
        if let text = string(status?["phase"], "\(prefix)status.phase") {
            phase = PodPhase(rawValue: text)
            if phase == nil {
                fail("\(prefix)status.phase", status?["phase"], "unknown phase \"\(text)\"; expected Pending, Running, Succeeded, Failed or Unknown")
            }
        }
        let pod = Pod(
            namespace: namespace, name: name, labels: Labels(labels),
            nodeName: string(spec?["nodeName"], "\(prefix)spec.nodeName"),
            hostNetwork: boolean(spec?["hostNetwork"], "\(prefix)spec.hostNetwork") ?? false,
            containerPorts: ports, phase: phase, ips: ips)
        return .pod(pod)
    }

    private func decodeNetworkPolicy(_ root: ManifestNode, prefix: String, namespace: String, name: String)
        -> ManifestObject?
    {
        guard let spec = mapping(root["spec"], prefix + "spec") else {
            fail(prefix + "spec", root, "is required")
            return nil
        }
        rejectUnknownFields(spec, prefix + "spec", known: ["podSelector", "policyTypes", "ingress", "egress"])
        guard spec["podSelector"] != nil else {
            fail(prefix + "spec.podSelector", spec, "is required (use {} to select every pod in the namespace)")
            return nil
        }
        let podSelector = labelSelector(spec["podSelector"], prefix + "spec.podSelector") ?? .everything
        var types: PolicyTypes?
        if let typeNodes = spec["policyTypes"], !typeNodes.isNull {
            var parsed: PolicyTypes = []
            for (index, node) in sequence(typeNodes, prefix + "spec.policyTypes").enumerated() {
                let path = "\(prefix)spec.policyTypes[\(index)]"
                switch string(node, path) {
                case "Ingress": parsed.insert(.ingress)
                case "Egress": parsed.insert(.egress)
                case let other?: fail(path, node, "unknown policy type \"\(other)\"; expected Ingress or Egress")
                case nil: break
                }
            }
            types = parsed
        }
        let ingress = rules(spec["ingress"], path: prefix + "spec.ingress", peerField: "from")
        let egress = rules(spec["egress"], path: prefix + "spec.egress", peerField: "to")
        return .networkPolicy(
            NetworkPolicy(
                namespace: namespace, name: name, podSelector: podSelector, policyTypes: types, ingress: ingress,
                egress: egress))
    }

    private func rules(_ node: ManifestNode?, path: String, peerField: String) -> [NetworkPolicyRule] {
        var result: [NetworkPolicyRule] = []
        for (index, ruleNode) in sequence(node, path).enumerated() {
            let rulePath = "\(path)[\(index)]"
            // A null rule (`- {}` written as `-`) is an empty rule: everything.
            if ruleNode.isNull {
                result.append(NetworkPolicyRule())
                continue
            }
            guard let rule = mapping(ruleNode, rulePath) else { continue }
            rejectUnknownFields(rule, rulePath, known: [peerField, "ports"])
            var peers: [NetworkPolicyPeer] = []
            for (peerIndex, peerNode) in sequence(rule[peerField], "\(rulePath).\(peerField)").enumerated() {
                if let peer = self.peer(peerNode, "\(rulePath).\(peerField)[\(peerIndex)]") { peers.append(peer) }
            }
            var ports: [NetworkPolicyPort] = []
            for (portIndex, portNode) in sequence(rule["ports"], "\(rulePath).ports").enumerated() {
                if let port = self.port(portNode, "\(rulePath).ports[\(portIndex)]") { ports.append(port) }
            }
            result.append(NetworkPolicyRule(peers: peers, ports: ports))
        }
        return result
    }

    private func peer(_ node: ManifestNode, _ path: String) -> NetworkPolicyPeer? {
        guard let peer = mapping(node, path) else {
            fail(path, node, "must specify a peer (podSelector, namespaceSelector or ipBlock)")
            return nil
        }
        rejectUnknownFields(peer, path, known: ["podSelector", "namespaceSelector", "ipBlock"])
        let hasPods = peer["podSelector"].map { !$0.isNull } ?? false
        let hasNamespaces = peer["namespaceSelector"].map { !$0.isNull } ?? false
        let hasBlock = peer["ipBlock"].map { !$0.isNull } ?? false
        if hasBlock {
            if hasPods || hasNamespaces {
                fail(path, peer, "ipBlock cannot be combined with podSelector or namespaceSelector in one peer")
                return nil
            }
            guard let block = mapping(peer["ipBlock"], "\(path).ipBlock") else { return nil }
            rejectUnknownFields(block, "\(path).ipBlock", known: ["cidr", "except"])
            guard let cidr = prefix(block["cidr"], "\(path).ipBlock.cidr") else { return nil }
            var excepts: [IPPrefix] = []
            for (index, node) in sequence(block["except"], "\(path).ipBlock.except").enumerated() {
                let exceptPath = "\(path).ipBlock.except[\(index)]"
                guard let except = prefix(node, exceptPath) else { continue }
                guard except.family == cidr.family, cidr.contains(except), except.length > cidr.length else {
                    fail(exceptPath, node, "\(except) must be strictly within the cidr \(cidr)")
                    continue
                }
                excepts.append(except)
            }
            return .ipBlock(IPBlock(cidr: cidr, except: excepts))
        }
        guard hasPods || hasNamespaces else {
            fail(path, peer, "must specify a peer (podSelector, namespaceSelector or ipBlock)")
            return nil
        }
        let pods = hasPods ? labelSelector(peer["podSelector"], "\(path).podSelector") : nil
        let namespaces = hasNamespaces ? labelSelector(peer["namespaceSelector"], "\(path).namespaceSelector") : nil
        return .selector(pods: pods, namespaces: namespaces)
    }

    private func port(_ node: ManifestNode, _ path: String) -> NetworkPolicyPort? {
        guard let entry = mapping(node, path) else { return nil }
        rejectUnknownFields(entry, path, known: ["protocol", "port", "endPort"])
        guard let proto = transportProtocol(entry["protocol"], "\(path).protocol") else { return nil }
        var selector: PortSelector?
        if let portNode = entry["port"], !portNode.isNull {
            switch portNode {
            case .scalar(let text, .integer, _):
                guard let number = Int(text), (1...65535).contains(number) else {
                    fail("\(path).port", portNode, "must be between 1 and 65535, got \(text)")
                    return nil
                }
                selector = .number(UInt16(number))
            case .scalar(let text, .string, _):
                if let problem = Validation.portNameProblem(text) {
                    fail("\(path).port", portNode, problem)
                    return nil
                }
                selector = .name(text)
            default:
                fail("\(path).port", portNode, "must be a port number or a port name, got \(portNode.typeName)")
                return nil
            }
        }
        var endPort: UInt16?
        if let endNode = entry["endPort"], !endNode.isNull {
            guard let end = integer(endNode, "\(path).endPort") else { return nil }
            guard case .number(let start) = selector else {
                fail("\(path).endPort", endNode, "may only be set when port is a number")
                return nil
            }
            guard end >= Int(start), end <= 65535 else {
                fail("\(path).endPort", endNode, "must be between port (\(start)) and 65535, got \(end)")
                return nil
            }
            endPort = UInt16(end)
        }
        return NetworkPolicyPort(protocol: proto, port: selector, endPort: endPort)
    }
}
