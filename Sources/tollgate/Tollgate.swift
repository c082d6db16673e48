import ArgumentParser

/// The `tollgate` command: NetworkPolicy enforcement for Linux hosts.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Kubernetes NetworkPolicy enforcement through NFQUEUE.",
        version: "0.1.0",
        subcommands: [
            RunCommand.self, CheckCommand.self, ExplainCommand.self, RulesCommand.self, CleanupCommand.self,
            BenchCommand.self,
        ]
    )
}

/// Exit codes shared by the subcommands.
enum ExitStatus {
    /// Input that does not load (`check`).
    static let invalidInput = ExitCode(1)
    /// Bad arguments, unknown pods (`explain`).
    static let usage = ExitCode(2)
}
