import PolicyModel
import Testing

extension BrokenObject {
    /// A broken NetworkPolicy ok/bad (of `apiVersion`) before the NetworkPolicy ok/good.
    static func networkPolicy(
        name: String, apiVersion: String = "networking.k8s.io/v1", body: [String],
        errors: [(path: String, line: Int?, message: String)]
    ) -> BrokenObject {
        BrokenObject(
            name: name, apiVersion: apiVersion, object: ObjectKey(kind: "NetworkPolicy", namespace: "ok", name: "bad"),
            body: body,
            neighbour: Neighbour(
                apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", spec: "spec: {podSelector: {}}"),
            errors: errors)
    }
}

@Suite("Manifest errors: located exactly, and the rest of the file still loads")
struct ManifestErrorTests {
    static let peerPath = "spec.ingress[0].from[0]"
    static let portPath = "spec.ingress[0].ports[0]"

    static let broken: [BrokenObject] = [
        .networkPolicy(
            name: "bad CIDR", body: ["podSelector: {}", "ingress:", "- from:", "  - ipBlock: {cidr: 10.0.0.0/33}"],
            errors: [
                (
                    peerPath + ".ipBlock.cidr", 12,
                    "\"10.0.0.0/33\" is not a valid CIDR (expected ADDRESS/LENGTH, such as 10.0.0.0/8 or fd00::/64)"
                )
            ]),
        .networkPolicy(
            name: "except outside the cidr",
            body: ["podSelector: {}", "ingress:", "- from:", "  - ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}"],
            errors: [(peerPath + ".ipBlock.except[0]", 12, "192.168.0.0/16 must be strictly within the cidr 10.0.0.0/8")]),
        .networkPolicy(
            name: "except equal to the cidr",
            body: ["podSelector: {}", "ingress:", "- from:", "  - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}"],
            errors: [(peerPath + ".ipBlock.except[0]", 12, "10.0.0.0/8 must be strictly within the cidr 10.0.0.0/8")]),
        .networkPolicy(
            name: "endPort with a named port",
            body: ["podSelector: {}", "ingress:", "- ports:", "  - {port: http, endPort: 90}"],
            errors: [(portPath + ".endPort", 12, "may only be set when port is a number")]),
        .networkPolicy(
            name: "endPort below port", body: ["podSelector: {}", "ingress:", "- ports:", "  - {port: 90, endPort: 80}"],
            errors: [(portPath + ".endPort", 12, "must be between port (90) and 65535, got 80")]),
        .networkPolicy(
            name: "port 0", body: ["podSelector: {}", "ingress:", "- ports:", "  - {port: 0}"],
            errors: [(portPath + ".port", 12, "must be between 1 and 65535, got 0")]),
        .networkPolicy(
            name: "port 70000", body: ["podSelector: {}", "ingress:", "- ports:", "  - {port: 70000}"],
            errors: [(portPath + ".port", 12, "must be between 1 and 65535, got 70000")]),
        .networkPolicy(
            name: "unknown protocol", body: ["podSelector: {}", "ingress:", "- ports:", "  - {protocol: ICMP, port: 80}"],
            errors: [(portPath + ".protocol", 12, "unsupported protocol \"ICMP\"; expected TCP, UDP or SCTP")]),
        .networkPolicy(
            name: "unknown operator",
            body: ["podSelector:", "  matchExpressions:", "  - {key: app, operator: Equals, values: [a]}"],
            errors: [
                (
                    "spec.podSelector.matchExpressions[0].operator", 11,
                    "unknown operator \"Equals\"; expected In, NotIn, Exists or DoesNotExist"
                )
            ]),
        .networkPolicy(
            name: "In with no values", body: ["podSelector:", "  matchExpressions:", "  - {key: app, operator: In}"],
            errors: [("spec.podSelector.matchExpressions[0].values", 11, "must be non-empty when operator is In")]),
        .networkPolicy(
            name: "NotIn with an empty list of values",
            body: ["podSelector:", "  matchExpressions:", "  - {key: app, operator: NotIn, values: []}"],
            errors: [("spec.podSelector.matchExpressions[0].values", 11, "must be non-empty when operator is NotIn")]),
        .networkPolicy(
            name: "Exists with values",
            body: ["podSelector:", "  matchExpressions:", "  - {key: app, operator: Exists, values: [a]}"],
            errors: [("spec.podSelector.matchExpressions[0].values", 11, "must be empty when operator is Exists")]),
        .networkPolicy(
            name: "a peer with both ipBlock and podSelector",
            body: ["podSelector: {}", "ingress:", "- from:", "  - {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}"],
            errors: [(peerPath, 12, "ipBlock cannot be combined with podSelector or namespaceSelector in one peer")]),
        .networkPolicy(
            name: "an empty peer {}", body: ["podSelector: {}", "ingress:", "- from:", "  - {}"],
            errors: [(peerPath, 12, "must specify a peer (podSelector, namespaceSelector or ipBlock)")]),
        .networkPolicy(
            name: "an invalid label value", body: ["podSelector:", "  matchLabels: {app: -bad}"],
            errors: [
                (
                    "spec.podSelector.matchLabels.app", 10,
                    "\"-bad\" must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"
                )
            ]),
        .networkPolicy(
            name: "an unquoted numeric label value", body: ["podSelector:", "  matchLabels: {version: 2}"],
            errors: [("spec.podSelector.matchLabels.version", 10, "label value must be a string; quote it: \"2\"")]),
        .networkPolicy(
            name: "an unknown field in spec (typo podselector)", body: ["podselector: {}"],
            errors: [
                (
                    "spec.podselector", 9,
                    "unknown field \"podselector\"; expected one of: egress, ingress, podSelector, policyTypes"
                ),
                ("spec.podSelector", 9, "is required (use {} to select every pod in the namespace)"),
            ]),
        .networkPolicy(
            name: "missing podSelector", body: ["policyTypes: [Ingress]"],
            errors: [("spec.podSelector", 9, "is required (use {} to select every pod in the namespace)")]),
        .networkPolicy(
            name: "wrong apiVersion", apiVersion: "networking.k8s.io/v1beta1", body: ["podSelector: {}"],
            errors: [
                ("apiVersion", 5, "NetworkPolicy must have apiVersion networking.k8s.io/v1, got \"networking.k8s.io/v1beta1\"")
            ]),
        .networkPolicy(
            name: "unknown policy type", body: ["podSelector: {}", "policyTypes: [Ingres]"],
            errors: [("spec.policyTypes[0]", 10, "unknown policy type \"Ingres\"; expected Ingress or Egress")]),
        .networkPolicy(
            name: "every error of one object at once",
            body: ["podSelector: {}", "ingress:", "- ports:", "  - {port: 0}", "  - {protocol: ICMP}"],
            errors: [
                (portPath + ".port", 12, "must be between 1 and 65535, got 0"),
                ("spec.ingress[0].ports[1].protocol", 13, "unsupported protocol \"ICMP\"; expected TCP, UDP or SCTP"),
            ]),
    ]

