import Foundation
import PolicyFeeds
import PolicyModel
import VerdictEngine

/// The daemon's reload path without the kernel: a policy directory changes by one file, and the benchmark times
/// each stage the daemon runs before it publishes the new snapshot — load the directory (parsing the changed
/// file only), put the change into the store, read the conflicts, update the cluster state, compile
/// (incrementally) — in the same order and through the same calls as `Daemon.reload`.
///
/// Each iteration renames the next of the `variants` files into the directory as `reload-benchmark.yaml` (as a
/// configuration tool would), so every reload sees a real change.
public struct ReloadBenchmark {
    /// Median durations of one run, in milliseconds (snake_case keys, as the other benchmarks' JSON).
    public struct Result: Codable, Sendable {
        public var iterations: Int
        public var objects: Int
        public var policies: Int
        public var pods: Int
        public var load_ms: Double
        /// Files parsed per reload (median): the changed file only, when the directory source reuses the rest.
        public var files_parsed: Double
        /// NetworkPolicies the compiler resolved per reload (median); the others were reused.
        public var policies_resolved: Double
        public var store_ms: Double
        public var merge_ms: Double
        public var cluster_state_ms: Double
        public var compile_ms: Double
        /// The compiler's own phases (medians), by name.
        public var compile_phases_ms: [String: Double]
        public var total_ms: Double
        public var total_p99_ms: Double
        /// Whether this run is the baseline (``ReloadBenchmark/wholeStages``).
        public var whole_stages: Bool
        public var machine: String
    }

    /// The directory, already holding the cluster.
    public var directory: String
    /// Files whose contents replace each other in the directory, one per iteration, in turn.
    public var variants: [String]
    /// Reloads measured (after one warm-up reload per variant).
    public var iterations: Int
    /// The baseline: every stage after the directory load done whole, as before reloads were incremental — the
    /// store replaces the directory's objects, the state is built from every object, the compile starts afresh.
    public var wholeStages: Bool

    /// A benchmark of reloading `directory` as `variants` take turns.
    public init(directory: String, variants: [String], iterations: Int, wholeStages: Bool = false) {
        self.directory = directory
        self.variants = variants
        self.iterations = iterations
        self.wholeStages = wholeStages
    }

    /// Runs the measurement; `progress` receives one line per step.
    ///
    /// - Throws: when a variant cannot be read or the directory cannot be written.
    public func run(progress: (String) -> Void) throws -> Result {
        let contents = try variants.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let target = (directory as NSString).appendingPathComponent("reload-benchmark.yaml")
        let staging = (directory as NSString).appendingPathComponent(".reload-benchmark.tmp")
        defer { try? FileManager.default.removeItem(atPath: target) }

        let source = PolicyDirectorySource(directory: directory)
        let store = ObjectStore()
        store.addSource(source.name)
        var samples: [String: [Double]] = [:]
        var last: CompiledSnapshot? = nil
        var state: ClusterState? = nil
        var compiler = IncrementalCompiler()
        let warmUp = contents.count
        for iteration in 0..<(iterations + warmUp) {
            try contents[iteration % contents.count].write(to: URL(fileURLWithPath: staging))
            guard rename(staging, target) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target])
            }
            var stage = ContinuousClock.now
            var times: [(String, Double)] = []
            func lap(_ name: String) {
                let now = ContinuousClock.now
                times.append((name, Self.milliseconds(now - stage)))
                stage = now
            }
            let started = stage
            let outcome = source.load()
            lap("load")
            times.append(("files_parsed", Double(outcome.filesParsed)))
            times.append(("incremental_load", outcome.changes == nil ? 0 : 1))
            let snapshot: CompiledSnapshot
            if wholeStages {
                store.replace(source: source.name, with: outcome.objects)
                lap("store")
                let (objects, _) = store.merged()
                lap("merge")
                let next = ClusterState(objects: objects)
                lap("cluster_state")
                snapshot = PolicyCompiler.compile(next, generation: UInt64(iteration + 1))
            } else {
                store.update(source: source.name, with: outcome)
                lap("store")
                _ = store.conflicts()
                lap("merge")
                let next = store.clusterState(updating: state)
                state = next
                lap("cluster_state")
                snapshot = compiler.compile(next, generation: UInt64(iteration + 1))
            }
            lap("compile")
            times.append(("total", Self.milliseconds(ContinuousClock.now - started)))
            times.append(("policies_resolved", Double(snapshot.statistics.policiesResolved)))
            for phase in snapshot.statistics.phases {
                times.append(("phase:" + phase.name, Self.milliseconds(phase.duration)))
            }
            if !outcome.errors.isEmpty {
                throw CocoaError(
                    .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: outcome.errors.map(\.description).joined(separator: "\n")])
            }
            last = snapshot
            guard iteration >= warmUp else { continue }
            for (name, value) in times { samples[name, default: []].append(value) }
            if iteration == warmUp || (iteration - warmUp + 1) % 10 == 0 {
                progress("reload \(iteration - warmUp + 1)/\(iterations): \(String(format: "%.1f", times.last { $0.0 == "total" }?.1 ?? 0)) ms")
            }
        }
        func median(_ name: String) -> Double { Self.percentile(samples[name] ?? [], 0.5) }
        var phases: [String: Double] = [:]
        for name in samples.keys where name.hasPrefix("phase:") { phases[String(name.dropFirst(6))] = median(name) }
        let statistics = last?.statistics
        return Result(
            iterations: iterations, objects: store.objects().count, policies: statistics?.networkPolicies ?? 0,
            pods: statistics?.pods ?? 0,
            load_ms: median("load"), files_parsed: median("files_parsed"), policies_resolved: median("policies_resolved"), store_ms: median("store"), merge_ms: median("merge"),
            cluster_state_ms: median("cluster_state"), compile_ms: median("compile"), compile_phases_ms: phases,
            total_ms: median("total"), total_p99_ms: Self.percentile(samples["total"] ?? [], 0.99),
            whole_stages: wholeStages,
            machine: VerdictBenchmark.machineDescription())
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// The nearest-rank percentile of `values` (0 when empty).
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
