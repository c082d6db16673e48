import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PolicyModel
import Synchronization

/// The Kubernetes API as a source of objects: for each resource, list (in pages), then watch from the list's
/// `resourceVersion` with bookmarks, and keep the source's objects in the ``ObjectStore`` current.
///
/// Faults, per resource: `410 Gone` (as the watch's HTTP status or as an ERROR event with code 410) lists again,
/// and the new list replaces that resource's objects in one step; a dropped connection resumes the watch from the
/// last resource version seen; a refused connection, a 5xx, 429, 401 or 403 waits a capped, jittered,
/// exponential backoff (``Backoff``) and tries again, rereading the token first. A malformed event or list item is
/// logged and counted, and the object keeps its last good state. While the API is unreachable the store keeps
/// what it had, so enforcement goes on with the last good state.
public final class KubernetesFeed: Sendable {
    /// Tunables; the defaults suit a production node.
    public struct Settings: Sendable {
        /// Items per list page (`limit`).
        public var listPageSize = 500
        /// How long the server keeps a watch open (`timeoutSeconds`); each watch draws between this and twice it,
        /// so watches of many nodes do not end together.
        public var watchTimeout: Duration = .seconds(300)
        /// The longest a list request may take.
        public var listTimeout: Duration = .seconds(120)
        /// How long to connect before giving up.
        public var connectTimeout: Duration = .seconds(5)
        /// The backoff after failures.
        public var backoff = Backoff()
        /// How often a resource the server does not serve (an uninstalled CRD) is looked for again.
        public var notServedRecheck: Duration = .seconds(60)
        /// The longest watch event line accepted.
        public var maximumEventBytes = 16 << 20

        /// The defaults.
        public init() {}
    }

    /// The source name in the store, `/status` and logs.
    public let name: String
    /// Where the feed connects.
    public let connection: KubernetesConnection
    /// The resources listed and watched.
    public let resources: [APIResource]
    private let store: ObjectStore
    private let settings: Settings
    private let logger: Logger
    private let client: HTTPClient
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let resourceStates = Mutex<[String: ResourceState]>([:])

    private struct ResourceState {
        var connected = false
        var synced = false
        var lastError: String? = nil
    }