    @Test("each broken manifest gives exactly its errors, and its neighbours load", arguments: broken)
    func brokenManifest(_ manifest: BrokenObject) {
        let result = manifest.expectExactErrors()
        #expect(
            result.objects == [
                .namespace(Namespace(name: "ok")),
                .networkPolicy(NetworkPolicy(namespace: "ok", name: "good", podSelector: .everything)),
            ])
    }

    @Test("a syntax error in a later document is reported, not read as the end of the file")
    func syntaxErrorInALaterDocument() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nkind: [\n"
        let result = ManifestLoader.load(text: text, file: "later.yaml")
        do {
            #expect(result.errors.map(\.file) == ["later.yaml"])
            #expect(result.errors.first?.message.hasPrefix("invalid YAML") == true)
        }
    }

    @Test("invalid YAML syntax names the file and the line")
    func invalidYAMLSyntax() throws {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: ok}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: [unclosed
            spec: {podSelector: {}}
            """
        let result = ManifestLoader.load(text: text, file: "syntax.yaml")
        do {
            let error = try #require(result.errors.first)
            #expect(result.errors.count == 1)
            #expect(error.file == "syntax.yaml")
            #expect(error.message.hasPrefix("invalid YAML"))
            // The parser notices the unclosed flow sequence at the end of the stream (lines 8 to 10).
            #expect((8...10).contains(error.line ?? 0))
            #expect(error.object == nil)
            // A syntax error stops the whole file: the stream cannot be split into documents reliably.
            #expect(result.objects == [])
        }
    }

    @Test("nested YAML aliases (a billion laughs) are refused quickly, not expanded")
    func aliasBombIsRefused() throws {
        // fuzz/crashes/manifest-loader-oom-alias-bomb.yaml: 446 bytes naming 9^8 nodes.
        var lines = ["a0: &a0 [\"x\"]"]
        for level in 1...8 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        let started = ContinuousClock.now
        let result = ManifestLoader.load(text: lines.joined(separator: "\n") + "\n", file: "bomb.yaml")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(result.objects == [])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.message == "the file expands to far more nodes than its size allows (nested YAML aliases?)")
    }
}
