import ArgumentParser
import PolicyModel

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a policy directory and report every error.",
        discussion: "Exits 0 when every manifest loads, 1 with every error listed otherwise."
    )

    @Option(name: .customLong("policy-dir"), help: "The directory of Kubernetes manifests (.yaml, .yml, .json).")
    var policyDirectory: String

    @Flag(name: .shortAndLong, help: "Also list the notes (skipped kinds, peers that match nothing).")
    var verbose = false

    func run() throws {
        let result = ManifestLoader.loadDirectory(policyDirectory)
        let state = ClusterState(objects: result.objects)
        for error in result.errors { printError("error: \(error)") }
        for note in result.notes { print("note: \(note)") }
        for tie in state.priorityTies { print("warning: \(tie)") }
        let skipped = result.skipped
        let admin = state.adminPolicies.filter { $0.kind == .adminNetworkPolicy }.count
        let baseline = state.adminPolicies.filter { $0.kind == .baselineAdminNetworkPolicy }.count
        let cluster = state.adminPolicies.filter { $0.kind == .clusterNetworkPolicy }
        var counts = "\(state.namespaces.count) namespaces, \(state.pods.count) pods, "
            + "\(state.networkPolicies.count) network policies"
        if admin > 0 { counts += ", \(admin) admin network policies" }
        if baseline > 0 { counts += ", \(baseline) baseline admin network policies" }
        if !cluster.isEmpty {
            let clusterAdmin = cluster.filter { $0.tier == .admin }.count
            counts += ", \(cluster.count) cluster network policies (\(clusterAdmin) admin, \(cluster.count - clusterAdmin) baseline)"
        }
        if !state.nodes.isEmpty { counts += ", \(state.nodes.count) nodes" }
        print(
            "\(result.files.count) files: \(counts)"
                + (skipped > 0 ? ", \(skipped) objects of other kinds skipped" : "")
                + ", \(result.errors.count) errors")
        if !result.errors.isEmpty { throw ExitStatus.invalidInput }
    }
}

func printError(_ text: String) {
    var standardError = StandardError()
    print(text, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleWriter.standardError(string)
    }
}
