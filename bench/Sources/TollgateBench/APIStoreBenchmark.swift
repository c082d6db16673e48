import Foundation
import LinuxSupport
import Logging
import PolicyFeeds
import PolicyModel

#if canImport(Glibc)
    import Glibc
#endif

/// The memory the Kubernetes API feed's store takes: lists and watches an API server (in practice the fake
/// API server of the tests, loaded by `bench/api-store/run.sh`), waits until every resource is listed and the
/// store holds the expected pods, then reads the process's resident memory before and after, with freed heap
/// memory returned to the system first (`malloc_trim`), so that the figure is what the store keeps rather than
/// what decoding the lists used for a moment.
public struct APIStoreBenchmark {
    /// What one run measured (snake_case keys, as the other benchmarks' JSON).
    public struct Result: Codable, Sendable {
        public var pods: Int
        public var objects: Int
        public var list_seconds: Double
        public var rss_before_bytes: UInt64
        public var rss_after_list_bytes: UInt64
        public var rss_after_trim_bytes: UInt64
        public var bytes_per_pod: Double
        public var machine: String
    }

    /// The connection to the API server.
    public var connection: KubernetesConnection
    /// Pods the server holds: the run waits until the store has them all.
    public var expectedPods: Int
    /// List page size.
    public var pageSize: Int

    /// A benchmark of the feed of `connection`.
    public init(connection: KubernetesConnection, expectedPods: Int, pageSize: Int = 500) {
        self.connection = connection
        self.expectedPods = expectedPods
        self.pageSize = pageSize
    }

    /// Returns freed heap memory to the system: glibc's `malloc_trim(0)`, looked up at run time (its header,
    /// `<malloc.h>`, is not part of the Glibc module).
    static func trimHeap() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// Runs the measurement; `progress` receives one line per step.
    ///
    /// - Throws: ``PolicyFeedError`` when the feed cannot be set up, or (`connection`) when the store does not
    ///   reach the expected pods within ten minutes, with the feed's last error.
    public func run(progress: (String) -> Void) throws -> Result {
        Self.trimHeap()
        let before = (try? ProcessResources.residentMemoryBytes()) ?? 0
        let store = ObjectStore()
        var settings = KubernetesFeed.Settings()
        settings.listPageSize = pageSize
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let feed = try KubernetesFeed(connection: connection, store: store, settings: settings, logger: logger)
        let started = ContinuousClock.now
        feed.start()
        let deadline = started + .seconds(600)
        func podCount() -> Int { store.statuses().first?.objects ?? 0 }
        while !(feed.isSynced && podCount() >= expectedPods) {
            if ContinuousClock.now > deadline {
                feed.stopAndWait()
                throw PolicyFeedError(
                    .connection,
                    "the store holds \(podCount()) objects after 600 s, expected \(expectedPods) pods; last error: \(store.statuses().first?.lastError ?? "none")")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let elapsed = ContinuousClock.now - started
        let listSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        progress("listed \(podCount()) objects in \(String(format: "%.2f", listSeconds)) s")
        let afterList = (try? ProcessResources.residentMemoryBytes()) ?? 0
        Self.trimHeap()
        let afterTrim = (try? ProcessResources.residentMemoryBytes()) ?? 0
        let objects = store.objects()
        let pods = objects.reduce(0) { count, object in
            if case .pod = object { return count + 1 }
            return count
        }
        feed.stopAndWait()
        withExtendedLifetime(store) {}
        return Result(
            pods: pods, objects: objects.count, list_seconds: listSeconds, rss_before_bytes: before,
            rss_after_list_bytes: afterList, rss_after_trim_bytes: afterTrim,
            bytes_per_pod: Double(Int64(afterTrim) - Int64(before)) / Double(max(pods, 1)),
            machine: VerdictBenchmark.machineDescription())
    }
}