    /// A feed of `connection` into `store` under the source name `name` (which it adds to the store). Reads the
    /// CA and client certificate now.
    ///
    /// - Throws: ``PolicyFeedError`` (`configuration`) naming a CA or certificate file that cannot be loaded.
    public init(
        connection: KubernetesConnection, store: ObjectStore, name: String = "api",
        resources: [APIResource] = APIResource.all, settings: Settings = Settings(), logger: Logger
    ) throws(PolicyFeedError) {
        self.name = name
        self.connection = connection
        self.resources = resources
        self.store = store
        self.settings = settings
        self.logger = logger
        let tls = try Self.tlsConfiguration(connection)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(Int64(Self.seconds(settings.connectTimeout) * 1e9))))
        configuration.httpVersion = .http1Only
        // One long-lived connection per watch, plus lists: room for every resource at once.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 2 * resources.count + 2
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        store.addSource(name)
        store.updateStatus(of: name) { $0.location = connection.server }
        resourceStates.withLock { states in
            for resource in resources { states[resource.path] = ResourceState() }
        }
    }

    /// Starts listing and watching every resource in the background.
    public func start() {
        logger.info("watching the Kubernetes API", metadata: ["server": "\(connection.server)", "from": "\(connection.origin)"])
        let started = Task.detached { [self] in
            await withTaskGroup(of: Void.self) { group in
                for resource in resources { group.addTask { await self.run(resource) } }
            }
        }
        task.withLock { $0 = started }
    }

    /// Stops every list and watch and closes the connections. The store keeps the objects.
    public func stop() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
        do {
            try await client.shutdown()
        } catch {
            logger.warning("closing the Kubernetes API client failed: \(error)")
        }
    }

    /// ``stop()`` for callers on a thread of their own (never on the concurrency pool).
    public func stopAndWait() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await self.stop()
            done.signal()
        }
        done.wait()
    }

    /// Whether every resource has been listed at least once.
    public var isSynced: Bool { resourceStates.withLock { $0.values.allSatisfy(\.synced) } }

    // MARK: One resource

    private func run(_ resource: APIResource) async {
        var backoff = settings.backoff
        var resourceVersion: String? = nil
        var failing = false
        while !Task.isCancelled {
            do {
                if failing { store.updateStatus(of: name) { $0.reconnects += 1 } }
                var version: String
                if let resourceVersion {
                    version = resourceVersion
                } else {
                    version = try await list(resource)
                    resourceVersion = version
                }
                let watchStarted = ContinuousClock.now
                // `version` follows every event, so a watch that breaks resumes after the last event applied.
                defer { resourceVersion = version }
                try await watch(resource, from: &version) {
                    // The watch is open: the resource is connected again.
                    self.markConnected(resource)
                    if failing {
                        self.logger.notice("the Kubernetes API is back", metadata: ["resource": "\(resource)"])
                        failing = false
                    }
                    backoff.reset()
                }
                // A watch the server closed at once, again and again, must not become a busy loop.
                if ContinuousClock.now - watchStarted < .seconds(1) { try await Task.sleep(for: backoff.next()) }
            } catch is CancellationError {
                break
            } catch let error as PolicyFeedError where error.code == .expired {
                logger.info("\(error); listing again", metadata: ["resource": "\(resource)"])
                resourceVersion = nil
            } catch let error as PolicyFeedError where error.code == .notServed && resource.optional {
                markNotServed(resource)
                resourceVersion = nil
                do { try await Task.sleep(for: settings.notServedRecheck) } catch { break }
            } catch {
                if Task.isCancelled { break }
                let message = (error as? PolicyFeedError)?.message ?? describe(error, resource)
                markFailed(resource, message)
                if !failing {
                    logger.error(
                        "lost the Kubernetes API: \(message); enforcing the last good state and retrying with backoff",
                        metadata: ["resource": "\(resource)"])
                } else {
                    logger.debug("still cannot reach the Kubernetes API: \(message)", metadata: ["resource": "\(resource)"])
                }
                failing = true
                do { try await Task.sleep(for: backoff.next()) } catch { break }
            }
        }
    }

    /// Lists `resource` page by page and replaces its objects in the store in one step. Returns the list's
    /// resource version.
    private func list(_ resource: APIResource) async throws -> String {
        var objects: [ManifestObject] = []
        var rejected: [ObjectKey] = []
        var continueToken: String? = nil
        var resourceVersion: String? = nil
        let source = "\(name) \(resource)"
        repeat {
            var query = "limit=\(settings.listPageSize)"
            if let continueToken { query += "&continue=\(Self.percentEncoded(continueToken))" }
            let response = try await send(resource, query: query, timeout: settings.listTimeout)
            let body = try await response.body.collect(upTo: 1 << 30)
            let page: APIResponseDecoder.ListPage
            do {
                page = try APIResponseDecoder.decodeList(
                    String(buffer: body), kind: resource.kind, apiVersion: resource.apiVersion, source: source)
            } catch {
                throw PolicyFeedError(.response, "\(error)")
            }
            objects += page.objects
            rejected += page.rejectedKeys
            if !page.errors.isEmpty {
                store.updateStatus(of: name) { $0.malformedEvents += UInt64(max(page.rejectedKeys.count, 1)) }
                for error in page.errors.prefix(20) { logger.error("\(error)") }
                if page.errors.count > 20 { logger.error("\(page.errors.count - 20) more errors in this list page") }
            }
            resourceVersion = page.resourceVersion
            continueToken = page.continueToken
        } while continueToken != nil
        guard let resourceVersion, !resourceVersion.isEmpty else {
            throw PolicyFeedError(.response, "\(source): the list has no metadata.resourceVersion")
        }
        if !rejected.isEmpty {
            // Items that failed to decode keep their last good state.
            let previous = store.objects(of: name)
            objects += rejected.compactMap { previous[$0] }
        }
        store.replace(source: name, kinds: [resource.kind], with: objects)
        store.updateStatus(of: name) { $0.relists += 1 }
        resourceStates.withLock { $0[resource.path]?.synced = true }
        markConnected(resource)
        logger.info(
            "listed \(objects.count) objects", metadata: ["resource": "\(resource)", "resourceVersion": "\(resourceVersion)"])
        return resourceVersion
    }

    /// Watches `resource` from `resourceVersion` until the server ends the stream, keeping `resourceVersion` at
    /// the last version seen (also when the stream breaks). `opened` runs once the server accepted the watch.
    private func watch(
        _ resource: APIResource, from resourceVersion: inout String, opened: () -> Void
    ) async throws {
        let timeoutSeconds = Int(Self.seconds(settings.watchTimeout) * Double.random(in: 1.0..<2.0))
        let query =
            "watch=1&allowWatchBookmarks=true&resourceVersion=\(Self.percentEncoded(resourceVersion))&timeoutSeconds=\(timeoutSeconds)"
        let response = try await send(resource, query: query, timeout: .seconds(timeoutSeconds + 30))
        opened()
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[start..<newline]
                start = newline + 1
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                if let next = try handle(String(decoding: line, as: UTF8.self), resource) { resourceVersion = next }
            }
            pending.removeFirst(start)
            if pending.count > settings.maximumEventBytes {
                throw PolicyFeedError(
                    .response, "\(resource): a watch event exceeds \(settings.maximumEventBytes) bytes")
            }
        }
    }

    /// Applies one watch event; returns its resource version, if it has one.
    private func handle(_ line: String, _ resource: APIResource) throws(PolicyFeedError) -> String? {
        let source = "\(name) \(resource) watch"
        store.updateStatus(of: name) { $0.events += 1 }
        let event: APIResponseDecoder.WatchEvent
        do {
            event = try APIResponseDecoder.decodeEvent(
                line, kind: resource.kind, apiVersion: resource.apiVersion, source: source)
        } catch {
            malformed("\(error)")
            return nil
        }
        switch event.type {
        case .bookmark:
            break
        case .error:
            let message = event.statusMessage ?? "no message"
            if event.statusCode == 410 {
                throw PolicyFeedError(.expired, "\(resource): the watch's resource version expired (410 Gone: \(message))")
            }
            throw PolicyFeedError(
                .response, "\(resource): the watch reported an error (code \(event.statusCode.map(String.init) ?? "none"): \(message))")
        case .added, .modified, .deleted:
            if let key = event.key, key.kind != resource.kind {
                malformed("\(source): got a \(key.kind) in a watch of \(resource.kind) objects")
                break
            }
            if event.type == .deleted {
                // Even an object that no longer decodes can be deleted by key; deleting an unknown one is harmless.
                if let key = event.key { store.remove(source: name, key) }
                if event.key == nil { malformed(event.errors.first.map { "\($0)" } ?? "\(source): a DELETED object without a name") }
            } else if let object = event.object {
                store.upsert(source: name, object)
            } else if !event.errors.isEmpty {
                // Keep the object's last good state.
                malformed(event.errors.map(\.description).joined(separator: "; "))
            }
        }
        return event.resourceVersion
    }

    // MARK: Requests

    private func send(_ resource: APIResource, query: String, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: connection.server + resource.path + "?" + query)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tollgate")
        if let token = try connection.currentToken() {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + .nanoseconds(Int64(Self.seconds(timeout) * 1e9)))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw PolicyFeedError(.connection, describe(error, resource))
        }
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            let detail = Self.statusMessage(body).map { ": \($0)" } ?? ""
            let what = "\(connection.server)\(resource.path) answered \(response.status.code) \(response.status.reasonPhrase)\(detail)"
            switch response.status.code {
            case 410: throw PolicyFeedError(.expired, what)
            case 401:
                throw PolicyFeedError(
                    .unauthorized, what + " (the token from \(connection.origin) was refused; it is reread before the next attempt)")
            case 403:
                throw PolicyFeedError(.unauthorized, what + " (grant list and watch on \(resource.path) to Tollgate's identity)")
            case 404: throw PolicyFeedError(.notServed, what)
            default: throw PolicyFeedError(.response, what)
            }
        }
        return response
    }

    private func describe(_ error: any Error, _ resource: APIResource) -> String {
        var text = "\(error)"
        if let ssl = error as? NIOSSLError {
            text = "TLS with \(connection.server) failed: \(ssl) (does the API server's certificate chain to the CA in \(connection.origin)?)"
        } else if "\(error)".contains("handshake") || "\(error)".contains("certificate") {
            text = "TLS with \(connection.server) failed: \(error) (does the API server's certificate chain to the CA in \(connection.origin)?)"
        }
        return "\(connection.server)\(resource.path): \(text)"
    }

    // MARK: Status

    private func malformed(_ message: String) {
        store.updateStatus(of: name) { $0.malformedEvents += 1 }
        logger.error("ignored a malformed watch event (the object keeps its last good state): \(message)")
    }

    private func markConnected(_ resource: APIResource) {
        let (connected, synced) = resourceStates.withLock { states -> (Bool, Bool) in
            states[resource.path]?.connected = true
            states[resource.path]?.lastError = nil
            return (states.values.allSatisfy(\.connected), states.values.allSatisfy(\.synced))
        }
        store.updateStatus(of: name) {
            $0.connected = connected
            $0.synced = synced
            if connected { $0.lastError = nil }
        }
    }

    private func markFailed(_ resource: APIResource, _ message: String) {
        resourceStates.withLock {
            $0[resource.path]?.connected = false
            $0[resource.path]?.lastError = message
        }
        store.updateStatus(of: name) {
            $0.connected = false
            $0.lastError = message
        }
    }

    private func markNotServed(_ resource: APIResource) {
        let wasServed = resourceStates.withLock { states -> Bool in
            let was = states[resource.path]?.synced ?? false
            states[resource.path]?.synced = true
            return was && states[resource.path]?.connected == true
        }
        if wasServed || store.objects(of: name).keys.contains(where: { $0.kind == resource.kind }) {
            store.replace(source: name, kinds: [resource.kind], with: [])
        }
        logger.info(
            "the API server does not serve \(resource.kind) (its CRD is not installed); looking again every \(settings.notServedRecheck)",
            metadata: ["resource": "\(resource)"])
        markConnected(resource)
    }

    // MARK: Helpers

    private static func tlsConfiguration(_ connection: KubernetesConnection) throws(PolicyFeedError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        func certificates(_ pem: KubernetesConnection.PEM, _ what: String) throws(PolicyFeedError) -> [NIOSSLCertificate] {
            do {
                switch pem {
                case .file(let path): return try NIOSSLCertificate.fromPEMFile(path)
                case .data(let bytes): return try NIOSSLCertificate.fromPEMBytes(bytes)
                }
            } catch {
                throw PolicyFeedError(.configuration, "\(connection.origin): cannot load the \(what) \(pem.label): \(error)")
            }
        }
        if let authority = connection.certificateAuthority {
            let roots = try certificates(authority, "certificate authority")
            guard !roots.isEmpty else {
                throw PolicyFeedError(.configuration, "\(connection.origin): the certificate authority \(authority.label) holds no certificate")
            }
            tls.trustRoots = .certificates(roots)
        }
        if let certificate = connection.clientCertificate, let key = connection.clientKey {
            tls.certificateChain = try certificates(certificate, "client certificate").map { .certificate($0) }
            do {
                switch key {
                case .file(let path): tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: path, format: .pem))
                case .data(let bytes): tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: bytes, format: .pem))
                }
            } catch {
                throw PolicyFeedError(.configuration, "\(connection.origin): cannot load the client key \(key.label): \(error)")
            }
        }
        return tls
    }

    /// The `message` of a `Status` body, if the body is one.
    private static func statusMessage(_ body: String) -> String? {
        guard let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return body.isEmpty ? nil : String(body.prefix(200)) }
        return object["message"] as? String
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension KubernetesConnection.PEM {
    /// The file name, or `(inline data)`, for errors.
    fileprivate var label: String {
        switch self {
        case .file(let path): return path
        case .data: return "(inline data)"
        }
    }
}
