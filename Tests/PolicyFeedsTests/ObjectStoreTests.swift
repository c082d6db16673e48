import Foundation
import PolicyFeeds
import PolicyModel
import Synchronization
import Testing

struct ObjectStoreTests {
    static func pod(_ name: String, app: String) -> ManifestObject {
        .pod(Pod(namespace: "team-a", name: name, labels: ["app": app]))
    }

    /// A store with the directory and the API as sources, both holding pod `web` (the directory's with
    /// `app: <directoryApp>`) and the API also `db`.
    static func twoSources(directoryApp: String, apiApp: String) -> ObjectStore {
        let store = ObjectStore()
        store.addSource("directory")
        store.addSource("api")
        store.replace(source: "directory", with: [pod("web", app: directoryApp)])
        store.replace(source: "api", with: [pod("web", app: apiApp), pod("db", app: "db")])
        return store
    }

    @Test func theSourceAddedFirstWinsAConflictAndTheOtherCopyTakesOverWhenItGoes() {
        let store = Self.twoSources(directoryApp: "from-directory", apiApp: "from-api")

        #expect(Set(store.objects()) == [Self.pod("web", app: "from-directory"), Self.pod("db", app: "db")])
        #expect(store.conflicts() == [
            ObjectStore.Conflict(key: ObjectKey(kind: "Pod", namespace: "team-a", name: "web"), sources: ["directory", "api"])
        ])
        let statuses = store.statuses()
        #expect(statuses.map(\.name) == ["directory", "api"])
        #expect(statuses.map(\.objects) == [1, 2] && statuses.map(\.objectsOverridden) == [0, 1])

        store.replace(source: "directory", with: [])
        #expect(Set(store.objects()) == [Self.pod("web", app: "from-api"), Self.pod("db", app: "db")])
        #expect(store.conflicts().isEmpty)
    }

    @Test func replacingOneKindKeepsTheOthersAndReportsWhetherAnythingChanged() {
        let store = ObjectStore()
        store.addSource("api")
        let changes = Atomic<Int>(0)
        store.onChange { changes.add(1, ordering: .relaxed) }
        let namespace = ManifestObject.namespace(Namespace(name: "team-a"))
        #expect(store.replace(source: "api", kinds: ["Namespace"], with: [namespace]))
        #expect(store.replace(source: "api", kinds: ["Pod"], with: [Self.pod("a", app: "x"), Self.pod("b", app: "x")]))
        #expect(!store.replace(source: "api", kinds: ["Pod"], with: [Self.pod("b", app: "x"), Self.pod("a", app: "x")]))
        #expect(store.replace(source: "api", kinds: ["Pod"], with: [Self.pod("b", app: "y")]))
        #expect(Set(store.objects()) == [namespace, Self.pod("b", app: "y")])
        #expect(!store.remove(source: "api", ObjectKey(kind: "Pod", namespace: "team-a", name: "never")))
        #expect(!store.upsert(source: "api", Self.pod("b", app: "y")))
        #expect(store.upsert(source: "api", Self.pod("b", app: "z")))
        #expect(changes.load(ordering: .relaxed) == 4)
        #expect(store.statuses().first?.lastChange != nil)
    }

    @Test func becomingSyncedCountsAsAChangeEvenWithNoObjects() {
        let store = ObjectStore()
        store.addSource("api")
        let changes = Atomic<Int>(0)
        store.onChange { changes.add(1, ordering: .relaxed) }
        store.updateStatus(of: "api") { $0.connected = true }
        #expect(changes.load(ordering: .relaxed) == 0)
        store.updateStatus(of: "api") { $0.synced = true }
        store.updateStatus(of: "api") { $0.events += 1 }
        #expect(changes.load(ordering: .relaxed) == 1)
    }

    @Test func backoffGrowsWithJitterUpToItsCapAndResets() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(800))
        let ceilings: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(800)]
        for ceiling in ceilings {
            let delay = backoff.next()
            #expect(delay >= ceiling / 2 && delay <= ceiling, "\(delay) against \(ceiling)")
        }
        backoff.reset()
        #expect(backoff.next() <= .milliseconds(100))
    }
}

