import Foundation
import Testing
import TollgateTestSupport

extension EndToEndTests {
    /// Node objects that appear and disappear change the peers the kernel rules trust, at once and without a
    /// restart; this node's own Node object and interfaces stay local.
    @Test("Node objects added and removed update the trusted peer addresses in the kernel rules")
    func nodeObjectsUpdateTrustedPeers() throws {
        let scenario = try Self.baseScenario(tag: "e2e-nodes", policy: Manifests.serverFromClient)
        defer { scenario.close() }
        var options = scenario.options(queue: 340, port: 19341)
        options.extraArguments = ["--pod-to-node", "enforce", "--node-name", "node-a"]
        let daemon = try scenario.startDaemon(options)
        let peerRule = "iptables-save: -A TOLLGATE-POLICY -s 192.168.77.2/32 -j RETURN"

        let initial = try daemon.status()
        let initialNodes = try #require(initial.nodes)
        #expect(initialNodes.podToNode == "enforce" && initialNodes.nodeName == "node-a")
        #expect(initialNodes.localAddresses.contains("169.254.1.1/32"), "\(initialNodes)")
        #expect(initialNodes.peerAddresses == [])
        #expect(try !scenario.tollgateRules().contains(peerRule))

        try scenario.directory.write(
            "nodes.yaml",
            """
            apiVersion: v1
            kind: Node
            metadata: {name: node-a}
            status: {addresses: [{type: InternalIP, address: 192.168.77.1}]}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-b}
            status: {addresses: [{type: InternalIP, address: 192.168.77.2}, {type: Hostname, address: node-b}]}
            """)
        let withNodes = try daemon.waitForGeneration(atLeast: initial.generation + 1)
        #expect(withNodes.nodes?.peerAddresses == ["192.168.77.2/32"])
        #expect(withNodes.nodes?.localAddresses.contains("192.168.77.1/32") == true, "\(String(describing: withNodes.nodes))")
        #expect(try scenario.tollgateRules().contains(peerRule))
        #expect(try daemon.metrics().total("tollgate_rule_updates_total", matching: ["result": "applied"]) == 1)
        // The rules still judge this node's pods: policy as before.
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])

        try scenario.directory.delete("nodes.yaml")
        let withoutNodes = try daemon.waitForGeneration(atLeast: withNodes.generation + 1)
        #expect(withoutNodes.nodes?.peerAddresses == [])
        #expect(try !scenario.tollgateRules().contains(peerRule))
        #expect(try daemon.metrics().total("tollgate_rule_updates_total", matching: ["result": "applied"]) == 2)
    }
}
