import ArgumentParser
import Foundation
import NetworkTypes
import PolicyModel
import VerdictEngine

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say whether a connection is allowed, and why.",
        discussion: """
            A and B are namespace/pod or an IP address. A pod stands for its primary address, or for its address \
            of the other side's family when the other side is an address. Exits 0 for ALLOW and DENY alike; 2 on \
            bad arguments or unknown pods.
            With --batch, reads JSON lines such as {"from":"x/a","to":"y/b","port":80,"protocol":"TCP"} on standard \
            input and writes one JSON line per query, in order.
            """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .customLong("policy-dir"), help: "The directory of Kubernetes manifests.")
    var policyDirectory: String

    @Option(help: "The source: namespace/pod or an IP address.")
    var from: String?

    @Option(help: "The destination: namespace/pod or an IP address.")
    var to: String?

    @Option(help: "The destination port (TCP, UDP, SCTP).")
    var port: UInt16?

    @Option(name: .customLong("protocol"), help: "TCP, UDP, SCTP or ICMP.")
    var transport: String = "TCP"

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Flag(help: "Read JSON-line queries on standard input.")
    var batch = false

    func validate() throws {
        if !batch && (from == nil || to == nil) {
            throw ValidationError("--from and --to are required (or use --batch)")
        }
    }

    func run() throws {
        let loaded = ManifestLoader.loadDirectory(policyDirectory)
        for error in loaded.errors { printError("warning: \(error) (object skipped)") }
        if !loaded.directoryErrors.isEmpty { throw ExitStatus.usage }
        let state = ClusterState(objects: loaded.objects)
        let snapshot = PolicyCompiler.compile(state)
        if batch {
            runBatch(state: state, snapshot: snapshot)
            return
        }
        let query = ConnectionQuery(from: from!, to: to!, port: port, protocol: transport)
        let flow: FlowKeyResult
        do {
            flow = .success(try state.flow(for: query))
        } catch {
            printError("error: \(error)")
            throw ExitStatus.usage
        }
        guard case .success(let key) = flow else { return }
        let explanation = snapshot.explain(key)
        switch output {
        case .text:
            for line in explanation.lines { print(line) }
        case .json:
            print(encode(explanation.report))
        }
    }

    private typealias FlowKeyResult = Result<FlowKey, ConnectionQueryError>

    private func runBatch(state: ClusterState, snapshot: CompiledSnapshot) {
        while let line = readLine(strippingNewline: true) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                let query = try BatchQuery.parse(line)
                let flow = try state.flow(for: query)
                print(encode(snapshot.explain(flow).report))
            } catch {
                print(encode(["error": "\(error)"]))
            }
        }
    }

    private func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            return #"{"error":"could not encode the answer"}"#
        }
        return text
    }
}

/// One line of `explain --batch` input.
enum BatchQuery {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ line: String) throws -> ConnectionQuery {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object")
        }
        guard let from = object["from"] as? String else { throw Failure(description: "\"from\" must be a string") }
        guard let to = object["to"] as? String else { throw Failure(description: "\"to\" must be a string") }
        let transport = (object["protocol"] as? String) ?? "TCP"
        var port: UInt16?
        if let value = object["port"] {
            guard let number = value as? Int, !(value is Bool), (1...65535).contains(number) else {
                throw Failure(description: "\"port\" must be an integer between 1 and 65535")
            }
            port = UInt16(number)
        }
        return ConnectionQuery(from: from, to: to, port: port, protocol: transport)
    }
}
