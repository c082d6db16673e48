import Foundation
public import LinuxSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Kubernetes API server double (`Tests/PolicyFeedsTests/Fixtures/fake_apiserver.py`) started for a test:
/// a fresh CA and server certificate made with `openssl`, a token file, a kubeconfig naming all three, and the
/// server itself, on the host's loopback or inside a network namespace (`ip netns exec`). Tests drive it through
/// its control port with `curl`, run where the server runs.
public final class FakeAPIServer: @unchecked Sendable {
    /// Why the server could not be prepared, started or driven.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What failed, with the command's output.
        public var description: String
    }

    /// The directory holding the certificates, token file, kubeconfig and log.
    public let directory: String
    /// The HTTPS port of the API.
    public private(set) var port: UInt16
    /// The plain-HTTP control port (127.0.0.1 where the server runs).
    public private(set) var controlPort: UInt16
    /// The CA that signed the server's certificate.
    public var caPath: String { directory + "/ca.crt" }
    /// A second CA that signed nothing the server uses (for the wrong-CA test).
    public var otherCAPath: String { directory + "/other-ca.crt" }
    /// A client certificate the CA signed (and its key, ``clientKeyPath``), for `--client-ca`.
    public var clientCertificatePath: String { directory + "/client.crt" }
    /// The client certificate's key.
    public var clientKeyPath: String { directory + "/client.key" }
    /// The file holding the client's bearer token.
    public var tokenPath: String { directory + "/token" }
    /// A kubeconfig naming the server, the CA and the token file.
    public var kubeconfigPath: String { directory + "/kubeconfig" }
    /// The server's log.
    public var logPath: String { directory + "/server.log" }
    /// `https://127.0.0.1:<port>`.
    public var url: String { "https://127.0.0.1:\(port)" }

    private let runner: CommandRunner
    private var process: CommandRunner.BackgroundProcess?

    /// The fixture script's path, found next to this file in the source tree.
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PolicyFeedsTests/Fixtures/fake_apiserver.py").path
    }

    /// Prepares certificates, the token file (holding `token`) and the kubeconfig, and starts the server,
    /// accepting `token`. Ports 0 (the default) let the server pick free ones, so runs of the same tests at the same
    /// time never meet; the server's first log line names them. `namespace`: run inside it (nil: the host's loopback). `clientCertificates`: also
    /// accept a client certificate the test CA signed (``clientCertificatePath``) instead of a token.
    public init(
        port: UInt16 = 0, controlPort: UInt16 = 0, token: String = "token-1", namespace: NetworkNamespace? = nil,
        clientCertificates: Bool = false, extraArguments: [String] = []
    ) throws(Failure) {
        self.port = port
        self.controlPort = controlPort
        runner = namespace?.runner ?? CommandRunner(timeout: .seconds(30))
        var template = Array("/tmp/tgF-api-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        try Self.makeCertificates(in: directory)
        try writeToken(token)
        do {
            process = try runner.start(
                [
                    "python3", Self.scriptPath, "--port", "\(port)", "--control-port", "\(controlPort)", "--cert",
                    directory + "/server.crt", "--key", directory + "/server.key", "--token", token,
                ] + (clientCertificates ? ["--client-ca", directory + "/ca.crt"] : []) + extraArguments, logPath: logPath)
        } catch {
            throw Failure(description: "cannot start the fake API server: \(error)")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let ports = Self.listeningPorts(log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "") {
                self.port = ports.api
                self.controlPort = ports.control
                if (try? get("/control/ready")) != nil {
                    try write(kubeconfig(caPath: caPath, tokenFile: tokenPath), to: kubeconfigPath)
                    return
                }
            }
            if process?.isRunning != true { break }
            usleep(50_000)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        stop()
        throw Failure(description: "the fake API server did not come up on port \(port); log:\n\(log)")
    }

    deinit { stop() }

    /// The ports of the server's `serving on HOST:PORT, control on HOST:PORT` line, once it is logged.
    static func listeningPorts(log: String) -> (api: UInt16, control: UInt16)? {
        guard let line = log.split(separator: "\n").first(where: { $0.hasPrefix("serving on ") }) else { return nil }
        let ports = line.split(separator: ",").compactMap { part in part.split(separator: ":").last.flatMap { UInt16($0) } }
        return ports.count == 2 ? (ports[0], ports[1]) : nil
    }

    /// Stops the server (the files stay for inspection until ``removeFiles()``).
    public func stop() {
        process?.terminate()
        process = nil
    }

    /// Removes the directory of certificates and files.
    public func removeFiles() { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes `token` to the client's token file (a rotation, as kubelet does).
    public func writeToken(_ token: String) throws(Failure) { try write(token + "\n", to: tokenPath) }

    /// A kubeconfig for the server with the given CA and token file.
    public func kubeconfig(caPath: String, tokenFile: String) -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: fake
          cluster:
            server: \(url)
            certificate-authority: \(caPath)
        contexts:
        - name: test
          context:
            cluster: fake
            user: tollgate
        users:
        - name: tollgate
          user:
            tokenFile: \(tokenFile)

        """
    }

    /// POSTs `json` to the control path (`/control/apply`, …) and returns the answer's body.
    @discardableResult
    public func control(_ path: String, _ json: String) throws(Failure) -> String {
        try curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-"], path: path, input: json)
    }

    /// Adds or replaces an object (JSON with kind, apiVersion and metadata); returns the new resource version.
    public func apply(_ objectJSON: String) throws(Failure) {
        try control("/control/apply", "{\"object\": \(objectJSON)}")
    }

    /// Deletes an object, sending a DELETED event even when the server never had it.
    public func delete(kind: String, namespace: String = "", name: String) throws(Failure) {
        try control("/control/delete", "{\"kind\": \"\(kind)\", \"namespace\": \"\(namespace)\", \"name\": \"\(name)\"}")
    }

    /// The server's counters (`GET /control/stats`): lists and watches per path, unauthorized requests, tokens
    /// seen, open watches, the current resource version.
    public func stats() throws(Failure) -> [String: Any] {
        let body = try get("/control/stats")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw Failure(description: "control stats are not JSON: \(body)")
        }
        return object
    }

    /// How many list (or watch) requests reached `path`.
    public func count(_ kind: String, path: String) throws(Failure) -> Int {
        ((try stats()[kind] as? [String: Any])?[path] as? Int) ?? 0
    }

    private func get(_ path: String) throws(Failure) -> String { try curl([], path: path, input: nil) }

    private func curl(_ options: [String], path: String, input: String?) throws(Failure) -> String {
        let arguments = ["curl", "-sf", "--max-time", "10"] + options + ["http://127.0.0.1:\(controlPort)\(path)"]
        let result: CommandRunner.Result
        do {
            result = try runner.run(arguments, input: input)
        } catch {
            throw Failure(description: "\(arguments.joined(separator: " ")): \(error)")
        }
        guard result.succeeded else {
            throw Failure(
                description: "\(arguments.joined(separator: " ")) exited \(result.exitStatus): \(result.standardError)")
        }
        return result.standardOutput
    }

    private func write(_ text: String, to path: String) throws(Failure) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot write \(path): \(error)")
        }
    }

    /// A CA, a server certificate it signs for 127.0.0.1 and localhost, and an unrelated second CA.
    static func makeCertificates(in directory: String) throws(Failure) {
        let runner = CommandRunner(timeout: .seconds(30))
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["openssl", "req", "-x509"] + curve + ["-days", "2", "-subj", "/CN=tollgate-test-ca", "-keyout",
                directory + "/ca.key", "-out", directory + "/ca.crt"],
            ["openssl", "req", "-x509"] + curve + ["-days", "2", "-subj", "/CN=unrelated-ca", "-keyout",
                directory + "/other-ca.key", "-out", directory + "/other-ca.crt"],
            ["openssl", "req"] + curve + ["-subj", "/CN=kube-apiserver", "-keyout", directory + "/server.key",
                "-out", directory + "/server.csr"],
            ["openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", directory + "/ca.crt", "-CAkey",
                directory + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", directory + "/san.cnf", "-out",
                directory + "/server.crt"],
            ["openssl", "req"] + curve + ["-subj", "/CN=tollgate/O=system:nodes", "-keyout", directory + "/client.key",
                "-out", directory + "/client.csr"],
            ["openssl", "x509", "-req", "-in", directory + "/client.csr", "-CA", directory + "/ca.crt", "-CAkey",
                directory + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", directory + "/client.cnf", "-out",
                directory + "/client.crt"],
        ]
        do {
            try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client.cnf", atomically: true, encoding: .utf8)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
                toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot write san.cnf: \(error)")
        }
        for step in steps {
            let result: CommandRunner.Result
            do {
                result = try runner.run(step)
            } catch {
                throw Failure(description: "\(step.joined(separator: " ")): \(error) (is openssl installed?)")
            }
            guard result.succeeded else {
                throw Failure(description: "\(step.joined(separator: " ")) failed: \(result.standardError)")
            }
        }
    }
}
