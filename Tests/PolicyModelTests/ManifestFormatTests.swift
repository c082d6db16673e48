import NetworkTypes
import PolicyModel
import Testing

/// The shapes of input the loader accepts, and the defaults it applies as the API server would.
@Suite("Manifest formats and defaulting")
struct ManifestFormatTests {
    static let namespaceX = ManifestObject.namespace(Namespace(name: "x", labels: ["ns": "x"]))
    static let denyX = ManifestObject.networkPolicy(
        NetworkPolicy(namespace: "x", name: "deny", podSelector: .everything, policyTypes: .ingress))

    /// The same two objects, written in each supported shape.
    static let shapes: [(name: String, text: String)] = [
        (
            "multi-document YAML",
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: x, labels: {ns: x}}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: x}
            spec: {podSelector: {}}
            ---
            """
        ),
        (
            "JSON (kind: List)",
            """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labels": {"ns": "x"}}},
              {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}}}
            ]}
            """
        ),
        (
            "YAML v1 List",
            """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: x, labels: {ns: x}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: deny, namespace: x}
              spec:
                podSelector: {}
            """
        ),
        (
            "a List document followed by a plain document",
            """
            apiVersion: v1
            kind: NamespaceList
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: x, labels: {ns: x}}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: x}
            spec: {podSelector: {}}
            """
        ),
    ]

    @Test("every shape gives the same objects", arguments: shapes)
    func everyShapeGivesTheSameObjects(_ shape: (name: String, text: String)) {
        let result = ManifestLoader.load(text: shape.text, file: "f.yaml")
        #expect(result.errors == [])
        #expect(result.notes == [])
        #expect(result.objects == [Self.namespaceX, Self.denyX])
    }

    @Test("unknown kinds are skipped with a note, in documents and in list items")
    func unknownKindsAreSkippedWithANote() {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: x, labels: {ns: x}}
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: cfg, namespace: x}
              data: {a: b}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: x}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: x}
            spec: {podSelector: {}}
            """
        let result = ManifestLoader.load(text: text, file: "f.yaml")
        #expect(result.errors == [])
        #expect(result.objects == [Self.namespaceX, Self.denyX])
        #expect(
            result.notes == [
                "f.yaml: document 0 items[1]: skipped ConfigMap cfg (not a kind Tollgate enforces)",
                "f.yaml: document 1: skipped Service web (not a kind Tollgate enforces)",
            ])
    }

    @Test("defaults: protocol TCP, policyTypes, the namespace name label, the default namespace")
    func defaults() throws {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: prod
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: web
            spec:
              podSelector:
                matchLabels: {app: web}
              ingress:
              - ports:
                - port: 80
                - port: http
                - protocol: UDP
              egress:
              - {}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: only-egress, namespace: prod}
            spec:
              podSelector: {}
              policyTypes: [Egress]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, labels: {app: web}}
            spec:
              containers:
              - name: c
                ports: [{name: http, containerPort: 8080}]
            status:
              phase: Running
              podIP: 10.0.0.5
            """
        let result = ManifestLoader.load(text: text, file: "f.yaml")
        #expect(result.errors == [])
        let ip = try #require(IPAddress("10.0.0.5"))
        #expect(
            result.objects == [
                .namespace(Namespace(name: "prod", labels: [Namespace.nameLabel: "prod"])),
                .networkPolicy(
                    NetworkPolicy(
                        namespace: "default", name: "web", podSelector: LabelSelector(matchLabels: ["app": "web"]),
                        policyTypes: [.ingress, .egress],
                        ingress: [
                            NetworkPolicyRule(ports: [
                                NetworkPolicyPort(protocol: .tcp, port: .number(80)),
                                NetworkPolicyPort(protocol: .tcp, port: .name("http")),
                                NetworkPolicyPort(protocol: .udp, port: nil),
                            ])
                        ],
                        egress: [NetworkPolicyRule()])),
                .networkPolicy(NetworkPolicy(namespace: "prod", name: "only-egress", policyTypes: .egress)),
                .pod(
                    Pod(
                        namespace: "default", name: "p", labels: ["app": "web"],
                        containerPorts: [ContainerPort(name: "http", port: 8080, protocol: .tcp)], phase: .running,
                        ips: [ip])),
            ])
        // The namespace's labels hold the name label, which selectors may use.
        if case .namespace(let namespace)? = result.objects.first {
            #expect(namespace.labels.dictionary == [Namespace.nameLabel: "prod"])
        }
    }

    @Test("an object defined twice in one file: the first is kept, the second reported")
    func duplicateInOneFile() {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: x, labels: {ns: x}}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: x, labels: {other: x}}
            """
        let result = ManifestLoader.load(text: text, file: "f.yaml")
        #expect(result.objects == [Self.namespaceX])
        // Every error names its document, this one too.
        do {
            #expect(
                result.errors == [
                    PolicyError(
                        file: "f.yaml", documentIndex: 1, object: ObjectKey(kind: "Namespace", namespace: "", name: "x"),
                        message: "defined more than once in this file; the first definition is used")
                ])
        }
    }
}
