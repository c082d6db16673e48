/// Kubernetes manifests for the end-to-end topologies, as YAML text whose pod addresses match the network
/// namespaces `PodTopology` builds.
enum Manifests {
    /// A pod of a test cluster: where it runs in Kubernetes terms and where its namespace lives on the wire.
    struct Pod {
        var name: String
        var namespace: String
        var labels: [String: String]
        var ipv4: String
        var ipv6: String
        /// Container ports: (name, number, protocol).
        var ports: [(name: String, port: UInt16, proto: String)] = []
    }

    /// The three-pod cluster most tests use.
    ///
    /// ```
    ///   namespace app (team: app)                         namespace other (team: other)
    ///   client  10.244.1.10  fd00:244::1:10                intruder 10.244.3.10  fd00:244::3:10
    ///   server  10.244.1.11  fd00:244::1:11  ports http 8080/TCP, dns 5353/UDP, assoc 9000/SCTP
    /// ```
    static let basePods: [Pod] = [
        Pod(name: "client", namespace: "app", labels: ["app": "client"], ipv4: "10.244.1.10", ipv6: "fd00:244::1:10"),
        Pod(
            name: "server", namespace: "app", labels: ["app": "server"], ipv4: "10.244.1.11", ipv6: "fd00:244::1:11",
            ports: [("http", 8080, "TCP"), ("dns", 5353, "UDP"), ("assoc", 9000, "SCTP")]),
        Pod(
            name: "intruder", namespace: "other", labels: ["app": "intruder"], ipv4: "10.244.3.10",
            ipv6: "fd00:244::3:10"),
    ]

    /// The namespaces of the base cluster with their labels.
    static let baseNamespaces: [(name: String, labels: [String: String])] = [
        ("app", ["team": "app"]), ("other", ["team": "other"]),
    ]

    /// The `(name, ipv4, ipv6)` specs `PodTopology` takes for `pods`.
    static func topologySpecs(_ pods: [Pod]) -> [(name: String, ipv4: String, ipv6: String?)] {
        pods.map { ($0.name, $0.ipv4, $0.ipv6) }
    }

    /// A flow-style YAML map of labels (sorted, so the text is stable).
    static func labels(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// Namespace and Pod objects (Running, with their addresses) for the cluster.
    static func cluster(namespaces: [(name: String, labels: [String: String])], pods: [Pod]) -> String {
        var documents: [String] = []
        for namespace in namespaces {
            documents.append(
                """
                apiVersion: v1
                kind: Namespace
                metadata: {name: \(namespace.name), labels: \(labels(namespace.labels))}
                """)
        }
        for pod in pods {
            let ports = pod.ports.map { "{name: \($0.name), containerPort: \($0.port), protocol: \($0.proto)}" }
            documents.append(
                """
                apiVersion: v1
                kind: Pod
                metadata: {name: \(pod.name), namespace: \(pod.namespace), labels: \(labels(pod.labels))}
                spec:
                  nodeName: node-1
                  containers: [{name: main, image: test, ports: [\(ports.joined(separator: ", "))]}]
                status: {phase: Running, podIP: \(pod.ipv4), podIPs: [{ip: \(pod.ipv4)}, {ip: "\(pod.ipv6)"}]}
                """)
        }
        return documents.joined(separator: "\n---\n") + "\n"
    }

    /// The base cluster's objects.
    static let baseCluster = cluster(namespaces: baseNamespaces, pods: basePods)

    /// A NetworkPolicy selecting `app: <target>` in `namespace` with the given ingress rules (YAML list items,
    /// each already indented for the `ingress:` list). An empty list isolates the pods and allows nothing in.
    static func ingressPolicy(name: String, namespace: String = "app", target: String, rules: [String]) -> String {
        let ingress = rules.isEmpty ? "  ingress: []" : "  ingress:\n" + rules.map { "    - " + $0 }.joined(separator: "\n")
        return """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: \(name), namespace: \(namespace)}
            spec:
              podSelector: {matchLabels: {app: \(target)}}
              policyTypes: [Ingress]
            \(ingress)

            """
    }

    /// The server takes HTTP (named port) from the client only.
    static let serverFromClient = ingressPolicy(
        name: "server-ingress", target: "server",
        rules: ["{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}"])

    /// The server takes TCP 8080 from the client's addresses only (ipBlock, numeric port): the same verdicts as
    /// `serverFromClient` through a different compiled path.
    static let serverFromClientByAddress = ingressPolicy(
        name: "server-ingress", target: "server",
        rules: [
            "{from: [{ipBlock: {cidr: 10.244.1.10/32}}, {ipBlock: {cidr: \"fd00:244::1:10/128\"}}], ports: [{protocol: TCP, port: 8080}]}"
        ])

    /// The server takes HTTP from the client and from every pod of namespaces labelled `team: other`.
    static let serverFromClientAndOther = ingressPolicy(
        name: "server-ingress", target: "server",
        rules: [
            "{from: [{podSelector: {matchLabels: {app: client}}}, {namespaceSelector: {matchLabels: {team: other}}}], ports: [{port: http}]}"
        ])

    /// The server takes nothing.
    static let serverDenyAll = ingressPolicy(name: "server-ingress", target: "server", rules: [])
}
