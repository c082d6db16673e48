import Foundation
import Testing
import TollgateTestSupport

/// The daemon fed by the Kubernetes API: the fake API server runs inside the node namespace with the daemon
/// (`ip netns exec`: a daemon in a namespace cannot reach the host's loopback), over TLS with a test CA and a
/// bearer token; policy changes made through the API change real connections' verdicts.
extension EndToEndTests {
    /// The objects of `Manifests.basePods` and `Manifests.baseNamespaces` as the API returns them (JSON, with
    /// fields the engine ignores, such as `uid` and conditions).
    static var apiClusterObjects: [String] {
        let namespaces = Manifests.baseNamespaces.map { namespace in
            """
            {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "\(namespace.name)", "uid": "u-\(namespace.name)", \
            "labels": \(jsonObject(namespace.labels))}, "status": {"phase": "Active"}}
            """
        }
        let pods = Manifests.basePods.map { pod in
            let ports = pod.ports.map { "{\"name\": \"\($0.name)\", \"containerPort\": \($0.port), \"protocol\": \"\($0.proto)\"}" }
            return """
                {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "\(pod.name)", "namespace": "\(pod.namespace)", \
                "uid": "u-\(pod.name)", "labels": \(jsonObject(pod.labels))}, "spec": {"nodeName": "node-1", \
                "containers": [{"name": "main", "image": "test", "ports": [\(ports.joined(separator: ", "))]}]}, \
                "status": {"phase": "Running", "podIP": "\(pod.ipv4)", "podIPs": [{"ip": "\(pod.ipv4)"}, {"ip": "\(pod.ipv6)"}], \
                "conditions": [{"type": "Ready", "status": "True"}]}}
                """
        }
        return namespaces + pods
    }

