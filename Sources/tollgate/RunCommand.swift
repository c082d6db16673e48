import ArgumentParser
import Datapath
import Foundation
import KernelRules
import LinuxSupport
import Logging
import NetworkTypes
import TollgateDaemon

/// Options shared by `run` and `rules`: what to queue and where.
struct EnforcementOptions: ParsableArguments {
    @Option(name: .customLong("pod-cidr"), help: "A pod address range (repeatable; IPv4 and IPv6).")
    var podCIDRs: [String] = []

    @Option(
        name: .customLong("exempt-cidr"),
        help: "Node and infrastructure addresses whose traffic with pods is never queued (repeatable).")
    var exemptCIDRs: [String] = []

    @Option(help: "Worker threads, one queue each (default: the number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("queue-num"), help: "The first NFQUEUE queue number.")
    var queueNumber: UInt16 = 0

    @Flag(name: .customLong("fail-closed"), help: "Drop what cannot be judged, and new connections while no worker listens. Default: fail open.")
    var failClosed = false

    @Option(help: "Kernel rules back end: auto, iptables or nftables.")
    var backend: BackendChoice = .auto

    enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, iptables, nftables

        var forced: RuleBackend? {
            switch self {
            case .auto: return nil
            case .iptables: return .iptables
            case .nftables: return .nftables
            }
        }
    }

    /// Parses every CIDR, naming the option and value of each bad one.
    func prefixes(_ values: [String], option: String) throws -> [IPPrefix] {
        try values.map { value in
            guard let prefix = IPPrefix(value) else {
                throw ValidationError("\(option): \"\(value)\" is not a valid CIDR (expected ADDRESS/LENGTH)")
            }
            return prefix
        }
    }

    var ruleConfiguration: RuleConfiguration {
        get throws {
            RuleConfiguration(
                podCIDRs: try prefixes(podCIDRs, option: "--pod-cidr"),
                exemptCIDRs: try prefixes(exemptCIDRs, option: "--exempt-cidr"), firstQueue: queueNumber,
                queueCount: UInt16(clamping: workers), failOpen: !failClosed)
        }
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Enforce NetworkPolicy on this host through NFQUEUE.",
        discussion: """
            Loads the policy directory, binds the queues, installs the kernel rules and decides the first packet \
            of every new connection with a pod-CIDR endpoint. Rereads the directory when it changes and on SIGHUP; \
            stops on SIGTERM or SIGINT, leaving the rules in place (tollgate cleanup removes them).
            """
    )

    @Option(name: .customLong("policy-dir"), help: "The directory of Kubernetes manifests.")
    var policyDirectory: String

    @OptionGroup var enforcement: EnforcementOptions

    @Option(name: .customLong("metrics-addr"), help: "HOST:PORT of the metrics and status endpoint.")
    var metricsAddress = "127.0.0.1:9470"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("poll-interval-ms"), help: "How often the policy directory is checked for changes.")
    var pollIntervalMilliseconds = 100

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: unknown level \"\(logLevel)\"")
        }
        guard enforcement.workers >= 1 && enforcement.workers <= 64 else {
            throw ValidationError("--workers: must be between 1 and 64, got \(enforcement.workers)")
        }
        guard pollIntervalMilliseconds >= 10 else { throw ValidationError("--poll-interval-ms: at least 10") }
    }

    func run() throws {
        // Before any thread starts, so that every thread inherits the mask and only the watcher takes signals.
        try SignalWatcher.blockInProcess()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tollgate")
        let rules = try enforcement.ruleConfiguration
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: metricsAddress)
        } catch {
            throw ValidationError("--metrics-addr: \(error)")
        }
        let configuration = DaemonConfiguration(
            policyDirectory: policyDirectory, podCIDRs: rules.podCIDRs, exemptCIDRs: rules.exemptCIDRs,
            workers: enforcement.workers, firstQueue: enforcement.queueNumber,
            failureMode: enforcement.failClosed ? .closed : .open, metricsAddress: address,
            backend: enforcement.backend.forced, pollInterval: .milliseconds(pollIntervalMilliseconds))
        do {
            try Daemon(configuration: configuration, logger: logger).run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(error.code == .invalidConfiguration ? 2 : 1)
        }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the kernel ruleset that run would install.")

    @OptionGroup var enforcement: EnforcementOptions

    func run() throws {
        let configuration = try enforcement.ruleConfiguration
        do {
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        let (backend, reason) = RuleInstaller().detectBackend(forcing: enforcement.backend.forced)
        print("# back end: \(backend) (\(reason))")
        do {
            print(try RuleRenderer().render(configuration, for: backend).text, terminator: "")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup", abstract: "Remove every kernel rule and chain Tollgate installed (both back ends).")

    func run() throws {
        do {
            try RuleInstaller().cleanup()
            print("removed Tollgate's kernel rules")
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
