import Foundation
import LinuxSupport
import Testing
import TollgateTestSupport

/// One end-to-end test's world: a routed pod topology (node plus pods, each a network namespace), a temporary
/// policy directory, probe servers, and the daemon(s) started in the node. `close()` (and `deinit`, as a
/// backstop) stops every daemon, removes every namespace and deletes the directory.
final class Scenario: @unchecked Sendable {
    let topology: PodTopology
    let directory: PolicyDirectory
    let pods: [Manifests.Pod]
    private(set) var daemons: [TollgateProcess] = []
    private var servers: [CommandRunner.BackgroundProcess] = []

    /// Builds the topology for `pods` (namespaces `tg-<tag>-<pid>-<n>`) and the policy directory (created with
    /// `files` unless `createDirectory` is false).
    init(
        tag: String, pods: [Manifests.Pod] = Manifests.basePods, files: [String: String],
        createDirectory: Bool = true
    ) throws {
        directory = try PolicyDirectory(create: createDirectory)
        do {
            topology = try PodTopology(tag: tag, pods: Manifests.topologySpecs(pods))
        } catch {
            directory.remove()
            throw error
        }
        self.pods = pods
        if createDirectory {
            do {
                for (name, contents) in files { try directory.write(name, contents) }
            } catch {
                close()
                throw error
            }
        }
    }

    deinit { close() }

    /// Stops the daemons and probe servers, removes the namespaces and the directory. Safe to call twice.
    func close() {
        for daemon in daemons { daemon.stop(grace: .milliseconds(500)) }
        for server in servers { server.terminate(grace: .milliseconds(200)) }
        topology.teardown()
        directory.remove()
    }

    /// The namespace of pod `name`.
    func namespace(_ name: String) throws -> NetworkNamespace {
        try #require(topology.pod(name)).namespace
    }

    /// The address of pod `name` in `family` (4 or 6).
    func address(_ name: String, family: Int = 4) throws -> String {
        let pod = try #require(pods.first { $0.name == name })
        return family == 4 ? pod.ipv4 : pod.ipv6
    }

    /// Starts a probe server (see `startProbeServer`) in pod `name`, stopped by `close()`.
    func serve(_ name: String, port: UInt16, transport: ProbeTransport) throws {
        servers.append(try namespace(name).startProbeServer(port: port, transport: transport))
    }

    /// Starts a daemon in the node with `options`, logging to a file in the scenario's root; waits until ready
    /// unless `waitReady` is false.
    @discardableResult
    func startDaemon(_ options: TollgateProcess.Options, waitReady: Bool = true) throws -> TollgateProcess {
        let log = directory.logPath("daemon-\(daemons.count).log")
        let daemon = try TollgateProcess(in: topology.node, options: options, logPath: log)
        daemons.append(daemon)
        if waitReady { try daemon.waitUntilReady() }
        return daemon
    }

    /// Default options for this scenario's directory.
    func options(queue: UInt16, port: UInt16) -> TollgateProcess.Options {
        TollgateProcess.Options(policyDirectory: directory.path, queueNumber: queue, metricsPort: port)
    }

    /// Whether pod `source` reaches pod `destination` on `port` over `transport` in `family`.
    func reaches(
        _ source: String, _ destination: String, port: UInt16, _ transport: ProbeTransport = .tcp, family: Int = 4,
        timeout: Duration = .seconds(2)
    ) throws -> Bool {
        try namespace(source).canConnect(
            to: address(destination, family: family), port: port, transport: transport, timeout: timeout)
    }

    /// Runs every probe of `probes` at the same time (a denied probe costs its whole timeout) and returns the
    /// answers in order.
    func reachability(_ probes: [Probe], timeout: Duration = .seconds(3)) throws -> [Bool] {
        let answers = ProbeAnswers(count: probes.count)
        let resolved = try probes.map { probe in
            (try namespace(probe.source), try address(probe.destination, family: probe.family), probe)
        }
        // One thread per probe (not concurrentPerform, which runs only as many at once as there are cores).
        let group = DispatchGroup()
        for (index, (namespace, address, probe)) in resolved.enumerated() {
            group.enter()
            Thread.detachNewThread {
                answers.set(
                    index,
                    namespace.canConnect(to: address, port: probe.port, transport: probe.transport, timeout: timeout))
                group.leave()
            }
        }
        group.wait()
        return answers.values
    }

    /// The `tollgate` lines of `iptables-save` and `ip6tables-save` in the node (case-insensitive match).
    func tollgateRules() throws -> [String] {
        var lines: [String] = []
        for command in ["iptables-save", "ip6tables-save"] {
            let result = try topology.node.run([command])
            lines += result.standardOutput.split(separator: "\n").map(String.init)
                .filter { $0.lowercased().contains("tollgate") }.map { "\(command): \($0)" }
        }
        return lines
    }

    /// Runs `tollgate cleanup` in the node.
    func cleanup() throws -> CommandRunner.Result {
        try topology.node.execute([TollgateProcess.binaryPath(), "cleanup"])
    }
}

/// One connection attempt of a reachability table.
struct Probe: CustomStringConvertible {
    var source: String
    var destination: String
    var port: UInt16
    var transport: ProbeTransport
    var family: Int

    init(_ source: String, _ destination: String, _ port: UInt16, _ transport: ProbeTransport = .tcp, v: Int = 4) {
        self.source = source
        self.destination = destination
        self.port = port
        self.transport = transport
        family = v
    }

    var description: String { "\(source)->\(destination):\(port)/\(transport.rawValue)/IPv\(family)" }
}

/// Answers written by concurrent probes.
private final class ProbeAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Bool]
    init(count: Int) { storage = Array(repeating: false, count: count) }
    func set(_ index: Int, _ value: Bool) { lock.withLock { storage[index] = value } }
    var values: [Bool] { lock.withLock { storage } }
}

/// The root-and-iproute2 condition every end-to-end test needs.
let namespacesAvailable = NetworkNamespace.availability

/// Writes `message` to standard output at once (figures the report quotes).
func report(_ message: String) {
    FileHandle.standardOutput.write(Data("[e2e] \(message)\n".utf8))
}
