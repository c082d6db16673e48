import Testing
import TollgateTestSupport

/// The v1alpha2 tiers on real traffic: an admin-tier ClusterNetworkPolicy Deny that a NetworkPolicy cannot reopen,
/// a baseline-tier Deny for a pod no NetworkPolicy isolates, and a baseline Pass that hands over to the default.
extension EndToEndTests {
    /// An admin-tier ClusterNetworkPolicy on the server's ingress denying namespaces labelled `team: other`.
    static let clusterAdminDenyOther = """
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: other-to-server}
        spec:
          tier: Admin
          priority: 10
          subject: {pods: {namespaceSelector: {matchLabels: {team: app}}, podSelector: {matchLabels: {app: server}}}}
          ingress:
            - {name: other, action: Deny, from: [{namespaces: {matchLabels: {team: other}}}]}

        """

    /// Baseline-tier ClusterNetworkPolicies on namespace `app`: with `pass`, one at priority 1 passing TCP 8080 from
    /// `team: other` to the default; always one at priority 2 denying everything from `team: other`.
    static func clusterBaseline(pass: Bool) -> String {
        var text = """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: deny-other}
            spec:
              tier: Baseline
              priority: 2
              subject: {namespaces: {matchLabels: {team: app}}}
              ingress:
                - {name: deny-other, action: Deny, from: [{namespaces: {matchLabels: {team: other}}}]}

            """
        if pass {
            text += """
                ---
                apiVersion: policy.networking.k8s.io/v1alpha2
                kind: ClusterNetworkPolicy
                metadata: {name: pass-web}
                spec:
                  tier: Baseline
                  priority: 1
                  subject: {namespaces: {matchLabels: {team: app}}}
                  ingress:
                    - name: pass-web
                      action: Pass
                      from: [{namespaces: {matchLabels: {team: other}}}]
                      protocols: [{tcp: {destinationPort: {number: 8080}}}]

                """
        }
        return text
    }

    @Test(
        "ClusterNetworkPolicy tiers: an admin Deny a NetworkPolicy cannot reopen, a baseline Deny, a baseline Pass to the default",
        arguments: [
            // (admin Deny?, baseline: nil, "deny" or "pass", expected intruder->server, expected intruder->client)
            (true, nil, false, true),
            (false, "deny", true, false),
            (false, "pass", true, true),
        ] as [(Bool, String?, Bool, Bool)])
    func clusterNetworkPolicyTiers(admin: Bool, baseline: String?, toServer: Bool, toClient: Bool) throws {
        // The NetworkPolicy lets namespace `other` reach the server; nothing isolates the client.
        var files = ["cluster.yaml": Manifests.baseCluster, "policy.yaml": Manifests.serverFromClientAndOther]
        if admin { files["admin.yaml"] = Self.clusterAdminDenyOther }
        if let baseline { files["baseline.yaml"] = Self.clusterBaseline(pass: baseline == "pass") }
        let scenario = try Scenario(tag: "tgT-cnp", files: files)
        defer { scenario.close() }
        try scenario.serve("server", port: 8080, transport: .tcp)
        try scenario.serve("client", port: 8080, transport: .tcp)
        let daemon = try scenario.startDaemon(scenario.options(queue: 940, port: 19941))
        let answers = try scenario.reachability([
            Probe("client", "server", 8080), Probe("intruder", "server", 8080), Probe("intruder", "client", 8080),
            Probe("intruder", "client", 8080, v: 6),
        ])
        #expect(answers == [true, toServer, toClient, toClient])
        let metrics = try daemon.metrics()
        if admin {
            #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_admin_ingress"]) >= 1)
        }
        if !toClient {
            #expect(metrics.total("tollgate_verdicts_total", matching: ["action": "drop", "reason": "denied_baseline_ingress"]) >= 2)
        }
    }
}