struct APIResponseDecodingTests {
    @Test func listItemsWithoutKindDecodeAsTheListsResource() throws {
        let body = """
            {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"77","continue":"abc"},"items":[
            {"metadata":{"name":"a","namespace":"n","labels":{"app":"x"}},"status":{"podIP":"10.0.0.1"}},
            {"metadata":{"name":"b","namespace":"n","labels":{"app":"bad value"}}}]}
            """
        let page = try APIResponseDecoder.decodeList(body, kind: "Pod", apiVersion: "v1", source: "api /api/v1/pods")
        #expect(page.resourceVersion == "77" && page.continueToken == "abc")
        #expect(page.objects.map(\.key) == [ObjectKey(kind: "Pod", namespace: "n", name: "a")])
        #expect(page.rejectedKeys == [ObjectKey(kind: "Pod", namespace: "n", name: "b")])
        #expect(page.errors.map(\.fieldPath) == ["items[1].metadata.labels.app"])
    }

    @Test func anInvalidObjectFailsWithTheSameMessageAsInAManifestFile() throws {
        let object = """
            {"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"p","namespace":"n"},\
            "spec":{"podSelector":{},"ingress":[{"ports":[{"port":70000}]}],"egres":[]}}
            """
        let fromFile = ManifestLoader.load(text: object, file: "api")
        let event = try APIResponseDecoder.decodeEvent(
            "{\"type\":\"ADDED\",\"object\":\(object)}", kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1",
            source: "api")
        #expect(event.object == nil && event.key == ObjectKey(kind: "NetworkPolicy", namespace: "n", name: "p"))
        #expect(!fromFile.errors.isEmpty)
        #expect(event.errors.map(\.message) == fromFile.errors.map(\.message))
        #expect(event.errors.map(\.fieldPath) == fromFile.errors.map { "object." + $0.fieldPath })
    }

    @Test func bookmarksErrorsAndBrokenLines() throws {
        let bookmark = try APIResponseDecoder.decodeEvent(
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12746\"}}}",
            kind: "Pod", apiVersion: "v1", source: "api")
        #expect(bookmark.type == .bookmark && bookmark.resourceVersion == "12746" && bookmark.object == nil)
        let gone = try APIResponseDecoder.decodeEvent(
            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 1 (5)\",\"reason\":\"Expired\",\"code\":410}}",
            kind: "Pod", apiVersion: "v1", source: "api")
        #expect(gone.statusCode == 410 && gone.statusMessage == "too old resource version: 1 (5)")
        #expect(throws: PolicyError.self) {
            try APIResponseDecoder.decodeEvent("{not json", kind: "Pod", apiVersion: "v1", source: "api")
        }
        #expect(throws: PolicyError.self) {
            try APIResponseDecoder.decodeEvent("{\"type\":\"RENAMED\",\"object\":{}}", kind: "Pod", apiVersion: "v1", source: "api")
        }
        #expect(throws: PolicyError.self) {
            try APIResponseDecoder.decodeEvent("{\"type\":\"ADDED\"}", kind: "Pod", apiVersion: "v1", source: "api")
        }
    }
}

