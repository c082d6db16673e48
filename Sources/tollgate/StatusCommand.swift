import ArgumentParser
import Foundation
import LinuxSupport
import TollgateDaemon

/// `tollgate status`: asks a running daemon's HTTP endpoint (`/status` and `/metrics`) and prints its state.
///
/// Verdict and packet rates come from two `/metrics` scrapes `--interval` seconds apart (totals only with
/// `--once`). Exits 1 with a clear message when nothing answers or the answer is not a Tollgate status.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the state of the running daemon: sources, snapshot, rules, verdict rates, queue drops.",
        discussion: """
            Reads /status and /metrics from the daemon's endpoint: --metrics-addr, else metricsAddr in \
            /etc/tollgate/config.yaml, else 127.0.0.1:9470. Exits 1 when no daemon answers.
            """
    )

    /// The output formats.
    enum Output: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .customLong("metrics-addr"), help: "HOST:PORT of the daemon's metrics and status endpoint.")
    var metricsAddress: String?

    @Flag(help: "Scrape once and print totals only (no rates).")
    var once = false

    @Option(help: "Seconds between the two scrapes that give the rates.")
    var interval: Double = 1

    @Option(help: "text (readable) or json (the raw /status document plus totals and computed rates).")
    var output: Output = .text

    func validate() throws {
        guard interval > 0 && interval <= 60 else { throw ValidationError("--interval: from 0 to 60 seconds") }
    }

    func run() throws {
        let address = try endpoint()
        let client = DaemonStatusClient(address: address, timeout: .seconds(3))
        let report: StatusReading
        do {
            let first = try client.scrape()
            if once {
                report = StatusReading(address: address, latest: first, earlier: nil)
            } else {
                Thread.sleep(forTimeInterval: interval)
                report = StatusReading(address: address, latest: try client.scrape(), earlier: first)
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        switch output {
        case .text: print(report.text, terminator: "")
        case .json: print(report.json, terminator: "")
        }
    }

    /// Where to connect: the flag, the configuration file's `metricsAddr`, or the default; an unspecified listen
    /// address (`0.0.0.0`, `::`) is reached through loopback.
    private func endpoint() throws -> ListenAddress {
        var address: ListenAddress
        if let metricsAddress {
            do {
                address = try ListenAddress(parsing: metricsAddress)
            } catch {
                throw ValidationError("--metrics-addr: \(error)")
            }
        } else if FileManager.default.fileExists(atPath: ConfigurationFile.defaultPath),
            let configured = try? ConfigurationFile.load(path: ConfigurationFile.defaultPath).metricsAddress
        {
            address = configured
        } else if let fallback = ConfigurationFile.defaultMetricsAddress {
            address = fallback
        } else {
            throw ValidationError("--metrics-addr: required")
        }
        if address.host == "0.0.0.0", let loopback = try? ListenAddress(host: "127.0.0.1", port: address.port) {
            address = loopback
        } else if address.host == "::", let loopback = try? ListenAddress(host: "::1", port: address.port) {
            address = loopback
        }
        return address
    }
}