    static func jsonObject(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    /// `server-ingress` in namespace `app` with the given `from` peers (JSON), on the named port `http`.
    static func apiServerIngress(from peers: [String]) -> String {
        let ingress = peers.isEmpty ? "[]" : "[{\"from\": [\(peers.joined(separator: ", "))], \"ports\": [{\"port\": \"http\"}]}]"
        return """
            {"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "server-ingress", \
            "namespace": "app", "uid": "u-policy", "generation": 1}, "spec": {"podSelector": {"matchLabels": {"app": "server"}}, \
            "policyTypes": ["Ingress"], "ingress": \(ingress)}}
            """
    }

    static let fromClient = "{\"podSelector\": {\"matchLabels\": {\"app\": \"client\"}}}"
    static let fromTeamOther = "{\"namespaceSelector\": {\"matchLabels\": {\"team\": \"other\"}}}"

    /// A scenario with no policy directory content, the server pod's TCP 8080 probe server, and the fake API
    /// server in the node holding the base cluster.
    static func apiScenario(tag: String, files: [String: String], createDirectory: Bool) throws -> (Scenario, FakeAPIServer) {
        let scenario = try Scenario(tag: tag, files: files, createDirectory: createDirectory)
        do {
            try scenario.serve("server", port: 8080, transport: .tcp)
            let api = try FakeAPIServer(port: 16443, controlPort: 16444, namespace: scenario.topology.node)
            for object in apiClusterObjects { try api.apply(object) }
            return (scenario, api)
        } catch {
            scenario.close()
            throw error
        }
    }

    @Test("A daemon fed only by the Kubernetes API enforces what the API says, and follows a policy change")
    func kubernetesAPIOnlyFeedsEnforcement() throws {
        let (scenario, api) = try Self.apiScenario(tag: "tgF-api", files: [:], createDirectory: false)
        defer {
            scenario.close()
            api.stop()
            api.removeFiles()
        }
        try api.apply(Self.apiServerIngress(from: [Self.fromClient]))
        var options = TollgateProcess.Options(policyDirectory: nil, queueNumber: 2200, metricsPort: 19941)
        options.extraArguments = ["--kubeconfig", api.kubeconfigPath]
        let daemon = try scenario.startDaemon(options)
        var status = try daemon.status()
        #expect(status.sources.map(\.kind) == ["kubernetes-api"] && status.sources.first?.connected == true, "\(status)")
        #expect(status.sources.first?.objects == 6 && status.pods == 3 && status.policies == 1, "\(status)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])

        var latencies: [Duration] = []
        for (peers, expected) in [
            ([Self.fromClient, Self.fromTeamOther], [true, true, true, true]),
            ([], [false, false, false, false]),
            ([Self.fromClient], [true, true, false, false]),
        ] {
            let generation = try daemon.status().generation
            let changed = ContinuousClock.now
            try api.apply(Self.apiServerIngress(from: peers))
            status = try daemon.waitForGeneration(atLeast: generation + 1)
            latencies.append(ContinuousClock.now - changed)
            #expect(try scenario.reachability(Self.clientAndIntruderProbes) == expected, "\(peers)")
        }
        report(
            "API change -> /status generation seen (curl in the namespace, 20 ms poll): "
                + latencies.map { "\($0.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 0))))" }
                .joined(separator: ", "))

        // The API goes away: enforcement stays, /status and the metrics say so.
        let generation = try daemon.status().generation
        try api.control("/control/fail", "{\"status\": 503, \"count\": 1000000}")
        try api.control("/control/drop", "{}")
        try daemon.wait(for: "the API reported unreachable") { () throws(TollgateProcess.Failure) -> Bool in
            try daemon.status().sources.first?.connected == false
        }
        #expect(try daemon.metrics().total("tollgate_source_connected", matching: ["source": "api"]) == 0)
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
        // Meanwhile the policy changes and the API forgets the old versions: on return, the watch gets 410, the
        // relist replaces the API's objects, and the change applies.
        try api.control("/control/apply", "{\"silent\": true, \"object\": \(Self.apiServerIngress(from: []))}")
        try api.control("/control/compact", "{}")
        try api.control("/control/fail", "{\"clear\": true}")
        status = try daemon.waitForGeneration(atLeast: generation + 1, timeout: .seconds(20))
        // Each resource retries on its own backoff: the last may reconnect a little after the first relist.
        try daemon.wait(for: "every API resource reconnected", timeout: .seconds(40)) { () throws(TollgateProcess.Failure) -> Bool in
            try daemon.status().sources.first?.connected == true
        }
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [false, false, false, false])
        let metrics = try daemon.metrics()
        #expect(metrics.total("tollgate_source_relists_total", matching: ["source": "api"]) > 7, "seven resources listed at the start, more after the 410")
        #expect(metrics.total("tollgate_source_reconnects_total", matching: ["source": "api"]) >= 1)
        #expect(metrics.total("tollgate_source_objects", matching: ["source": "api"]) == 6)
    }

    @Test("An object in both the directory and the API: the directory's copy is in force, and reported")
    func directoryWinsAConflictWithTheAPI() throws {
        // The directory holds only the deny-all version of server-ingress; the API holds the cluster and a
        // version that lets the client in.
        let (scenario, api) = try Self.apiScenario(
            tag: "tgF-two", files: ["policy.yaml": Manifests.serverDenyAll], createDirectory: true)
        defer {
            scenario.close()
            api.stop()
            api.removeFiles()
        }
        try api.apply(Self.apiServerIngress(from: [Self.fromClient]))
        var options = scenario.options(queue: 2210, port: 19951)
        options.extraArguments = ["--kubeconfig", api.kubeconfigPath]
        let daemon = try scenario.startDaemon(options)
        var status = try daemon.status()
        #expect(status.sources.map(\.kind) == ["directory", "kubernetes-api"], "\(status)")
        #expect(status.sourceConflicts == [
            "NetworkPolicy app/server-ingress: defined by directory and api; the directory copy is in force"
        ])
        #expect(status.sources.map(\.objects) == [1, 6] && status.sources.map(\.objectsOverridden) == [0, 1], "\(status)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [false, false, false, false])
        #expect(try daemon.metrics().total("tollgate_source_conflicts") == 1)

        // Removing the directory's copy lets the API's take over.
        let generation = status.generation
        try scenario.directory.delete("policy.yaml")
        status = try daemon.waitForGeneration(atLeast: generation + 1)
        #expect(status.sourceConflicts == [], "\(status)")
        #expect(try scenario.reachability(Self.clientAndIntruderProbes) == [true, true, false, false])
    }
}
