import ArgumentParser
import Foundation
import PolicyFeeds
import TollgateBench

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks.",
        subcommands: [VerdictsBenchCommand.self, APIStoreBenchCommand.self, ReloadBenchCommand.self]
    )
}

/// Prints `value` as one line of JSON with sorted keys (what bench scripts read).
private func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct VerdictsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdicts",
        abstract: "Verdict throughput of the compiled engine on a synthetic cluster, against the reference evaluator."
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Pods in the synthetic cluster.")
    var pods = 100_000

    @Option(help: "Network policies in the synthetic cluster.")
    var policies = 10_000

    @Option(name: .customLong("admin-policies"), help: "AdminNetworkPolicies (plus a baseline) for the mixed workload.")
    var adminPolicies = 0

    @Option(help: "Seconds per measurement.")
    var seconds = 3.0

    @Option(help: "Threads for the all-cores measurement (default: the number of cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seed of the synthetic cluster.")
    var seed: UInt64 = 1

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard pods > 0, policies >= 0, adminPolicies >= 0, seconds > 0, threads > 0 else {
            throw ValidationError("--pods, --seconds and --threads must be positive; --policies must not be negative")
        }
    }

    func run() throws {
        let benchmark = VerdictBenchmark(
            pods: pods, policies: policies, adminPolicies: adminPolicies, seconds: seconds, threads: threads, seed: seed)
        let result = benchmark.run { message in
            if output == .text { print(message) } else { printError(message) }
        }
        switch output {
        case .json:
            try printJSON(result)
        case .text:
            print("machine: \(result.machine)")
            print("compile: best \(String(format: "%.1f", result.compile_ms)) ms, median \(String(format: "%.1f", result.compile_ms_median)) ms")
            print("memory: \(result.table_bytes) bytes, \(String(format: "%.1f", result.bytes_per_pod)) bytes per pod")
            print("verdicts/s, 1 core: \(Int(result.verdicts_per_sec_per_core))")
            print("verdicts per CPU-second, 1 thread: \(Int(result.verdicts_per_cpu_second))")
            print("verdicts/s, \(result.threads) threads: \(Int(result.verdicts_per_sec_all_cores))")
            print("reference verdicts/s: \(Int(result.reference_verdicts_per_sec)) (compiled is \(Int(result.speedup_over_reference))x)")
            print("reference agreement: \(result.reference_queries_checked - result.reference_disagreements)/\(result.reference_queries_checked)")
        }
    }
}

struct APIStoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-store",
        abstract: "Memory of the Kubernetes API feed's store: list an API server's objects, report resident memory per pod.",
        discussion: "bench/api-store/run.sh loads the fake API server with synthetic pods and runs this."
    )

    @Option(name: .customLong("kubeconfig"), help: ArgumentHelp("The API server to list.", valueName: "file"))
    var kubeconfig: String

    @Option(help: "Pods the server holds; the run waits until the store has them.")
    var pods = 100_000

    @Option(name: .customLong("page-size"), help: "Items per list page.")
    var pageSize = 500

    func run() throws {
        let connection: KubernetesConnection
        do {
            connection = try KubernetesConnection.kubeconfig(at: kubeconfig)
        } catch {
            throw ValidationError("--kubeconfig: \(error)")
        }
        let result = try APIStoreBenchmark(connection: connection, expectedPods: pods, pageSize: pageSize).run {
            printError($0)
        }
        try printJSON(result)
    }
}

struct ReloadBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "The daemon's reload stages (load, store, merge, cluster state, compile) when one file of a policy directory changes.",
        discussion: "Each reload renames the next --variant into the directory; prints the median of each stage as JSON."
    )

    @Option(name: .customLong("policy-dir"), help: ArgumentHelp("The policy directory (left as it was).", valueName: "dir"))
    var policyDirectory: String

    @Option(name: .customLong("variant"), help: ArgumentHelp("A file whose contents take turns in the directory (two or more).", valueName: "file"))
    var variants: [String] = []

    @Option(help: "Reloads measured.")
    var iterations = 40

    @Flag(name: .customLong("whole-stages"), help: "The baseline: store, state and compile done whole on every reload, as before they were incremental.")
    var wholeStages = false

    func validate() throws {
        guard variants.count >= 2 else { throw ValidationError("give two or more --variant files") }
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
    }

    func run() throws {
        let result = try ReloadBenchmark(
            directory: policyDirectory, variants: variants, iterations: iterations, wholeStages: wholeStages).run {
            printError($0)
        }
        try printJSON(result)
    }
}
