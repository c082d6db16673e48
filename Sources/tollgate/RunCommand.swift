import ArgumentParser
import KernelRules
import LinuxSupport
import Logging
import TollgateDaemon

/// `tollgate run`: the daemon, configured by the configuration file and flags (``DaemonOptions``).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Enforce NetworkPolicy on this host through NFQUEUE.",
        discussion: """
            Loads the policy directory and/or the Kubernetes API (list and watch), binds the queues, installs the \
            kernel rules and decides the first packet of every new connection with a pod-CIDR endpoint. Rereads \
            the directory when it changes and on SIGHUP, applies API changes as they are watched; \
            stops on SIGTERM or SIGINT, leaving the rules in place (tollgate cleanup removes them).
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() throws {
        // Before any thread starts, so that every thread inherits the mask and only the watcher takes signals.
        try SignalWatcher.blockInProcess()
        // The configuration file and flags are checked before logging starts and long before the kernel is touched.
        let resolved = try options.resolvedConfiguration()
        resolved.logFormat.bootstrap(level: resolved.logLevel)
        let logger = Logger(label: "tollgate")
        do {
            try Daemon(configuration: resolved.daemon, logger: logger).run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(error.code == .invalidConfiguration ? 2 : 1)
        }
    }
}

/// `tollgate cleanup`: removes what `run` installed in the kernel.
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
