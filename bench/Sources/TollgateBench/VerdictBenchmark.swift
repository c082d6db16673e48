import Foundation
import NetworkTypes
import PolicyModel
import VerdictEngine

/// The figures `tollgate bench verdicts` reports.
public struct VerdictBenchmarkResult: Codable, Sendable {
    public var pods: Int
    public var policies: Int
    /// AdminNetworkPolicies in the mixed workload (plus the BaselineAdminNetworkPolicy when nonzero).
    public var admin_policies: Int
    public var identities: Int
    public var rules: Int
    public var threads: Int
    public var seconds: Double
    public var seed: UInt64
    /// Full compile from loaded objects to an active snapshot: the best and the median of the runs.
    public var compile_ms: Double
    public var compile_ms_median: Double
    public var table_bytes: Int
    public var bytes_per_pod: Double
    public var verdicts_per_sec_per_core: Double
    /// Every one-thread run; the headline is their median.
    public var verdicts_per_sec_per_core_runs: [Double]
    /// The one-thread runs per second of the thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`) rather than of
    /// wall time: what a core does while it runs the engine, unaffected by the time other processes take the
    /// core away on a shared machine (caches they evict still count). The headline is the median.
    public var verdicts_per_cpu_second: Double
    public var verdicts_per_cpu_second_runs: [Double]
    public var verdicts_per_sec_all_cores: Double
    public var reference_verdicts_per_sec: Double
    /// Compiled verdicts per second over reference verdicts per second, same queries, same run.
    public var speedup_over_reference: Double
    /// Queries where the compiled engine and the reference evaluator disagreed (must be zero).
    public var reference_disagreements: Int
    public var reference_queries_checked: Int
    public var allowed_fraction: Double
    public var machine: String
}

/// Measures verdict throughput on a synthetic cluster, with the reference evaluator in the same run.
public struct VerdictBenchmark: Sendable {
    public var pods: Int
    public var policies: Int
    public var seconds: Double
    public var threads: Int
    public var seed: UInt64
    public var compileRuns: Int = 5
    /// AdminNetworkPolicies of the mixed workload (`SyntheticAdminPolicies`); 0 measures NetworkPolicy alone.
    public var adminPolicies: Int

    public init(
        pods: Int, policies: Int, adminPolicies: Int = 0, seconds: Double, threads: Int, seed: UInt64
    ) {
        self.pods = pods
        self.policies = policies
        self.adminPolicies = max(0, adminPolicies)
        self.seconds = seconds
        self.threads = threads
        self.seed = seed
    }

    public func run(progress: (String) -> Void = { _ in }) -> VerdictBenchmarkResult {
        progress("generating \(pods) pods, \(policies) policies and \(adminPolicies) admin policies (seed \(seed))")
        let cluster = SyntheticCluster(pods: pods, policies: policies, adminPolicies: adminPolicies, seed: seed)
        var compileTimes: [Double] = []
        var snapshot = PolicyCompiler.compile(cluster.state)
        for run in 0..<compileRuns {
            snapshot = PolicyCompiler.compile(cluster.state, generation: UInt64(run + 2))
            compileTimes.append(snapshot.statistics.compileDuration.milliseconds)
        }
        compileTimes.sort()
        progress(
            "compiled: \(snapshot.statistics.identities) identities, \(snapshot.statistics.rules) rules, "
                + "\(snapshot.statistics.tableBytes) bytes, best \(format(compileTimes[0])) ms; phases of the last: "
                + snapshot.statistics.phases.map { "\($0.name) \(format($0.duration.milliseconds)) ms" }
                .joined(separator: ", "))

        let queries = cluster.queries
        // Warm-up: one pass over every query, so the first measurement does not pay for first touches of the
        // tables (page faults, TLB, caches) that the second would not.
        var warm = 0
        for query in queries where snapshot.tables.evaluate(query).isAllowed { warm &+= 1 }
        progress("warmed up (\(warm) of \(queries.count) queries allowed)")
        // One thread, three times: the median is the figure (a single run on a shared VM can lose a core's
        // share to anything else that wakes up); every run is in the result.
        var singles: [Double] = []
        var singlesCPU: [Double] = []
        for run in 1...3 {
            progress("measuring 1 thread for \(format(seconds)) s (run \(run) of 3)")
            let rates = measure(snapshot.tables, queries: queries, threads: 1)
            singles.append(rates.wall)
            singlesCPU.append(rates.cpu)
        }
        let single = singles.sorted()[1]
        let singleCPU = singlesCPU.sorted()[1]
        progress("measuring \(threads) threads for \(format(seconds)) s")
        let all = threads > 1 ? measure(snapshot.tables, queries: queries, threads: threads).wall : single

        progress("measuring the reference evaluator")
        let reference = ReferenceEvaluator(state: cluster.state)
        var checked = 0
        var disagreements = 0
        var allowed = 0
        let referenceStart = ContinuousClock.now
        let referenceBudget = Duration.milliseconds(Int64(max(200, seconds * 1000 / 2)))
        while ContinuousClock.now - referenceStart < referenceBudget, checked < queries.count {
            let query = queries[checked]
            let expected = reference.isAllowed(query)
            if expected != snapshot.evaluate(query).isAllowed { disagreements += 1 }
            if expected { allowed += 1 }
            checked += 1
        }
        let referenceSeconds = (ContinuousClock.now - referenceStart).seconds
        // The loop above also ran the compiled engine once per query; that is noise next to the reference.
        let referenceRate = Double(checked) / referenceSeconds

        return VerdictBenchmarkResult(
            pods: pods, policies: policies, admin_policies: adminPolicies, identities: snapshot.statistics.identities, rules: snapshot.statistics.rules,
            threads: threads, seconds: seconds, seed: seed, compile_ms: compileTimes[0],
            compile_ms_median: compileTimes[compileTimes.count / 2], table_bytes: snapshot.statistics.tableBytes,
            bytes_per_pod: Double(snapshot.statistics.tableBytes) / Double(max(1, pods)),
            verdicts_per_sec_per_core: single, verdicts_per_sec_per_core_runs: singles,
            verdicts_per_cpu_second: singleCPU, verdicts_per_cpu_second_runs: singlesCPU, verdicts_per_sec_all_cores: all,
            reference_verdicts_per_sec: referenceRate, speedup_over_reference: single / referenceRate,
            reference_disagreements: disagreements, reference_queries_checked: checked,
            allowed_fraction: Double(allowed) / Double(max(1, checked)), machine: Self.machineDescription())
    }

