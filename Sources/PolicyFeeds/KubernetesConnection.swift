import Foundation
import Yams

/// How to reach and authenticate to a Kubernetes API server: its URL, the CA that signs its certificate, and the
/// client's credentials. Built from a kubeconfig file or from a pod's in-cluster environment.
///
/// Trust: the server is trusted only through the given CA (never the system's roots); the bearer token is read
/// from its file on every connection and after every 401, so a rotated service-account token is picked up.
public struct KubernetesConnection: Sendable, Hashable {
    /// Where the bearer token comes from.
    public enum Token: Sendable, Hashable {
        /// No token (client certificates authenticate, or nothing does).
        case none
        /// A token given inline (kubeconfig `token`).
        case literal(String)
        /// A file holding the token, reread on every connection (kubeconfig `tokenFile`, the service account's
        /// projected token).
        case file(String)
    }

    /// PEM data, inline or in a file.
    public enum PEM: Sendable, Hashable {
        /// A PEM file, read when the feed starts.
        case file(String)
        /// PEM bytes given inline (kubeconfig `*-data`, base64-decoded).
        case data([UInt8])
    }

    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// The CA bundle the server's certificate must chain to; nil means the system's trust roots.
    public var certificateAuthority: PEM?
    /// The bearer token.
    public var token: Token
    /// A client certificate from the kubeconfig (given with ``clientKey``, or not at all).
    public var clientCertificate: PEM?
    /// The client certificate's private key.
    public var clientKey: PEM?
    /// Where the settings came from, for logs and errors (`kubeconfig FILE, context NAME` or `in-cluster`).
    public var origin: String

    /// A connection with explicit settings.
    public init(
        server: String, certificateAuthority: PEM?, token: Token, clientCertificate: PEM? = nil, clientKey: PEM? = nil,
        origin: String
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.token = token
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.origin = origin
    }

    /// The current bearer token: the file is read now. Nil when there is none.
    ///
    /// - Throws: ``PolicyFeedError`` (`configuration`) naming the token file when it cannot be read or is empty.
    public func currentToken() throws(PolicyFeedError) -> String? {
        switch token {
        case .none: return nil
        case .literal(let text): return text
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PolicyFeedError(.configuration, "cannot read the token file \(path) (\(origin))")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else {
                throw PolicyFeedError(.configuration, "the token file \(path) is empty (\(origin))")
            }
            return text
        }
    }
}

extension KubernetesConnection {
    /// The service account's files in a pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The in-cluster connection, as a pod sees it: `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, the
    /// service account's `token` (reread on every connection, since kubelet rotates it) and `ca.crt`.
    ///
    /// - Throws: ``PolicyFeedError`` (`configuration`) naming the missing variable or file.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = serviceAccountDirectory
    ) throws(PolicyFeedError) -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw PolicyFeedError(
                .configuration,
                "--in-cluster: KUBERNETES_SERVICE_HOST is not set; run Tollgate in a pod, or use --kubeconfig")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], let number = UInt16(port), number > 0 else {
            throw PolicyFeedError(
                .configuration,
                "--in-cluster: KUBERNETES_SERVICE_PORT is \(environment["KUBERNETES_SERVICE_PORT"].map { "\"\($0)\"" } ?? "not set"); expected a port number")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        let caPath = serviceAccountDirectory + "/ca.crt"
        for path in [tokenPath, caPath] where !FileManager.default.isReadableFile(atPath: path) {
            throw PolicyFeedError(
                .configuration, "--in-cluster: cannot read \(path); is a service account token mounted in the pod?")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubernetesConnection(
            server: "https://\(hostPart):\(number)", certificateAuthority: .file(caPath), token: .file(tokenPath),
            origin: "in-cluster")
    }

    /// The connection of the kubeconfig at `path`: its current context (or `context`), that context's cluster
    /// and user. Relative file names in the kubeconfig are relative to its directory, as kubectl reads them.
    ///
    /// - Throws: ``PolicyFeedError`` (`configuration`) naming the file, the entry and the field.
    public static func kubeconfig(at path: String, context wanted: String? = nil) throws(PolicyFeedError)
        -> KubernetesConnection
    {
        func fail(_ message: String) -> PolicyFeedError {
            PolicyFeedError(.configuration, "kubeconfig \(path): \(message)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) else {
                throw fail("the file is empty")
            }
            root = node
        } catch let error as PolicyFeedError {
            throw error
        } catch {
            throw fail("not valid YAML: \(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") || base.isEmpty ? file : base + "/" + file
        }
        func named(_ list: String, _ name: String, _ field: String) throws(PolicyFeedError) -> Node {
            guard let items = root[list]?.sequence else { throw fail("\(list) is missing") }
            guard let entry = items.first(where: { $0["name"]?.string == name }) else {
                throw fail("\(list) has no entry named \"\(name)\"")
            }
            guard let value = entry[field], value.mapping != nil else {
                throw fail("\(list) entry \"\(name)\" has no \(field)")
            }
            return value
        }
        guard let contextName = wanted ?? root["current-context"]?.string, !contextName.isEmpty else {
            throw fail("current-context is not set")
        }
        let context = try named("contexts", contextName, "context")
        guard let clusterName = context["cluster"]?.string else {
            throw fail("context \"\(contextName)\" names no cluster")
        }
        let cluster = try named("clusters", clusterName, "cluster")
        guard let server = cluster["server"]?.string, server.hasPrefix("https://") else {
            throw fail(
                "cluster \"\(clusterName)\": server must be an https:// URL, got \(cluster["server"]?.string.map { "\"\($0)\"" } ?? "none")")
        }
        if cluster["insecure-skip-tls-verify"]?.bool == true {
            throw fail(
                "cluster \"\(clusterName)\": insecure-skip-tls-verify is not supported; Tollgate trusts the API server only through its CA (certificate-authority)")
        }
        func pem(_ entry: Node, _ fileField: String, _ dataField: String, _ what: String) throws(PolicyFeedError) -> PEM? {
            if let encoded = entry[dataField]?.string {
                guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                    throw fail("\(what): \(dataField) is not base64")
                }
                return .data(Array(decoded))
            }
            return entry[fileField]?.string.map { .file(resolve($0)) }
        }
        let authority = try pem(cluster, "certificate-authority", "certificate-authority-data", "cluster \"\(clusterName)\"")

        var token = Token.none
        var certificate: PEM? = nil
        var key: PEM? = nil
        if let userName = context["user"]?.string, !userName.isEmpty {
            let user = try named("users", userName, "user")
            let what = "user \"\(userName)\""
            for unsupported in ["exec", "auth-provider", "username"] where user[unsupported] != nil {
                throw fail("\(what): \(unsupported) is not supported; use a token, tokenFile or client certificate")
            }
            if let text = user["token"]?.string {
                token = .literal(text)
            } else if let file = user["tokenFile"]?.string {
                token = .file(resolve(file))
            }
            certificate = try pem(user, "client-certificate", "client-certificate-data", what)
            key = try pem(user, "client-key", "client-key-data", what)
            if (certificate == nil) != (key == nil) {
                throw fail("\(what): a client certificate needs its key, and a key its certificate")
            }
        }
        return KubernetesConnection(
            server: server, certificateAuthority: authority, token: token, clientCertificate: certificate,
            clientKey: key, origin: "kubeconfig \(path), context \(contextName)")
    }
}
