public import LinuxSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A named network namespace created for a test (`ip netns add`), removed by `remove()` and, as a backstop,
/// when the object is deinitialised.
///
/// Names are `tg-<tag>-<pid>-<n>`, unique within the machine while the process lives; `removeStale(prefix:)`
/// removes what a crashed run left. Removal first kills every process still inside the namespace
/// (`ip netns pids`), so background servers never outlive their test.
public final class NetworkNamespace: @unchecked Sendable {
    /// The namespace's name as `ip netns list` shows it.
    public let name: String
    /// A runner whose commands execute inside the namespace (`ip netns exec <name> ...`).
    public let runner: CommandRunner

    private let state = Mutex<Bool>(false)  // true once removed
    private static let counter = Atomic<Int>(0)

    /// Creates a namespace named `tg-<tag>-<pid>-<n>` with its loopback interface up.
    public init(tag: String) throws(NetworkNamespaceError) {
        let serial = Self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        name = "tg-\(tag)-\(getpid())-\(serial)"
        runner = CommandRunner(prefix: ["ip", "netns", "exec", name], timeout: .seconds(30))
        try Self.host(["ip", "netns", "add", name])
        do {
            try run(["ip", "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    deinit {
        remove()
    }

    /// Whether this process can create namespaces (root, with `ip` on the path); the reason when not.
    public static var availability: (available: Bool, reason: String) {
        if geteuid() != 0 { return (false, "network-namespace tests need root (euid \(geteuid()))") }
        guard let result = try? CommandRunner().run(["ip", "netns", "list"]), result.succeeded else {
            return (false, "`ip netns list` cannot run: iproute2 is missing or namespaces are unavailable")
        }
        return (true, "root with iproute2")
    }

    /// Runs `arguments` inside the namespace and returns the result whatever the exit status.
    @discardableResult
    public func execute(_ arguments: [String], input: String? = nil) throws(NetworkNamespaceError)
        -> CommandRunner.Result
    {
        do {
            return try runner.run(arguments, input: input)
        } catch {
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
    }

    /// Runs `arguments` inside the namespace and throws unless it exits with status 0.
    @discardableResult
    public func run(_ arguments: [String], input: String? = nil) throws(NetworkNamespaceError) -> CommandRunner.Result {
        let result = try execute(arguments, input: input)
        guard result.succeeded else {
            throw .commandFailed(
                command: result.arguments, exitStatus: result.exitStatus, standardError: result.standardError)
        }
        return result
    }

    /// Starts `arguments` in the background inside the namespace; end it with `terminate()` (removing the
    /// namespace also kills it).
    public func start(_ arguments: [String], logPath: String? = nil) throws(NetworkNamespaceError)
        -> CommandRunner.BackgroundProcess
    {
        do {
            return try runner.start(arguments, logPath: logPath)
        } catch {
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
    }

    /// Kills every process inside the namespace and deletes it. Safe to call more than once.
    public func remove() {
        let first = state.withLock { removed in
            defer { removed = true }
            return !removed
        }
        guard first else { return }
        Self.delete(name)
    }

    /// Deletes every namespace whose name starts with `prefix` (leftovers of a crashed run); returns their names.
    @discardableResult
    public static func removeStale(prefix: String) -> [String] {
        guard let result = try? CommandRunner().run(["ip", "netns", "list"]), result.succeeded else { return [] }
        // Lines look like `tg-x-1-0 (id: 3)` or just `tg-x-1-0`.
        let names = result.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").first }
            .map(String.init).filter { $0.hasPrefix(prefix) }
        for name in names { delete(name) }
        return names
    }

    /// Whether a namespace named `name` exists.
    public static func exists(_ name: String) -> Bool {
        guard let result = try? CommandRunner().run(["ip", "netns", "list"]) else { return false }
        return result.standardOutput.split(separator: "\n").contains { $0.split(separator: " ").first.map(String.init) == name }
    }

    private static func delete(_ name: String) {
        let runner = CommandRunner(timeout: .seconds(10))
        if let pids = try? runner.run(["ip", "netns", "pids", name]), pids.succeeded {
            for pid in pids.standardOutput.split(separator: "\n").compactMap({ Int32($0) }) where pid > 0 {
                _ = kill(pid, SIGKILL)
            }
        }
        // `ip netns del` fails only when the namespace is already gone; nothing more can be done on this path.
        _ = try? runner.run(["ip", "netns", "del", name])
    }

    /// Runs a command in the host (root) namespace, throwing unless it succeeds.
    @discardableResult
    static func host(_ arguments: [String]) throws(NetworkNamespaceError) -> CommandRunner.Result {
        let result: CommandRunner.Result
        do {
            result = try CommandRunner(timeout: .seconds(30)).run(arguments)
        } catch {
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
        guard result.succeeded else {
            throw .commandFailed(
                command: result.arguments, exitStatus: result.exitStatus, standardError: result.standardError)
        }
        return result
    }
}
