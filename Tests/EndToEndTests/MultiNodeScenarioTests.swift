import Foundation
import LinuxSupport
import Testing
import TollgateTestSupport

/// The multi-node and multi-cluster scenarios of `scripts/scenario` (docs/scenarios.md), each run against the
/// binary under test, with the whole table of connection outcomes compared to what NetworkPolicy says. The
/// script builds its own namespaces (prefix `tgsc<pid>`), starts Tollgate on each node, and removes everything.
///
/// Every denial is preceded in the table by the same connection succeeding before Tollgate started
/// (`…-before-tollgate`), so a denial is Tollgate's verdict and not a broken topology.
@Suite("Multi-node scenarios", .serialized, .enabled(if: namespacesAvailable.available, "\(namespacesAvailable.reason)"))
struct MultiNodeScenarioTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var expected: [String: String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let before = "allowed"

    static let cases: [Case] = [
        // A NodePort on node 1 to a backend on node 2: node 1 judges it on client X's address before it
        // masquerades; node 2 trusts node 1's bridge address and does not judge it again.
        Case(
            arguments: ["nodeport"],
            expected: [
                "x-via-nodeport-before-tollgate": before, "y-via-nodeport-before-tollgate": before,
                "other-to-web-across-nodes-before-tollgate": before, "other-2-to-web-same-node-before-tollgate": before,
                "x-via-nodeport": "allowed", "y-via-nodeport": "denied", "client-to-web-across-nodes": "allowed",
                "other-to-web-across-nodes": "denied", "ops-to-web-by-ipblock": "allowed",
                "other-2-to-web-same-node": "denied",
            ]),
        // Enforcement on the destination node only sees node 1's masquerade address: X, which the ipBlock allows,
        // is denied. The wrong answer, shown.
        Case(
            arguments: ["nodeport", "--destination-only"],
            expected: [
                "x-via-nodeport-before-tollgate": before, "y-via-nodeport-before-tollgate": before,
                "other-to-web-across-nodes-before-tollgate": before, "other-2-to-web-same-node-before-tollgate": before,
                "x-via-nodeport": "denied", "y-via-nodeport": "denied", "client-to-web-across-nodes": "allowed",
                "other-to-web-across-nodes": "denied", "ops-to-web-by-ipblock": "allowed",
                "other-2-to-web-same-node": "denied",
            ]),
        // Pod A keeps its address towards the other cluster, whose ipBlock names it.
        Case(
            arguments: ["clusters"],
            expected: [
                "a-to-remote-server-before-tollgate": before, "b-to-remote-server-before-tollgate": before,
                "a-to-remote-server": "allowed", "b-to-remote-server": "denied",
            ]),
        // Without --remote-cluster-cidr both pods are masqueraded to the node: the policy cannot tell them apart.
        Case(
            arguments: ["clusters", "--no-remote-cidr"],
            expected: [
                "a-to-remote-server-before-tollgate": before, "b-to-remote-server-before-tollgate": before,
                "a-to-remote-server": "denied", "b-to-remote-server": "denied",
            ]),
        Case(
            arguments: ["services"],
            expected: [
                "other-to-clusterip-before-tollgate": before, "y-via-nodeport-before-tollgate": before,
                "client-to-clusterip": "allowed", "other-to-clusterip": "denied", "x-via-nodeport": "allowed",
                "y-via-nodeport": "denied",
            ]),
        Case(
            arguments: ["services", "--masquerade-all"],
            expected: [
                "other-to-clusterip-before-tollgate": before, "y-via-nodeport-before-tollgate": before,
                "client-to-clusterip": "allowed", "other-to-clusterip": "denied", "x-via-nodeport": "allowed",
                "y-via-nodeport": "denied",
            ]),
        Case(
            arguments: ["pod-to-node"],
            expected: [
                "node-probe-to-pod-before-tollgate": before, "pod-to-node-agent-before-tollgate": before,
                "node-probe-to-pod": "allowed", "pod-to-node-agent": "allowed",
            ]),
        Case(
            arguments: ["pod-to-node", "--enforce"],
            expected: [
                "node-probe-to-pod-before-tollgate": before, "pod-to-node-agent-before-tollgate": before,
                "node-probe-to-pod": "denied", "pod-to-node-agent": "denied",
            ]),
    ]

    /// `scripts/scenario`, found from this file's path.
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/scenario").path
    }

    @Test(arguments: cases)
    func scenarioConnectionsMatchThePolicies(_ scenario: Case) throws {
        let binary = try TollgateProcess.binaryPath()
        let result = try CommandRunner(timeout: .seconds(180)).run(
            ["env", "TOLLGATE_BINARY=\(binary)", Self.script] + scenario.arguments)
        var outcomes: [String: String] = [:]
        for line in result.standardOutput.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let fields = line.split(separator: " ")
            guard fields.count == 4 else { continue }
            #expect(outcomes[String(fields[1])] == nil, "\(fields[1]) reported twice")
            outcomes[String(fields[1])] = String(fields[2])
        }
        report("scenario \(scenario.testDescription): \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
        #expect(outcomes == scenario.expected, "stdout:\n\(result.standardOutput)\nstderr:\n\(result.standardError)")
        #expect(result.exitStatus == 0 && !result.timedOut, "stderr:\n\(result.standardError)")
        let leftover = NetworkNamespace.removeStale(prefix: "tgsc")
        #expect(leftover == [], "the scenario left namespaces behind")
    }
}
