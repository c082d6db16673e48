import ArgumentParser
import KernelRules
import LinuxSupport
import NetworkTypes
import TollgateDaemon

/// `tollgate rules`: prints the kernel ruleset `run` would install at start with the same command line and
/// configuration file.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the kernel ruleset that run would install.",
        discussion: """
            Takes run's options and reads the same configuration file (--config, else \
            \(ConfigurationFile.defaultPath) when it exists), with the same precedence and the same errors (exit 2). \
            This host's interface addresses are node addresses; the Node objects' addresses, which run adds once \
            it has read the policy sources, are not.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() throws {
        let daemon = try options.resolvedConfiguration().daemon
        let installer = RuleInstaller()
        let (backend, reason) = installer.detectBackend(forcing: daemon.backend)
        let hostAddresses: [IPAddress]
        do {
            hostAddresses = try HostAddresses.current()
        } catch {
            printError("error: cannot read this host's interface addresses: \(error)")
            throw ExitCode(1)
        }
        let rules = daemon.ruleConfiguration(
            nodes: daemon.nodePlan(hostAddresses: hostAddresses, nodes: []), allowSets: daemon.usesAllowCache(on: backend, installer: installer))
        let ruleset: RenderedRuleset
        do {  // the renderer validates the configuration first
            ruleset = try RuleRenderer().render(rules, for: backend)
        } catch {
            throw ValidationError("\(error)")
        }
        print("# back end: \(backend) (\(reason))")
        print(ruleset.text, terminator: "")
    }
}
