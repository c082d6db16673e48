import Foundation
import Logging
import NetworkTypes
import PolicyFeeds
import PolicyModel
import Testing
import TollgateTestSupport

/// The API feed against the fake API server (`Fixtures/fake_apiserver.py`) on the host's loopback, over TLS with a
/// CA made for the test and a bearer token. Each test has its own ports; the suite runs serially to spare the
/// two-core machine.
@Suite(.serialized)
struct KubernetesFeedTests {
    static func pod(_ name: String, namespace: String = "team-a", labels: [String: String], ip: String) -> String {
        let labelText = labels.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        return """
            {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "\(name)", "namespace": "\(namespace)", \
            "uid": "0b1c", "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {\(labelText)}}, \
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx", \
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]}, \
            "status": {"phase": "Running", "podIP": "\(ip)", "podIPs": [{"ip": "\(ip)"}], \
            "conditions": [{"type": "Ready", "status": "True"}]}}
            """
    }

    static let namespace = """
        {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "team-a", "labels": {"team": "a"}}, \
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        """

    static let policy = """
        {"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "deny-all", \
        "namespace": "team-a", "generation": 1}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
        """

    /// A feed of `server` into a new store, with short backoffs and the given kubeconfig.
    static func makeFeed(_ server: FakeAPIServer, kubeconfig: String? = nil) throws -> (KubernetesFeed, ObjectStore) {
        let store = ObjectStore()
        var settings = KubernetesFeed.Settings()
        settings.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(400))
        settings.watchTimeout = .seconds(30)
        settings.notServedRecheck = .seconds(1)
        var logger = Logger(label: "feed-test")
        logger.logLevel = .critical
        let connection = try KubernetesConnection.kubeconfig(at: kubeconfig ?? server.kubeconfigPath)
        let feed = try KubernetesFeed(connection: connection, store: store, settings: settings, logger: logger)
        return (feed, store)
    }

    /// Waits up to `timeout` for `condition`, sleeping without holding a thread of the concurrency pool (the
    /// feed's tasks run there: a test that blocked it could starve them on two cores).
    static func eventually(
        _ what: String, timeout: Duration = .seconds(30), store: ObjectStore? = nil, _ condition: () throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Checked once more after the deadline: other suites' synchronous tests can hold every thread of the
            // concurrency pool for longer than the timeout, and the condition may have come true meanwhile.
            if try condition() { return }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what); sources: \(store?.statuses().description ?? "-")")
        throw CancellationError()
    }

    /// Runs `body` with a started feed of `server`, and stops the feed afterwards, also when `body` throws.
    static func withFeed(
        _ server: FakeAPIServer, kubeconfig: String? = nil, _ body: (KubernetesFeed, ObjectStore) async throws -> Void
    ) async throws {
        let (feed, store) = try makeFeed(server, kubeconfig: kubeconfig)
        feed.start()
        do {
            try await body(feed, store)
        } catch {
            await feed.stop()
            throw error
        }
        await feed.stop()
    }

    static func status(_ store: ObjectStore) -> SourceStatus { store.statuses().first { $0.name == "api" }! }

    static func podKey(_ name: String, _ namespace: String = "team-a") -> ObjectKey {
        ObjectKey(kind: "Pod", namespace: namespace, name: name)
    }

    static func labels(_ store: ObjectStore, _ key: ObjectKey) -> [String: String]? {
        guard case .pod(let pod)? = store.objects(of: "api")[key] else { return nil }
        return pod.labels.dictionary
    }

    @Test func listsThenWatchesAddsModificationsAndDeletions() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try server.apply(Self.namespace)
        try server.apply(Self.policy)
        try server.apply(Self.pod("web-1", labels: ["app": "web"], ip: "10.244.1.5"))
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced && Self.status(store).connected }
            #expect(Set(store.objects(of: "api").keys) == [
                ObjectKey(kind: "Namespace", namespace: "", name: "team-a"),
                ObjectKey(kind: "NetworkPolicy", namespace: "team-a", name: "deny-all"), Self.podKey("web-1"),
            ])
            #expect(store.objects(of: "api")[Self.podKey("web-1")] == .pod(
                Pod(namespace: "team-a", name: "web-1", labels: ["app": "web"], nodeName: "node-1",
                    containerPorts: [ContainerPort(name: "http", port: 8080, protocol: .tcp)], phase: .running,
                    ips: [IPAddress("10.244.1.5")!])))
            // Every resource, the admin-policy CRDs included, listed once.
            #expect(Self.status(store).relists == UInt64(APIResource.all.count))

            try server.apply(Self.pod("web-2", labels: ["app": "web"], ip: "10.244.1.6"))
            try await Self.eventually("ADDED web-2") { store.objects(of: "api")[Self.podKey("web-2")] != nil }
            try server.apply(Self.pod("web-2", labels: ["app": "web", "tier": "front"], ip: "10.244.1.6"))
            try await Self.eventually("MODIFIED web-2") { Self.labels(store, Self.podKey("web-2"))?["tier"] == "front" }
            try server.delete(kind: "Pod", namespace: "team-a", name: "web-1")
            try await Self.eventually("DELETED web-1") { store.objects(of: "api")[Self.podKey("web-1")] == nil }
            // Deleting what was never there is harmless.
            try server.delete(kind: "Pod", namespace: "team-a", name: "never-existed")
            try server.apply(Self.pod("web-3", labels: ["app": "web"], ip: "10.244.1.7"))
            try await Self.eventually("ADDED web-3") { store.objects(of: "api")[Self.podKey("web-3")] != nil }
            #expect(store.objects(of: "api").count == 4)
            let status = Self.status(store)
            #expect(status.malformedEvents == 0 && status.reconnects == 0 && status.lastError == nil, "\(status)")
            #expect(status.events >= 5)
        }
    }

    @Test func bookmarkLetsTheWatchResumeAfterCompactionWithoutAList() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try server.apply(Self.pod("web-1", labels: ["app": "web"], ip: "10.244.1.5"))
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced }
            try await Self.eventually("six open watches") { (try server.stats()["openWatches"] as? Int) == APIResource.all.count }
            // A change elsewhere moves the resource version past every list's; only the bookmark tells the other
            // watches. Compaction then forgets every older version, and the watches are dropped.
            try server.apply(Self.namespace)
            try await Self.eventually("the namespace") { store.objects(of: "api").count == 2 }
            try server.control("/control/bookmark", "{}")
            try await Task.sleep(for: .milliseconds(300))
            try server.control("/control/compact", "{}")
            try server.control("/control/drop", "{}")
            try await Self.eventually("watches reopened") {
                try server.count("watches", path: "/api/v1/pods") >= 2 && (try server.stats()["openWatches"] as? Int) == APIResource.all.count
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.status(store).relists == UInt64(APIResource.all.count), "a watch resumed from its bookmark needs no list")
            #expect(try server.count("lists", path: "/api/v1/pods") == 1)
        }
    }

    @Test func expiredWatchListsAgainAndTheListReplacesTheResource() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try server.apply(Self.pod("web-1", labels: ["app": "web"], ip: "10.244.1.5"))
        try server.apply(Self.pod("web-2", labels: ["app": "web"], ip: "10.244.1.6"))
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced }
            try await Self.eventually("watches open") { (try server.stats()["openWatches"] as? Int) == APIResource.all.count }
            // Changes no watch hears of (as if missed during an outage): only a new list shows them.
            try server.control("/control/delete", "{\"kind\": \"Pod\", \"namespace\": \"team-a\", \"name\": \"web-1\", \"silent\": true}")
            try server.control("/control/apply", "{\"silent\": true, \"object\": \(Self.pod("web-9", labels: ["app": "db"], ip: "10.244.1.9"))}")
            // 410 as an ERROR event in the open watches.
            try server.control("/control/compact", "{\"notifyWatchers\": true}")
            try await Self.eventually("the relist") {
                Set(store.objects(of: "api").keys) == [Self.podKey("web-2"), Self.podKey("web-9")]
            }
            try await Self.eventually("every resource listed again") { Self.status(store).relists == UInt64(2 * APIResource.all.count) }

            // 410 as the HTTP status of the watch request itself.
            try server.control("/control/expired-as", "{\"mode\": \"status\"}")
            try server.control("/control/apply", "{\"silent\": true, \"object\": \(Self.pod("web-10", labels: ["app": "db"], ip: "10.244.1.10"))}")
            try server.control("/control/compact", "{}")
            try server.control("/control/drop", "{}")
            try await Self.eventually("the relist after an HTTP 410") { store.objects(of: "api")[Self.podKey("web-10")] != nil }
            #expect(Self.status(store).malformedEvents == 0)
        }
    }

    @Test func droppedConnectionsAndServerErrorsReconnectWithBackoff() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced }
            try await Self.eventually("watches open") { (try server.stats()["openWatches"] as? Int) == APIResource.all.count }
            // Every request answers 503 for a while, and the open watches are cut mid-stream.
            try server.control("/control/fail", "{\"status\": 503, \"count\": 12}")
            try server.control("/control/drop", "{}")
            try await Self.eventually("the 503 answers reported") { Self.status(store).lastError?.contains("503") == true }
            #expect(!Self.status(store).connected)
            try server.apply(Self.pod("late", labels: ["app": "web"], ip: "10.244.1.5"))
            try await Self.eventually("back, with the change made meanwhile") {
                Self.status(store).connected && store.objects(of: "api")[Self.podKey("late")] != nil
            }
            let status = Self.status(store)
            #expect(status.reconnects >= 1 && status.lastError == nil, "\(status)")
            // Resumed from the last resource version: no list needed.
            #expect(status.relists == UInt64(APIResource.all.count), "\(status)")
        }
    }

    @Test func malformedEventsAreCountedAndTheObjectKeepsItsLastGoodState() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try server.apply(Self.pod("web-1", labels: ["app": "web"], ip: "10.244.1.5"))
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced }
            try await Self.eventually("watches open") { (try server.stats()["openWatches"] as? Int) == APIResource.all.count }
            let invalid = Self.pod("web-1", labels: ["app": "not a valid label value!"], ip: "10.244.1.5")
            try server.control("/control/raw", "{\"kind\": \"Pod\", \"line\": \"{not json\"}")
            try server.control("/control/raw", "{\"kind\": \"Pod\", \"line\": \"{\\\"type\\\": \\\"RENAMED\\\", \\\"object\\\": {}}\"}")
            try server.apply(invalid)
            try server.apply(Self.pod("web-2", labels: ["app": "web"], ip: "10.244.1.6"))
            try await Self.eventually("the valid event after the bad ones") { store.objects(of: "api")[Self.podKey("web-2")] != nil }
            #expect(Self.labels(store, Self.podKey("web-1")) == ["app": "web"], "the invalid MODIFIED must not replace the last good pod")
            let status = Self.status(store)
            #expect(status.malformedEvents == 3 && status.connected, "\(status)")
        }
    }

    @Test func rotatedTokenIsReadAgainAfterAnUnauthorizedAnswer() async throws {
        let server = try FakeAPIServer(token: "token-1")
        defer { server.removeFiles() }
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the first list", store: store) { feed.isSynced }
            try server.control("/control/tokens", "{\"tokens\": [\"token-2\"]}")
            try server.control("/control/drop", "{}")
            try await Self.eventually("401 seen") { Self.status(store).lastError?.contains("401") == true }
            #expect(!Self.status(store).connected)
            try server.writeToken("token-2")
            try server.apply(Self.pod("after-rotation", labels: ["app": "web"], ip: "10.244.1.5"))
            try await Self.eventually("reconnected with the new token") {
                Self.status(store).connected && store.objects(of: "api")[Self.podKey("after-rotation")] != nil
            }
            let seen = try server.stats()["tokensSeen"] as? [String]
            #expect(seen == ["token-1", "token-2"])
        }
    }

    @Test func unauthorizedFromTheStartLeavesTheSourceUnsyncedWithTheReason() async throws {
        let server = try FakeAPIServer(token: "token-1")
        defer { server.removeFiles() }
        try server.writeToken("wrong-token")
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("the 401 reported") { Self.status(store).lastError?.contains("401 Unauthorized") == true }
            #expect(!feed.isSynced && !Self.status(store).connected && store.objects(of: "api").isEmpty)
            #expect(Self.status(store).lastError?.contains("reread") == true, "\(Self.status(store))")
        }
    }

    @Test func serverCertificateFromAnotherCAFailsCleanly() async throws {
        let server = try FakeAPIServer()
        defer { server.removeFiles() }
        try server.apply(Self.namespace)
        let path = server.directory + "/wrong-ca.kubeconfig"
        try server.kubeconfig(caPath: server.otherCAPath, tokenFile: server.tokenPath).write(
            toFile: path, atomically: true, encoding: .utf8)
        try await Self.withFeed(server, kubeconfig: path) { feed, store in
            try await Self.eventually("the TLS failure reported") { Self.status(store).lastError != nil }
            let error = Self.status(store).lastError ?? ""
            #expect(error.contains("TLS") && error.contains(server.url), "\(error)")
            #expect(!feed.isSynced && store.objects(of: "api").isEmpty)
            // No request ever reached the API: the handshake failed first.
            #expect(try server.stats()["requests"] as? Int == 0)
        }
    }

    @Test func clientCertificateFromTheKubeconfigAuthenticates() async throws {
        let server = try FakeAPIServer(clientCertificates: true)
        defer { server.removeFiles() }
        try server.apply(Self.namespace)
        let path = server.directory + "/client-certificate.kubeconfig"
        try """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters: [{name: fake, cluster: {server: "\(server.url)", certificate-authority: \(server.caPath)}}]
            contexts: [{name: c, context: {cluster: fake, user: cert}}]
            users: [{name: cert, user: {client-certificate: \(server.clientCertificatePath), client-key: \(server.clientKeyPath)}}]

            """.write(toFile: path, atomically: true, encoding: .utf8)
        try await Self.withFeed(server, kubeconfig: path) { feed, store in
            try await Self.eventually("synced with the client certificate") { feed.isSynced && Self.status(store).connected }
            #expect(store.objects(of: "api").count == 1)
            #expect(try server.stats()["tokensSeen"] as? [String] == [], "no token was sent")
        }
    }

    @Test func resourcesTheServerDoesNotServeAreNoError() async throws {
        let server = try FakeAPIServer(extraArguments: ["--no-admin-policies"])
        defer { server.removeFiles() }
        try server.apply(Self.namespace)
        try await Self.withFeed(server) { feed, store in
            try await Self.eventually("synced without the admin-policy CRDs") { feed.isSynced && Self.status(store).connected }
            #expect(Self.status(store).lastError == nil)
            #expect(store.objects(of: "api").count == 1)
        }
    }
}
