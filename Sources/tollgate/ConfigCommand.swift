import ArgumentParser
import TollgateDaemon

/// `tollgate config`: print the commented default configuration file, or check one.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the default configuration file, or check one.",
        discussion: """
            --print-defaults writes the commented default /etc/tollgate/config.yaml to standard output. \
            --check FILE reports every problem in FILE (unknown keys, wrong types, invalid CIDRs, a missing policy \
            directory) with its line, and exits 1 if there is any; it touches nothing.
            """
    )

    @Flag(name: .customLong("print-defaults"), help: "Print the commented default configuration file.")
    var printDefaults = false

    @Option(name: .customLong("check"), help: ArgumentHelp("Validate a configuration file.", valueName: "file"))
    var checkPath: String?

    func validate() throws {
        guard printDefaults != (checkPath != nil) else {
            throw ValidationError("give exactly one of --print-defaults and --check FILE")
        }
    }

    func run() throws {
        if printDefaults {
            print(ConfigurationFile.defaultText, terminator: "")
            return
        }
        guard let checkPath else { return }
        let problems: [ConfigurationFileError.Problem]
        do {
            problems = try ConfigurationFile.load(path: checkPath).problems()
        } catch {
            problems = error.problems
        }
        guard problems.isEmpty else {
            printError("\(ConfigurationFileError(path: checkPath, problems: problems))")
            throw ExitStatus.invalidInput
        }
        print("\(checkPath): OK")
    }
}
