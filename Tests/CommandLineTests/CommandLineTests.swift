import Foundation
import LinuxSupport
import Testing

/// `tollgate check` and `tollgate explain` as users run them: the real binary, real files, exit codes and output.
@Suite("Command line: check and explain")
struct CommandLineTests {
    static let cluster = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: x, labels: {team: a}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: y}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: a, namespace: x, labels: {app: a}}
        spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: b, namespace: y, labels: {app: b}}
        spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.0.0.2, podIPs: [{ip: 10.0.0.2}, {ip: "fd00::2"}]}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ignored, namespace: x}
        """

    static let policy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: b-from-team-a, namespace: y}
        spec:
          podSelector: {matchLabels: {app: b}}
          ingress:
            - from: [{namespaceSelector: {matchLabels: {team: a}}}]
              ports: [{port: http}]
        """

    /// The binary under test: `TOLLGATE_BINARY`, else the debug build, else the release build.
    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TOLLGATE_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        for candidate in [".build/debug/tollgate", ".build/release/tollgate"] {
            let path = root + "/" + candidate
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        Issue.record("no tollgate binary: run `swift build --product tollgate` or set TOLLGATE_BINARY")
        throw CancellationError()
    }

    static func withDirectory(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        try body(directory)
    }

    static func run(_ arguments: [String], input: String? = nil) throws -> CommandRunner.Result {
        try CommandRunner(timeout: .seconds(60)).run([try binary()] + arguments, input: input)
    }

    @Test("check: a clean directory exits 0 and counts what it loaded, noting skipped kinds")
    func checkClean() throws {
        try Self.withDirectory(["cluster.yaml": Self.cluster, "policy.yaml": Self.policy]) { directory in
            let result = try Self.run(["check", "--policy-dir", directory])
            #expect(result.exitStatus == 0)
            #expect(result.standardError == "")
            #expect(
                result.standardOutput
                    == "note: \(directory)/cluster.yaml: document 4: skipped ConfigMap ignored (not a kind Tollgate enforces)\n"
                    + "2 files: 2 namespaces, 2 pods, 1 network policies, 1 objects of other kinds skipped, 0 errors\n")
        }
    }

    @Test("check: every error is listed with file, line, document, object and field, and exits 1")
    func checkErrors() throws {
        let broken = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: bad, namespace: y}
            spec:
              podSelector: {}
              ingress:
                - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
                  ports: [{port: 70000}]
            """
        try Self.withDirectory(["cluster.yaml": Self.cluster, "broken.yaml": broken]) { directory in
            let result = try Self.run(["check", "--policy-dir", directory])
            #expect(result.exitStatus == 1)
            #expect(
                result.standardError
                    == "error: \(directory)/broken.yaml:7: document 0: NetworkPolicy y/bad: spec.ingress[0].from[0].ipBlock.cidr: \"10.0.0.0/33\" is not a valid CIDR (expected ADDRESS/LENGTH, such as 10.0.0.0/8 or fd00::/64)\n"
                    + "error: \(directory)/broken.yaml:8: document 0: NetworkPolicy y/bad: spec.ingress[0].ports[0].port: must be between 1 and 65535, got 70000\n")
            #expect(result.standardOutput.hasSuffix("2 errors\n"))
        }
    }

    @Test("check: a missing directory exits 1 and says so")
    func checkMissingDirectory() throws {
        let result = try Self.run(["check", "--policy-dir", "/nonexistent/tollgate-policies"])
        #expect(result.exitStatus == 1)
        #expect(result.standardError == "error: /nonexistent/tollgate-policies: the policy directory does not exist\n")
    }

    @Test("explain: ALLOW and DENY both exit 0 and say why")
    func explainText() throws {
        try Self.withDirectory(["cluster.yaml": Self.cluster, "policy.yaml": Self.policy]) { directory in
            let allowed = try Self.run(
                ["explain", "--policy-dir", directory, "--from", "x/a", "--to", "y/b", "--port", "8080", "--protocol", "TCP"])
            #expect(allowed.exitStatus == 0)
            #expect(
                allowed.standardOutput == """
                    ALLOW x/a (10.0.0.1) -> y/b (10.0.0.2) TCP port 8080
                    reason: allowed_by_policy
                    egress: x/a is not isolated for egress: allowed
                    ingress: y/b is isolated by y/b-from-team-a
                      allowed by y/b-from-team-a ingress[0]

                    """)
            let denied = try Self.run(
                ["explain", "--policy-dir", directory, "--from", "10.9.9.9", "--to", "y/b", "--port", "8080"])
            #expect(denied.exitStatus == 0)
            #expect(
                denied.standardOutput == """
                    DENY 10.9.9.9 (not a pod) -> y/b (10.0.0.2) TCP port 8080
                    reason: denied_ingress
                    egress: not a pod, no egress policy applies
                    ingress: y/b is isolated by y/b-from-team-a
                      no ingress rule allows this connection

                    """)
        }
    }

    static let clusterPolicies = """
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: no-team-a-to-b}
        spec:
          tier: Admin
          priority: 7
          subject: {pods: {podSelector: {matchLabels: {app: b}}}}
          ingress:
          - {name: block-team-a, action: Deny, from: [{namespaces: {matchLabels: {team: a}}}], protocols: [{tcp: {destinationPort: {number: 9090}}}]}
          - {name: rest-to-policy, action: Pass, from: [{namespaces: {}}]}
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: egress-allowlist}
        spec:
          tier: Baseline
          priority: 1
          subject: {namespaces: {matchLabels: {team: a}}}
          egress:
          - {name: registry, action: Accept, to: [{domainNames: [registry.example.com]}]}
          - {name: cluster, action: Accept, to: [{pods: {podSelector: {}}}]}
          - {name: nothing-else, action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}
        """

    @Test("check counts ClusterNetworkPolicies by tier and notes domainNames; explain names the tier, policy and rule")
    func clusterNetworkPolicies() throws {
        let files = ["cluster.yaml": Self.cluster, "policy.yaml": Self.policy, "cnp.yaml": Self.clusterPolicies]
        try Self.withDirectory(files) { directory in
            let check = try Self.run(["check", "--policy-dir", directory])
            #expect(check.exitStatus == 0)
            #expect(
                check.standardOutput
                    == "note: \(directory)/cluster.yaml: document 4: skipped ConfigMap ignored (not a kind Tollgate enforces)\n"
                    + "note: \(directory)/cnp.yaml: ClusterNetworkPolicy egress-allowlist: spec.egress[0].to[0]: domainNames peers "
                    + "match no traffic (Tollgate does not resolve domain names); the rule's other peers apply\n"
                    + "3 files: 2 namespaces, 2 pods, 1 network policies, 2 cluster network policies (1 admin, 1 baseline), "
                    + "1 objects of other kinds skipped, 0 errors\n")
            let denied = try Self.run(
                ["explain", "--policy-dir", directory, "--from", "x/a", "--to", "y/b", "--port", "9090", "--protocol", "TCP"])
            #expect(denied.exitStatus == 0)
            #expect(
                denied.standardOutput == """
                    DENY x/a (10.0.0.1) -> y/b (10.0.0.2) TCP port 9090
                    reason: denied_admin_ingress
                    egress: x/a is not isolated by NetworkPolicy; baseline tier: allowed by ClusterNetworkPolicy egress-allowlist egress[1] "cluster" (Accept)
                    ingress: admin tier: denied by ClusterNetworkPolicy no-team-a-to-b ingress[0] "block-team-a" (Deny)

                    """)
            let outside = try Self.run(
                ["explain", "--policy-dir", directory, "--from", "x/a", "--to", "192.0.2.1", "--port", "443"])
            #expect(
                outside.standardOutput == """
                    DENY x/a (10.0.0.1) -> 192.0.2.1 (not a pod) TCP port 443
                    reason: denied_baseline_egress
                    egress: x/a is not isolated by NetworkPolicy; baseline tier: denied by ClusterNetworkPolicy egress-allowlist egress[2] "nothing-else" (Deny)
                    ingress: not a pod, no ingress policy applies

                    """)
        }
    }

    @Test("explain: a pod facing an IPv6 address stands for its IPv6 address; JSON output")
    func explainJSON() throws {
        try Self.withDirectory(["cluster.yaml": Self.cluster, "policy.yaml": Self.policy]) { directory in
            let result = try Self.run(
                ["explain", "--policy-dir", directory, "--from", "fd00::1", "--to", "y/b", "--port", "8080", "--protocol",
                 "TCP", "--output", "json"])
            #expect(result.exitStatus == 0)
            let object = try #require(
                JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(object["allowed"] as? Bool == true)
            #expect(object["source"] as? String == "fd00::1")
            #expect(object["destination"] as? String == "fd00::2")
            #expect(object["sourcePod"] as? String == "x/a")
            #expect(object["reasons"] as? [String] == ["egress: x/a is not isolated", "ingress: allowed by y/b-from-team-a ingress[0]"])
        }
    }

    @Test("explain: unknown pods and bad arguments exit 2", arguments: [
        ["--from", "x/nope", "--to", "y/b", "--port", "80"],
        ["--from", "x/a", "--to", "y/b", "--port", "80", "--protocol", "GRE"],
        ["--from", "x/a", "--to", "y/b", "--protocol", "TCP"],
        ["--from", "x/a"],
    ])
    func explainBadArguments(arguments: [String]) throws {
        try Self.withDirectory(["cluster.yaml": Self.cluster, "policy.yaml": Self.policy]) { directory in
            let result = try Self.run(["explain", "--policy-dir", directory] + arguments)
            #expect(result.exitStatus == 2)
            #expect(result.standardOutput == "")
            #expect(!result.standardError.isEmpty)
        }
    }

    @Test("explain --batch: one JSON line per query, in order; a bad line gets an error and the rest go on")
    func explainBatch() throws {
        try Self.withDirectory(["cluster.yaml": Self.cluster, "policy.yaml": Self.policy]) { directory in
            let input = """
                {"from":"x/a","to":"y/b","port":8080,"protocol":"TCP"}
                not json
                {"from":"y/b","to":"x/a","port":8080,"protocol":"UDP"}
                {"from":"x/zzz","to":"y/b","port":8080}
                {"from":"x/a","to":"y/b","protocol":"ICMP"}
                {"from":"x/a","to":"y/b","port":0}

                """
            let result = try Self.run(["explain", "--policy-dir", directory, "--batch"], input: input)
            #expect(result.exitStatus == 0)
            let lines = result.standardOutput.split(separator: "\n").map {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
            }
            #expect(lines.count == 6)
            #expect(lines[0]["allowed"] as? Bool == true)
            #expect(lines[1]["error"] as? String == "not a JSON object")
            #expect(lines[2]["allowed"] as? Bool == true)
            #expect(lines[2]["reason"] as? String == "not_isolated")
            #expect(lines[3]["error"] as? String == "no pod x/zzz in the loaded manifests")
            #expect(lines[4]["allowed"] as? Bool == false)
            #expect(lines[4]["protocol"] as? String == "ICMP")
            #expect(lines[5]["error"] as? String == "\"port\" must be an integer between 1 and 65535")
        }
    }
}