struct KubernetesConnectionTests {
    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "tgF-kubeconfig-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func kubeconfigWithInlineDataAndRelativeFiles() throws {
        let ca = Data("-----BEGIN CERTIFICATE-----\n".utf8).base64EncodedString()
        let path = try Self.write(
            """
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: c1
              cluster: {server: "https://10.0.0.1:6443/", certificate-authority-data: \(ca)}
            contexts:
            - name: prod
              context: {cluster: c1, user: u1}
            users:
            - name: u1
              user: {client-certificate: certs/client.crt, client-key: certs/client.key, tokenFile: token}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let connection = try KubernetesConnection.kubeconfig(at: path)
        let base = (path as NSString).deletingLastPathComponent
        #expect(connection == KubernetesConnection(
            server: "https://10.0.0.1:6443", certificateAuthority: .data(Array("-----BEGIN CERTIFICATE-----\n".utf8)),
            token: .file(base + "/token"), clientCertificate: .file(base + "/certs/client.crt"),
            clientKey: .file(base + "/certs/client.key"), origin: "kubeconfig \(path), context prod"))
    }

    @Test(arguments: [
        ("current-context: x\nclusters: []\ncontexts: []\nusers: []", "contexts has no entry named \"x\""),
        ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: http://a}}]",
            "server must be an https:// URL, got \"http://a\""),
        ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: https://a, insecure-skip-tls-verify: true}}]",
            "insecure-skip-tls-verify is not supported"),
        ("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: https://a}}]\nusers: [{name: u, user: {exec: {command: aws}}}]",
            "user \"u\": exec is not supported"),
        ("clusters: []", "current-context is not set"),
    ])
    func kubeconfigProblemsNameTheFileAndTheEntry(text: String, expected: String) throws {
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: PolicyFeedError.self) { try KubernetesConnection.kubeconfig(at: path) }
        #expect(error?.code == .configuration)
        #expect(error?.message.hasPrefix("kubeconfig \(path): ") == true && error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func inClusterNeedsTheServiceVariablesAndTheServiceAccountFiles() throws {
        let directory = NSTemporaryDirectory() + "tgF-sa-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let noHost = #expect(throws: PolicyFeedError.self) {
            try KubernetesConnection.inCluster(environment: [:], serviceAccountDirectory: directory)
        }
        #expect(noHost?.message.contains("KUBERNETES_SERVICE_HOST is not set") == true)
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let noToken = #expect(throws: PolicyFeedError.self) {
            try KubernetesConnection.inCluster(environment: environment, serviceAccountDirectory: directory)
        }
        #expect(noToken?.message.contains("cannot read \(directory)/token") == true)
        try "t\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try "ca".write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        let connection = try KubernetesConnection.inCluster(environment: environment, serviceAccountDirectory: directory)
        #expect(connection.server == "https://[fd00::1]:443")
        #expect(try connection.currentToken() == "t")
    }
}

/// The API's JSON parser against the manifest (YAML) parser: the same objects and the same errors.
struct APIJSONParserTests {
    static let objects = [
        #"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p\u00e9-1","namespace":"n","labels":{"a\/b":"x\"y"}},"spec":{"hostNetwork":true,"nodeName":null,"containers":[{"name":"c","ports":[{"containerPort":8080,"name":"http"}]}]},"status":{"podIP":"10.0.0.1","phase":"Running"}}"#,
        #"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"q","namespace":"n","labels":{"a":"b"}},"spec":{"hostNetwork":false,"containers":[{"name":"c","ports":[{"containerPort":8080.5}]}]}}"#,
        #"{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"np","namespace":"n"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":"http","protocol":"TCP"},{"port":80,"endPort":90}],"from":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}]}],"policyTypes":["Ingress"]}}"#,
        #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n","labels":{"v":2}}}"#,
        #"{"kind":"Node","apiVersion":"v1","metadata":{"name":"node-1"},"status":{"addresses":[{"type":"InternalIP","address":"192.168.0.1"},{"type":"Hostname","address":"node-1"}]}}"#,
    ]

    @Test(arguments: objects)
    func decodesAsTheManifestParserDoes(object: String) throws {
        let fromFile = ManifestLoader.load(text: object, file: "api")
        let kind = object.contains("\"Pod\"") ? "Pod" : object.contains("NetworkPolicy") ? "NetworkPolicy" : object.contains("Namespace") ? "Namespace" : "Node"
        let event = try APIResponseDecoder.decodeEvent(
            "{\"type\": \"MODIFIED\", \"object\": \(object)}\r", kind: kind, apiVersion: "v1", source: "api")
        #expect(event.object == fromFile.objects.first, "\(fromFile.errors)")
        #expect(event.errors.map(\.message) == fromFile.errors.map(\.message))
    }

    /// libyaml rejects UTF-16 surrogate pairs in escapes; JSON allows them (RFC 8259 §7), and so does the feed.
    @Test func surrogatePairsDecodeToOneCharacter() throws {
        let event = try APIResponseDecoder.decodeEvent(
            #"{"type":"ADDED","object":{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n","labels":{"e":"\ud83d\ude00"}}}}"#,
            kind: "Namespace", apiVersion: "v1", source: "api")
        #expect(event.errors.map(\.message).first?.hasPrefix("\"😀\" must consist of") == true, "\(event.errors)")
    }

    @Test(arguments: [
        "{\"type\": \"ADDED\", \"object\": {\"a\": 1,}}", "{\"type\": \"ADDED\", \"object\": {\"a\": 01}}",
        "{\"type\": \"ADDED\", \"object\": {\"a\": \"\\x\"}}", "{\"type\": \"ADDED\", \"object\": {\"a\": 1, \"a\": 2}}",
        "{\"type\": \"ADDED\", \"object\": {}} trailing", "{\"type\": \"ADDED\", \"object\": {\"a\": \"\\ud800\"}}",
        "{\"type\": \"ADDED\", \"object\": {\"a\": tru}}", "{\"type\": \"ADDED\", \"object\": {\"a\": \"open}}",
        String(repeating: "[", count: 10_000),
    ])
    func brokenJSONIsAnErrorNotATrap(line: String) {
        #expect(throws: PolicyError.self) {
            try APIResponseDecoder.decodeEvent(line, kind: "Pod", apiVersion: "v1", source: "api")
        }
    }
}
