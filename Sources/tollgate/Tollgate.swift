import ArgumentParser
import Foundation
import LinuxSupport

/// The `tollgate` command: NetworkPolicy enforcement for Linux hosts.
@main
struct Tollgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Kubernetes NetworkPolicy enforcement through NFQUEUE.",
        version: "0.1.0",
        subcommands: [
            RunCommand.self, CheckCommand.self, ExplainCommand.self, RulesCommand.self, CleanupCommand.self,
            BenchCommand.self,
            ConfigCommand.self,
            StatusCommand.self,
        ]
    )
}

extension Tollgate {
    /// Runs the command line. Usage errors exit 2, as `explain` promises and as most Unix tools do, rather
    /// than ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            if command is RunCommand {
                // Before any thread exists, so that every thread inherits the mask and only the daemon's signal
                // thread takes SIGHUP, SIGTERM and SIGINT. Other subcommands keep the default actions.
                try SignalWatcher.blockInProcess()
            }
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.usage.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Exit codes shared by the subcommands.
enum ExitStatus {
    /// Input that does not load (`check`).
    static let invalidInput = ExitCode(1)
    /// Bad arguments, unknown pods (`explain`).
    static let usage = ExitCode(2)
}