    /// Verdicts per second with `threads` threads, each walking the query list from its own offset: per second of
    /// wall time, and per second of the threads' summed CPU time.
    func measure(_ tables: VerdictTables, queries: [FlowKey], threads: Int) -> (wall: Double, cpu: Double) {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads * 16)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let sinks = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads * 16)
        sinks.initialize(repeating: 0)
        defer { sinks.deallocate() }
        let seconds = self.seconds
        let countsAddress = Int(bitPattern: counts.baseAddress)
        let sinksAddress = Int(bitPattern: sinks.baseAddress)
        let cpuNanoseconds = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads * 16)
        cpuNanoseconds.initialize(repeating: 0)
        defer { cpuNanoseconds.deallocate() }
        let cpuAddress = Int(bitPattern: cpuNanoseconds.baseAddress)
        let group = DispatchGroup()
        let start = ContinuousClock.now
        for thread in 0..<threads {
            group.enter()
            let worker = Thread {
                queries.withUnsafeBufferPointer { buffer in
                    let cpuStart = Self.threadCPUNanoseconds()
                    let deadline = ContinuousClock.now + .nanoseconds(Int64(seconds * 1e9))
                    var index = (buffer.count / max(1, threads)) * thread
                    var done = 0
                    var allowed = 0
                    outer: while true {
                        for _ in 0..<4096 {
                            if tables.evaluate(buffer[index]).isAllowed { allowed &+= 1 }
                            index &+= 1
                            if index == buffer.count { index = 0 }
                        }
                        done &+= 4096
                        if ContinuousClock.now >= deadline { break outer }
                    }
                    // One slot per 128-byte line per thread: no false sharing while writing the results.
                    UnsafeMutablePointer<Int>(bitPattern: countsAddress)!.advanced(by: thread * 16).pointee = done
                    UnsafeMutablePointer<Int>(bitPattern: sinksAddress)!.advanced(by: thread * 16).pointee = allowed
                    UnsafeMutablePointer<Int>(bitPattern: cpuAddress)!.advanced(by: thread * 16).pointee =
                        Self.threadCPUNanoseconds() - cpuStart
                }
                group.leave()
            }
            worker.start()
        }
        group.wait()
        let elapsed = (ContinuousClock.now - start).seconds
        var total = 0
        var cpu = 0
        for thread in 0..<threads {
            total += counts[thread * 16]
            cpu += cpuNanoseconds[thread * 16]
        }
        // A failed clock read leaves no CPU time: report 0 rather than a made-up rate.
        return (Double(total) / elapsed, cpu > 0 ? Double(total) / (Double(cpu) / 1e9) : 0)
    }

    /// The calling thread's CPU time in nanoseconds (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`).
    static func threadCPUNanoseconds() -> Int {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }

    static func machineDescription() -> String {
        var model = "unknown CPU"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(model)"
    }
}

func format(_ value: Double) -> String { String(format: "%.1f", value) }

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
