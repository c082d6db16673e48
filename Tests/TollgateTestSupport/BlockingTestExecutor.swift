import LinuxSupport
public import Testing

/// A task executor that runs every job on a thread of its own, never on Swift's cooperative thread pool.
///
/// Swift Testing runs test bodies on the cooperative pool, which is as wide as the machine has cores. A synchronous
/// test that blocks for seconds (waiting for a child process, a socket, a daemon to become ready) holds one of
/// those threads all that time; with two cores, two such tests leave nothing for the asynchronous tests beside
/// them, whose timeouts then expire. Under this executor a blocking test holds a thread of its own instead.
/// A thread per job is cheap here: a test body that seldom suspends is one job, or a few.
public final class BlockingTestExecutor: TaskExecutor {
    /// The one instance the ``Trait/offCooperativePool`` trait uses.
    public static let shared = BlockingTestExecutor()

    private init() {}

    /// Runs `job` on a new detached thread; when no thread can be started, on the caller's (which may be a pool
    /// thread: the test then blocks the pool as it would without this executor, but it runs).
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        do {
            _ = try DedicatedThread(name: "tg-test-job", detached: true) { job.runSynchronously(on: executor) }
        } catch {
            job.runSynchronously(on: executor)
        }
    }
}

/// Runs each test of a suite (recursively) with ``BlockingTestExecutor`` as its task executor preference, so that
/// synchronous bodies that block do so on threads of their own (see ``BlockingTestExecutor``).
public struct OffCooperativePoolTrait: SuiteTrait, TestTrait, TestScoping {
    /// Applies to every test in the suite and its nested suites.
    public var isRecursive: Bool { true }

    /// A scope for each test function; none for suites (their tests get their own).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        test.isSuite ? nil : self
    }

    /// Runs `function` (the test) with the blocking executor preferred; child tasks inherit the preference.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(BlockingTestExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OffCooperativePoolTrait {
    /// Runs the tests on threads of their own instead of Swift's cooperative pool: for suites whose synchronous
    /// tests block for long (child processes, network namespaces, daemons), so that they cannot starve the
    /// asynchronous tests running beside them.
    public static var offCooperativePool: Self { OffCooperativePoolTrait() }
}
