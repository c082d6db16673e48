import Testing
import TollgateTestSupport

/// The tier order on real traffic: admin policies first (Allow and Deny decide, Pass hands over), then
/// NetworkPolicy, then the baseline, then allow.
extension EndToEndTests {
    /// An admin policy on the server's ingress with one rule for namespaces labelled `team: other`.
    static func adminPolicy(action: String) -> String {
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: other-to-server}
        spec:
          priority: 10
          subject:
            pods:
              namespaceSelector: {matchLabels: {team: app}}
              podSelector: {matchLabels: {app: server}}
          ingress:
            - name: other
              action: \(action)
              from: [{namespaces: {matchLabels: {team: other}}}]

        """
    }

    /// The baseline: nothing from namespaces labelled `team: other` into namespace `app`.
    static let baselineDenyOther = """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: BaselineAdminNetworkPolicy
        metadata: {name: default}
        spec:
          subject: {namespaces: {matchLabels: {team: app}}}
          ingress:
            - name: deny-other
              action: Deny
              from: [{namespaces: {matchLabels: {team: other}}}]

        """

    @Test(
        "Tier order: an admin Deny a NetworkPolicy cannot reopen, an admin Pass handed to the NetworkPolicy, a baseline Deny a NetworkPolicy opens",
        arguments: [
            // (admin action or nil, baseline?, expected intruder->server, expected intruder->client)
            ("Deny", false, false, true),
            ("Pass", false, true, true),
            ("Allow", true, true, false),
            (nil, true, true, false),
        ] as [(String?, Bool, Bool, Bool)])
    func tierOrder(admin: String?, baseline: Bool, toServer: Bool, toClient: Bool) throws {
        // The NetworkPolicy lets namespace `other` reach the server; nothing isolates the client.
        var files = ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClientAndOther]
        if let admin { files["admin.yaml"] = Self.adminPolicy(action: admin) }
        if baseline { files["baseline.yaml"] = Self.baselineDenyOther }
        let scenario = try Scenario(tag: "e2e-tier", files: files)
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        try scenario.serve("client", port: 8080, transport: .tcp)
        let daemon = try scenario.startDaemon(scenario.options(queue: 930, port: 19931))
        let status = try daemon.status()
        #expect(status.policies == 1)
        let answers = try scenario.reachability([
            Probe("client", "server", 8080), Probe("intruder", "server", 8080), Probe("intruder", "client", 8080),
            Probe("intruder", "server", 8080, v: 6),
        ])
        #expect(answers == [true, toServer, toClient, toServer])
        let metrics = try daemon.metrics()
        if admin == "Deny" {
            #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_admin_ingress"]) >= 2)
        }
        if baseline && !toClient {
            #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_baseline_ingress"]) >= 1)
        }
    }
}
