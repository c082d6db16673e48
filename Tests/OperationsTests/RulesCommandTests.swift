import Foundation
import KernelRules
import LinuxSupport
import NetworkTypes
import Testing
import TollgateTestSupport

/// `tollgate rules` reads the configuration file and the flags exactly as `run` does. It runs inside a fresh
/// network namespace, whose only interface is loopback, so that this host's addresses do not enter the ruleset.
@Suite(.enabled(if: NetworkNamespace.availability.available, "\(NetworkNamespace.availability.reason)"))
struct RulesCommandTests {
    /// Every key that shapes the rules, set to something other than its default.
    static func configuration(policyDirectory: String) -> String {
        """
        podCIDRs: [10.244.0.0/16, fd00:244::/48]
        exemptCIDRs: [192.168.50.0/24]
        queueNum: 7
        workers: 2
        failureMode: closed
        backend: iptables
        kernelAllowCache: true
        remoteClusterCIDRs: [10.96.0.0/12]
        policyDir: \(policyDirectory)

        """
    }

    static func prefixes(_ texts: [String]) -> [IPPrefix] { texts.compactMap { IPPrefix($0) } }

    /// What `rules` prints for `configuration` on the iptables back end (forced, so no detection runs).
    static func expectedOutput(_ configuration: RuleConfiguration) throws -> String {
        "# back end: iptables (iptables back end forced by configuration)\n"
            + (try RuleRenderer().render(configuration, for: .iptables).text)
    }

    /// Runs `tollgate rules ARGUMENTS` with a configuration file in a temporary directory, inside a namespace.
    static func rules(_ arguments: [String], configuration: (String) -> String) throws -> CommandRunner.Result {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/config.yaml"
            try OperationsFixtures.write(configuration(directory), to: path)
            let namespace = try NetworkNamespace(tag: "tgtd-rules")
            defer { namespace.remove() }
            return try namespace.execute(
                [try OperationsFixtures.binary(), "rules", "--config", path]
                    + arguments.map { $0.replacingOccurrences(of: "CONFIG", with: path) })
        }
    }

    @Test func theConfigurationFileShapesTheRuleset() throws {
        let result = try Self.rules([], configuration: Self.configuration(policyDirectory:))
        var expected = RuleConfiguration(
            podCIDRs: Self.prefixes(["10.244.0.0/16", "fd00:244::/48"]), exemptCIDRs: Self.prefixes(["192.168.50.0/24"]),
            trustedSourceCIDRs: [], firstQueue: 7, queueCount: 2, failOpen: false,
            remoteClusterCIDRs: Self.prefixes(["10.96.0.0/12"]))
        expected.allowSets = true
        #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
        #expect(result.standardOutput == (try Self.expectedOutput(expected)))
    }

    @Test func flagsOverrideTheFile() throws {
        let result = try Self.rules(
            ["--queue-num", "20", "--workers", "1", "--exempt-cidr", "192.168.60.0/24", "--pod-cidr", "10.50.0.0/16",
             "--pod-to-node", "enforce", "--node-address", "172.16.0.1/32"],
            configuration: Self.configuration(policyDirectory:))
        // pod-to-node enforce: node addresses are judged, so neither they nor the exempt list grow; the peer
        // address becomes a trusted source (its node judged the connection already).
        var expected = RuleConfiguration(
            podCIDRs: Self.prefixes(["10.50.0.0/16"]), exemptCIDRs: Self.prefixes(["192.168.60.0/24"]),
            trustedSourceCIDRs: Self.prefixes(["172.16.0.1/32"]), firstQueue: 20, queueCount: 1, failOpen: false,
            remoteClusterCIDRs: Self.prefixes(["10.96.0.0/12"]))
        expected.allowSets = true
        #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
        #expect(result.standardOutput == (try Self.expectedOutput(expected)))
    }

    @Test func aBadFileExitsTwoNamingFileLineAndKeyAsRunDoes() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/config.yaml"
            try OperationsFixtures.write("podCIDRs: [10.244.0.0/16, not-a-cidr]\nworkers: 0\npolicyDir: \(directory)\n", to: path)
            let rules = try OperationsFixtures.run([try OperationsFixtures.binary(), "rules", "--config", path])
            #expect(
                rules
                    == CommandRunner.Result(
                        arguments: rules.arguments, exitStatus: 2, standardOutput: "",
                        standardError: """
                            error: \(path):1: podCIDRs[1]: not a valid CIDR (expected ADDRESS/LENGTH): "not-a-cidr"
                            error: \(path):2: workers: must be from 1 to 64: "0"

                            """, timedOut: false))
            let run = try OperationsFixtures.run([try OperationsFixtures.binary(), "run", "--config", path])
            #expect(run.exitStatus == rules.exitStatus && run.standardError == rules.standardError)
        }
    }

    @Test func withoutAPolicySourceRulesFailsAsRunWould() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/config.yaml"
            try OperationsFixtures.write("podCIDRs: [10.244.0.0/16]\n", to: path)
            let rules = try OperationsFixtures.run([try OperationsFixtures.binary(), "rules", "--config", path])
            #expect(rules.exitStatus == 2 && rules.standardOutput == "")
            #expect(
                rules.standardError
                    == "error: \(path): --policy-dir: no policy source: pass --policy-dir, --kubeconfig or --in-cluster, "
                    + "or set policyDir, kubeconfig or inCluster in the configuration file\n")
        }
    }
}
