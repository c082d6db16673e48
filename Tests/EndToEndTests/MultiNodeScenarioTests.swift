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
@Suite(
    "Multi-node scenarios", .serialized, .offCooperativePool,
    .enabled(if: namespacesAvailable.available, "\(namespacesAvailable.reason)"))
struct MultiNodeScenarioTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var expected: [String: String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// Connections that `scripts/scenario` shows working before Tollgate starts, then `outcomes` with Tollgate.
    static func table(before: [String], _ outcomes: [String: String]) -> [String: String] {
        outcomes.merging(before.map { ("\($0)-before-tollgate", "allowed") }) { first, _ in first }
    }

    static let nodePortBefore = [
        "x-via-nodeport", "y-via-nodeport", "other-to-web-across-nodes", "other-2-to-web-same-node",
    ]
    /// A NodePort on node 1 to a backend on node 2: node 1 judges it on client X's address before it masquerades;
    /// node 2 trusts node 1's bridge address and does not judge it again.
    static let nodePort: [String: String] = [
        "x-via-nodeport": "allowed", "y-via-nodeport": "denied", "client-to-web-across-nodes": "allowed",
        "other-to-web-across-nodes": "denied", "ops-to-web-by-ipblock": "allowed", "other-2-to-web-same-node": "denied",
    ]
    static let clustersBefore = ["a-to-remote-server", "b-to-remote-server"]
    static let servicesBefore = ["other-to-clusterip", "y-via-nodeport"]
    /// The same with and without masquerade-all: Tollgate judges before nat POSTROUTING.
    static let services: [String: String] = [
        "client-to-clusterip": "allowed", "other-to-clusterip": "denied", "x-via-nodeport": "allowed",
        "y-via-nodeport": "denied",
    ]
    static let podToNodeBefore = ["node-probe-to-pod", "pod-to-node-agent"]

    static let cases: [Case] = [
        Case(arguments: ["nodeport"], expected: table(before: nodePortBefore, nodePort)),
        // Enforcement on the destination node only sees node 1's masquerade address: X, which the ipBlock allows,
        // is denied. The wrong answer, shown.
        Case(
            arguments: ["nodeport", "--destination-only"],
            expected: table(before: nodePortBefore, nodePort.merging(["x-via-nodeport": "denied"]) { $1 })),
        // Pod A keeps its address towards the other cluster, whose ipBlock names it.
        Case(
            arguments: ["clusters"],
            expected: table(before: clustersBefore, ["a-to-remote-server": "allowed", "b-to-remote-server": "denied"])),
        // Without --remote-cluster-cidr both pods are masqueraded to the node: the policy cannot tell them apart.
        Case(
            arguments: ["clusters", "--no-remote-cidr"],
            expected: table(before: clustersBefore, ["a-to-remote-server": "denied", "b-to-remote-server": "denied"])),
        Case(arguments: ["services"], expected: table(before: servicesBefore, services)),
        Case(arguments: ["services", "--masquerade-all"], expected: table(before: servicesBefore, services)),
        Case(
            arguments: ["pod-to-node"],
            expected: table(before: podToNodeBefore, ["node-probe-to-pod": "allowed", "pod-to-node-agent": "allowed"])),
        Case(
            arguments: ["pod-to-node", "--enforce"],
            expected: table(before: podToNodeBefore, ["node-probe-to-pod": "denied", "pod-to-node-agent": "denied"])),
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
