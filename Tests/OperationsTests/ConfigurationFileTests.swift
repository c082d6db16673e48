import Datapath
import Foundation
import LinuxSupport
import NetworkTypes
import Testing
import TollgateDaemon

@Suite("Configuration file")
struct ConfigurationFileTests {
    typealias Problem = ConfigurationFileError.Problem

    @Test func printedDefaultsLoadBackAsTheDefaultValues() throws {
        var loaded = try ConfigurationFile(yaml: ConfigurationFile.defaultText, path: "<defaults>")
        let keyLines = loaded.lines
        loaded.lines = [:]
        #expect(loaded == ConfigurationFile.defaultValues)
        // Every key but workers and nodeName (whose defaults depend on the machine) is written out.
        #expect(Set(keyLines.keys) == Set(ConfigurationFile.Key.allCases).subtracting([.workers, .nodeName]))
    }

    @Test func defaultsResolveWithAnExistingPolicyDirectory() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            var file = try ConfigurationFile(yaml: ConfigurationFile.defaultText, path: "config.yaml")
            file.policyDirectory = directory
            let resolved = try file.resolve()
            let expected = ConfigurationFile.Resolved(
                daemon: DaemonConfiguration(
                    policyDirectory: directory, podCIDRs: [try #require(IPPrefix("10.244.0.0/16"))], exemptCIDRs: [],
                    workers: ConfigurationFile.defaultWorkers, firstQueue: 0, failureMode: .open,
                    metricsAddress: try ListenAddress(parsing: "127.0.0.1:9470"), backend: nil,
                    pollInterval: .milliseconds(5000)),
                logLevel: .info, logFormat: .text)
            #expect(resolved == expected)
        }
    }

    @Test func emptyFileSetsNothing() throws {
        #expect(try ConfigurationFile(yaml: "", path: "c.yaml") == ConfigurationFile(path: "c.yaml"))
        #expect(try ConfigurationFile(yaml: "# only a comment\n", path: "c.yaml") == ConfigurationFile(path: "c.yaml"))
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            policyDir: /srv/policies
            podCIDRs: [10.244.0.0/16, "fd00:244::/48"]
            exemptCIDRs:
              - 192.168.1.0/24
            workers: 3
            workerPriority: 20
            kernelAllowCache: true
            queueNum: 100
            failureMode: closed
            metricsAddr: "[::1]:9999"
            backend: nftables
            logLevel: debug
            logFormat: json
            pollIntervalMs: 250
            remoteClusterCIDRs: [10.96.0.0/12]
            podToNode: enforce
            nodeName: node-7.example
            nodeAddresses: [10.244.1.1/32]
            kubeconfig: ""
            inCluster: true
            audit: true
            denyLogRate: 2.5
            revoke: false
            """
        var expected = ConfigurationFile(path: "c.yaml")
        expected.policyDirectory = "/srv/policies"
        expected.podCIDRs = [try #require(IPPrefix("10.244.0.0/16")), try #require(IPPrefix("fd00:244::/48"))]
        expected.exemptCIDRs = [try #require(IPPrefix("192.168.1.0/24"))]
        expected.workers = 3
        expected.workerPriority = 20
        expected.kernelAllowCache = true
        expected.firstQueue = 100
        expected.failureMode = .closed
        expected.metricsAddress = try ListenAddress(parsing: "[::1]:9999")
        expected.backend = .nftables
        expected.logLevel = .debug
        expected.logFormat = .json
        expected.pollIntervalMilliseconds = 250
        expected.remoteClusterCIDRs = [try #require(IPPrefix("10.96.0.0/12"))]
        expected.podToNode = .enforce
        expected.nodeName = "node-7.example"
        expected.nodeAddresses = [try #require(IPPrefix("10.244.1.1/32"))]
        expected.kubeconfig = ""
        expected.inCluster = true
        expected.audit = true
        expected.denyLogRate = 2.5
        expected.revoke = false
        expected.lines = [
            .policyDir: 1, .podCIDRs: 2, .exemptCIDRs: 3, .workers: 5, .workerPriority: 6, .kernelAllowCache: 7,
            .queueNum: 8, .failureMode: 9, .metricsAddr: 10, .backend: 11, .logLevel: 12, .logFormat: 13,
            .pollIntervalMs: 14, .remoteClusterCIDRs: 15, .podToNode: 16, .nodeName: 17, .nodeAddresses: 18,
            .kubeconfig: 19, .inCluster: 20, .audit: 21, .denyLogRate: 22, .revoke: 23,
        ]
        #expect(try ConfigurationFile(yaml: yaml, path: "c.yaml") == expected)
    }

    /// Bad files and every problem each must produce, with key, line and value.
    static let badFiles: [(name: String, yaml: String, problems: [Problem])] = [
        (
            "unknown key", "policyDir: /srv\npolicyDirectory: /srv\n",
            [
                Problem(
                    line: 2, key: "policyDirectory",
                    message: "unknown key (known keys: policyDir, podCIDRs, exemptCIDRs, workers, workerPriority, kernelAllowCache, queueNum, failureMode, "
                        + "metricsAddr, backend, logLevel, logFormat, pollIntervalMs, audit, denyLogRate, revoke, nodeName, nodeAddresses, "
                        + "podToNode, remoteClusterCIDRs, kubeconfig, inCluster)")
            ]
        ),
        (
            "node name that is not a DNS subdomain", "nodeName: Node_1\n",
            [
                Problem(
                    line: 1, key: "nodeName",
                    message: "must be a DNS subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
                    value: "Node_1")
            ]
        ),
        (
            "wrong types", "workers: \"4\"\npolicyDir: 12\ninCluster: \"yes\"\npodCIDRs: 10.0.0.0/8\n",
            [
                Problem(line: 1, key: "workers", message: "expected an integer from 1 to 64, got a string", value: "4"),
                Problem(line: 2, key: "policyDir", message: "expected a string, got an integer", value: "12"),
                Problem(line: 3, key: "inCluster", message: "expected true or false, got a string", value: "yes"),
                Problem(
                    line: 4, key: "podCIDRs",
                    message: "expected a list of CIDRs, such as [10.244.0.0/16] or [] for none, got a string",
                    value: "10.0.0.0/8"),
            ]
        ),
        (
            "invalid CIDRs", "podCIDRs:\n  - 10.244.0.0/16\n  - 10.0.0.300/8\n  - 10.1.0.0\nexemptCIDRs: [fd00::/129]\n",
            [
                Problem(line: 3, key: "podCIDRs[1]", message: "not a valid CIDR (expected ADDRESS/LENGTH)", value: "10.0.0.300/8"),
                Problem(line: 4, key: "podCIDRs[2]", message: "not a valid CIDR (expected ADDRESS/LENGTH)", value: "10.1.0.0"),
                Problem(line: 5, key: "exemptCIDRs[0]", message: "not a valid CIDR (expected ADDRESS/LENGTH)", value: "fd00::/129"),
            ]
        ),
        (
            "out of range and bad choices",
            "workers: 65\nqueueNum: 65536\npollIntervalMs: 5\nfailureMode: maybe\nbackend: ebpf\nlogFormat: xml\npodToNode: allow\nworkerPriority: 100\n",
            [
                Problem(line: 1, key: "workers", message: "must be from 1 to 64", value: "65"),
                Problem(line: 2, key: "queueNum", message: "must be from 0 to 65535", value: "65536"),
                Problem(line: 3, key: "pollIntervalMs", message: "must be 0 (off) or from 10 to 3600000", value: "5"),
                Problem(line: 4, key: "failureMode", message: "expected one of open, closed", value: "maybe"),
                Problem(line: 5, key: "backend", message: "expected one of auto, iptables, nftables", value: "ebpf"),
                Problem(line: 6, key: "logFormat", message: "expected one of text, json", value: "xml"),
                Problem(line: 7, key: "podToNode", message: "expected one of exempt, enforce", value: "allow"),
                Problem(line: 8, key: "workerPriority", message: "must be from 0 to 99", value: "100"),
            ]
        ),
        (
            "bad strings", "metricsAddr: ::1:9470\npolicyDir: relative/path\nkubeconfig: kube.conf\nlogLevel:\n",
            [
                Problem(
                    line: 1, key: "metricsAddr", message: "an IPv6 address must be in brackets, as in [::1]:9470",
                    value: "::1:9470"),
                Problem(line: 2, key: "policyDir", message: "must be an absolute path", value: "relative/path"),
                Problem(line: 3, key: "kubeconfig", message: "must be an absolute path or \"\"", value: "kube.conf"),
                Problem(
                    line: 4, key: "logLevel",
                    message: "expected one of trace, debug, info, notice, warning, error, critical, got no value (remove the key to use the default)"),
            ]
        ),
        (
            "duplicate key", "workers: 2\nworkers: 3\n",
            [Problem(line: 2, key: "workers", message: "duplicate key")]
        ),
        (
            "not a mapping", "- policyDir: /srv\n",
            [
                Problem(
                    line: 1, key: "",
                    message: "expected a mapping of keys such as \"policyDir: /etc/tollgate/policies.d\" at the top level")
            ]
        ),
        (
            "syntax error", "policyDir: /srv\npodCIDRs: [10.0.0.0/8\n",
            [
                Problem(
                    line: 3, key: "",
                    message: "invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
            ]
        ),
    ]

    @Test(arguments: badFiles.indices)
    func badFileIsRejectedWithEveryProblem(_ index: Int) {
        let (name, yaml, problems) = Self.badFiles[index]
        #expect(throws: ConfigurationFileError(path: "bad.yaml", problems: problems), "\(name)") {
            try ConfigurationFile(yaml: yaml, path: "bad.yaml")
        }
    }

    @Test func missingPolicyDirectoryInTheFileIsAnErrorWithItsLine() throws {
        let file = try ConfigurationFile(yaml: "podCIDRs: [10.244.0.0/16]\npolicyDir: /nonexistent/tg-ops\n", path: "c.yaml")
        let expected = ConfigurationFileError(
            path: "c.yaml",
            problems: [
                Problem(
                    line: 2, key: "policyDir", message: "no such directory (create it, or fix the path)",
                    value: "/nonexistent/tg-ops")
            ])
        #expect(throws: expected) { try file.resolve() }
        #expect(expected.description == "c.yaml:2: policyDir: no such directory (create it, or fix the path): \"/nonexistent/tg-ops\"")
    }

    @Test func policyDirectoryThatIsAFileIsAnError() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/not-a-directory"
            try OperationsFixtures.write("", to: path)
            let file = try ConfigurationFile(yaml: "podCIDRs: [10.244.0.0/16]\npolicyDir: \(path)\n", path: "c.yaml")
            #expect(
                file.policyDirectoryProblems() == [Problem(line: 2, key: "policyDir", message: "not a directory", value: path)])
        }
    }

    @Test func flagsOverrideFileValues() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let yaml = """
                policyDir: \(directory)
                podCIDRs: [10.244.0.0/16]
                exemptCIDRs: [192.168.0.0/24]
                workers: 2
                queueNum: 10
                failureMode: open
                metricsAddr: 127.0.0.1:9000
                backend: iptables
                logLevel: warning
                logFormat: json
                pollIntervalMs: 500
                """
            let file = try ConfigurationFile(yaml: yaml, path: "c.yaml")
            let overrides = ConfigurationFile.Overrides(
                policyDirectory: "/appears/later", podCIDRs: [try #require(IPPrefix("10.50.0.0/16"))], exemptCIDRs: [],
                workers: 4, firstQueue: nil, failureMode: .closed, metricsAddress: try ListenAddress(parsing: "[::1]:9001"),
                backend: .nftables, logLevel: .debug, logFormat: nil, pollIntervalMilliseconds: 50)
            let expected = ConfigurationFile.Resolved(
                daemon: DaemonConfiguration(
                    policyDirectory: "/appears/later", podCIDRs: [try #require(IPPrefix("10.50.0.0/16"))],
                    exemptCIDRs: [try #require(IPPrefix("192.168.0.0/24"))], workers: 4, firstQueue: 10,
                    failureMode: .closed, metricsAddress: try ListenAddress(parsing: "[::1]:9001"), backend: .nftables,
                    pollInterval: .milliseconds(50)),
                logLevel: .debug, logFormat: .json)
            #expect(try file.resolve(overrides: overrides) == expected)
        }
    }

    @Test func resolvedProblemsNameTheFileLineOrTheFlag() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let file = try ConfigurationFile(
                yaml: "policyDir: \(directory)\npodCIDRs: [10.0.0.0/8, 10.1.0.0/16]\nworkers: 4\nqueueNum: 65534\n",
                path: "c.yaml")
            // In DaemonConfiguration.problems() order: the queue range, then overlaps.
            #expect(
                file.problems() == [
                    Problem(line: 4, key: "queueNum", message: "queues 65534...65537 exceed 65535"),
                    Problem(line: 2, key: "podCIDRs", message: "10.0.0.0/8 overlaps 10.1.0.0/16"),
                ])
            let noFile = ConfigurationFile()
            #expect(throws: ConfigurationFileError(
                path: "",
                problems: [
                    Problem(
                        line: nil, key: "--policy-dir",
                        message: "no policy source: pass --policy-dir, --kubeconfig or --in-cluster, or set policyDir, kubeconfig or inCluster in the configuration file"),
                    Problem(line: nil, key: "--pod-cidr", message: "at least one pod CIDR is required"),
                ])) { try noFile.resolve() }
        }
    }

    /// Node and remote-cluster ranges: overlaps within a list, a node range that swallows the pod range, and a
    /// remote range inside the local one, each named by key, line and value.
    @Test func multiNodeRangeProblemsNameTheKeyAndValue() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let file = try ConfigurationFile(
                yaml: """
                    policyDir: \(directory)
                    podCIDRs: [10.244.0.0/16]
                    nodeAddresses: [10.0.0.0/8]
                    remoteClusterCIDRs: [10.244.5.0/24, 10.96.0.0/12, 10.96.1.0/24]
                    """,
                path: "c.yaml")
            #expect(
                file.problems() == [
                    Problem(line: 4, key: "remoteClusterCIDRs", message: "10.96.0.0/12 overlaps 10.96.1.0/24"),
                    Problem(
                        line: 3, key: "nodeAddresses",
                        message: "10.0.0.0/8 covers the whole pod CIDR 10.244.0.0/16; nothing would be enforced"),
                    Problem(
                        line: 4, key: "remoteClusterCIDRs",
                        message: "10.244.5.0/24 overlaps the local pod CIDR 10.244.0.0/16; a remote cluster's range must be its own"),
                ])
            // A flag replaces the file's list, and its problem names the flag.
            let overrides = ConfigurationFile.Overrides(remoteClusterCIDRs: [try #require(IPPrefix("10.0.0.0/8"))])
            #expect(
                throws: ConfigurationFileError(
                    path: "c.yaml",
                    problems: [
                        Problem(
                            line: 3, key: "nodeAddresses",
                            message: "10.0.0.0/8 covers the whole pod CIDR 10.244.0.0/16; nothing would be enforced"),
                        Problem(
                            line: nil, key: "--remote-cluster-cidr",
                            message: "10.0.0.0/8 overlaps the local pod CIDR 10.244.0.0/16; a remote cluster's range must be its own"),
                    ])
            ) { try file.resolve(overrides: overrides) }
        }
    }

    @Test func unreadableFileNamesTheCallAndErrno() {
        #expect(
            throws: ConfigurationFileError(
                path: "/nonexistent/tg-ops.yaml",
                problems: [
                    Problem(
                        line: nil, key: "",
                        message: "open(/nonexistent/tg-ops.yaml) failed: No such file or directory (ENOENT, errno 2)")
                ])
        ) { try ConfigurationFile.load(path: "/nonexistent/tg-ops.yaml") }
    }

    // MARK: - Through the binary

    @Test func printDefaultsPrintsTheDefaultText() throws {
        let result = try OperationsFixtures.run([try OperationsFixtures.binary(), "config", "--print-defaults"])
        #expect(result.exitStatus == 0 && result.standardError == "")
        #expect(result.standardOutput == ConfigurationFile.defaultText)
    }

    @Test func configCheckReportsEveryProblemAndExitsOne() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/config.yaml"
            try OperationsFixtures.write("policyDir: \(directory)\nworkers: many\nbogus: 1\npodCIDRs: [10.244.0.0/16]\n", to: path)
            let result = try OperationsFixtures.run([try OperationsFixtures.binary(), "config", "--check", path])
            #expect(result.exitStatus == 1)
            #expect(result.standardOutput == "")
            #expect(
                result.standardError == """
                    \(path):2: workers: expected an integer from 1 to 64, got a string: "many"
                    \(path):3: bogus: unknown key (known keys: policyDir, podCIDRs, exemptCIDRs, workers, workerPriority, kernelAllowCache, queueNum, \
                    failureMode, metricsAddr, backend, logLevel, logFormat, pollIntervalMs, audit, denyLogRate, revoke, \
                    nodeName, nodeAddresses, podToNode, remoteClusterCIDRs, kubeconfig, inCluster)

                    """)
            try OperationsFixtures.write("policyDir: \(directory)\npodCIDRs: [10.244.0.0/16]\n", to: path)
            let good = try OperationsFixtures.run([try OperationsFixtures.binary(), "config", "--check", path])
            #expect(good == CommandRunner.Result(
                arguments: good.arguments, exitStatus: 0, standardOutput: "\(path): OK\n", standardError: "", timedOut: false))
        }
    }

    /// `run` with a bad file exits 2 before it binds a queue or touches a rule: the error comes before any log line.
    @Test func runWithABadFileExitsTwoBeforeStarting() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let path = directory + "/config.yaml"
            try OperationsFixtures.write("podCIDRs: [10.244.0.0/16]\npolicyDir: \(directory)/missing\n", to: path)
            let result = try OperationsFixtures.run([try OperationsFixtures.binary(), "run", "--config", path], timeout: .seconds(30))
            #expect(result.exitStatus == 2)
            #expect(
                result.standardError
                    == "error: \(path):2: policyDir: no such directory (create it, or fix the path): \"\(directory)/missing\"\n")
            let missing = try OperationsFixtures.run(
                [try OperationsFixtures.binary(), "run", "--config", directory + "/absent.yaml"], timeout: .seconds(30))
            #expect(missing.exitStatus == 2)
            #expect(
                missing.standardError
                    == "error: \(directory)/absent.yaml: open(\(directory)/absent.yaml) failed: No such file or directory (ENOENT, errno 2)\n")
        }
    }
}

/// The Kubernetes API source from the file and the flags.
struct ConfigurationFileAPISourceTests {
    @Test func kubeconfigAloneIsASourceAndFlagsOverrideTheFile() throws {
        try OperationsFixtures.withTemporaryDirectory { directory in
            let kubeconfig = directory + "/kubeconfig"
            try "apiVersion: v1\n".write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let file = try ConfigurationFile(yaml: "kubeconfig: \(kubeconfig)\npodCIDRs: [10.0.0.0/8]\n", path: "c.yaml")
            let resolved = try file.resolve()
            #expect(resolved.daemon.policyDirectory == nil && resolved.daemon.kubernetesAPI == .kubeconfig(kubeconfig))
            let inCluster = try file.resolve(overrides: ConfigurationFile.Overrides(inCluster: true))
            #expect(inCluster.daemon.kubernetesAPI == .inCluster)
            let both = try file.resolve(overrides: ConfigurationFile.Overrides(policyDirectory: directory))
            #expect(both.daemon.policyDirectory == directory && both.daemon.kubernetesAPI == .kubeconfig(kubeconfig))
            #expect(throws: ConfigurationFileError(
                path: "c.yaml",
                problems: [ConfigurationFileError.Problem(line: nil, key: "--in-cluster", message: "conflicts with --kubeconfig; pass one of them")]
            )) { try file.resolve(overrides: ConfigurationFile.Overrides(kubeconfig: kubeconfig, inCluster: true)) }
        }
    }
}
