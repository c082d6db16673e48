@testable import KernelRules
import LinuxSupport
import NetworkTypes
import Testing
import TollgateTestSupport

/// Installs, re-installs and removes real rules inside fresh network namespaces (root only).
@Suite("RuleInstaller", .serialized, .offCooperativePool, .enabled(if: NetworkNamespace.availability.available, "needs root and iproute2"))
struct RuleInstallerTests {
    static let configuration = RuleConfiguration(
        podCIDRs: [IPPrefix("10.244.0.0/16"), IPPrefix("fd00:244::/56")].compactMap { $0 },
        exemptCIDRs: [IPPrefix("10.244.1.1/32"), IPPrefix("fd00:10::/64")].compactMap { $0 },
        firstQueue: 100, queueCount: 4, failOpen: true)

    /// `iptables-save` (or `ip6tables-save`) output without the comment lines that carry timestamps.
    static func saved(_ namespace: NetworkNamespace, _ tool: String) throws -> [String] {
        try namespace.run([tool]).standardOutput.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    /// Both families' saved rules that belong to Tollgate (anything mentioning it, case-insensitively).
    static func tollgateLines(_ namespace: NetworkNamespace) throws -> [String] {
        try (saved(namespace, "iptables-save") + saved(namespace, "ip6tables-save")).filter {
            $0.lowercased().contains("tollgate")
        }
    }

    /// The Tollgate lines a correct install of `ruleset` leaves, in `iptables-save` order, IPv4 then IPv6.
    static func expectedLines(_ ruleset: RenderedRuleset) throws -> [String] {
        guard case .iptables(let v4, let v6) = ruleset else {
            Issue.record("expected an iptables ruleset")
            return []
        }
        var lines: [String] = []
        for family in [v4, v6] {
            // iptables-save lists user chains sorted by name, then the built-in chains' rules, then ours.
            let declarations = family.restoreInput.split(separator: "\n").filter { $0.hasPrefix(":") }.map(String.init)
            lines += declarations.sorted()
            let builtinOrder = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]
            let jumps = family.jumps.sorted {
                (builtinOrder.firstIndex(of: $0.builtinChain) ?? 9) < (builtinOrder.firstIndex(of: $1.builtinChain) ?? 9)
            }
            lines += jumps.map(\.savedForm)
            lines += family.chainRules
        }
        return lines
    }

    /// Expects the namespace's Tollgate lines to be exactly those of `ruleset`, showing both on failure.
    static func expectInstalled(
        _ namespace: NetworkNamespace, _ ruleset: RenderedRuleset, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let actual = try tollgateLines(namespace)
        let expected = try expectedLines(ruleset)
        #expect(actual == expected, sourceLocation: sourceLocation)
    }

    func withNamespace(_ tag: String, _ body: (NetworkNamespace, RuleInstaller) throws -> Void) throws {
        let namespace = try NetworkNamespace(tag: tag)
        defer { namespace.remove() }
        try body(namespace, RuleInstaller(runner: namespace.runner))
    }

    @Test
    func detectionOnThisKernelChoosesIPTablesBecauseOfTheQueueStatement() throws {
        try withNamespace("kr-detect") { _, installer in
            let detected = installer.detectBackend()
            #expect(detected.backend == .iptables)
            #expect(detected.reason.contains("queue statement"))
            let forced = installer.detectBackend(forcing: .nftables)
            #expect(forced == (.nftables, "nftables back end forced by configuration"))
        }
    }

    @Test
    func installPutsEveryRuleInBothFamilies() throws {
        try withNamespace("kr-install") { namespace, installer in
            #expect(try installer.isInstalled() == false)
            let ruleset = try installer.install(Self.configuration, backend: .iptables)
            try Self.expectInstalled(namespace, ruleset)
            #expect(try installer.installedBackends() == [.iptables])
        }
    }

    @Test
    func installingTwiceDuplicatesNothing() throws {
        try withNamespace("kr-twice") { namespace, installer in
            let ruleset = try installer.install(Self.configuration, backend: .iptables)
            let first = try Self.saved(namespace, "iptables-save") + Self.saved(namespace, "ip6tables-save")
            try installer.install(ruleset)
            let second = try Self.saved(namespace, "iptables-save") + Self.saved(namespace, "ip6tables-save")
            #expect(second == first)
            try Self.expectInstalled(namespace, ruleset)
        }
    }

    @Test
    func installAfterACrashedRunAdoptsItsRules() throws {
        try withNamespace("kr-crash") { namespace, installer in
            // A crashed run with another configuration, plus stray copies of its jumps and rules.
            var old = Self.configuration
            old.firstQueue = 5
            old.queueCount = 1
            try installer.install(old, backend: .iptables)
            for tool in ["iptables", "ip6tables"] {
                try namespace.run([tool, "-t", "mangle", "-A", "POSTROUTING"] + RuleRenderer.allJumps[0].ruleArguments)
                try namespace.run([tool, "-t", "mangle", "-A", "INPUT"] + RuleRenderer.allJumps[1].ruleArguments)
                try namespace.run([tool, "-t", "mangle", "-A", "TOLLGATE-POLICY", "-j", "RETURN"])
            }
            let ruleset = try installer.install(Self.configuration, backend: .iptables)
            try Self.expectInstalled(namespace, ruleset)
        }
    }

    @Test
    func cleanupRemovesEveryTraceAndIsSafeTwice() throws {
        try withNamespace("kr-cleanup") { namespace, installer in
            var configuration = Self.configuration
            configuration.remoteClusterCIDRs = [IPPrefix("10.245.0.0/16")].compactMap { $0 }
            try installer.install(configuration, backend: .iptables)
            #expect(try installer.isInstalled())
            try installer.cleanup()
            #expect(try Self.tollgateLines(namespace) == [])
            #expect(try installer.isInstalled() == false)
            try installer.cleanup()
            #expect(try Self.tollgateLines(namespace) == [])
        }
    }

    @Test
    func turningNATExemptionOffRemovesItsChain() throws {
        try withNamespace("kr-nat") { namespace, installer in
            var configuration = Self.configuration
            configuration.remoteClusterCIDRs = [IPPrefix("10.245.0.0/16"), IPPrefix("fd00:245::/56")].compactMap { $0 }
            let withNAT = try installer.install(configuration, backend: .iptables)
            #expect(try Self.tollgateLines(namespace).sorted() == Self.expectedLines(withNAT).sorted())
            #expect(try Self.tollgateLines(namespace).contains { $0.contains("TOLLGATE-NAT") })
            let without = try installer.install(Self.configuration, backend: .iptables)
            try Self.expectInstalled(namespace, without)
        }
    }

    /// The kernel allow cache's sets are created before the rules that match them, the rules read back exactly as
    /// rendered, and turning the cache off, or cleanup, destroys the sets.
    @Test
    func allowSetsComeAndGoWithTheirRules() throws {
        try withNamespace("kr-sets") { namespace, installer in
            func sets() throws -> [String] {
                try namespace.run(["ipset", "list", "-name"]).standardOutput.split(separator: "\n").map(String.init).sorted()
            }
            var configuration = Self.configuration
            configuration.allowSets = true
            let withSets = try installer.install(configuration, backend: .iptables)
            try Self.expectInstalled(namespace, withSets)
            #expect(try sets() == ["tollgate-allow-v4", "tollgate-allow-v6"])
            // Installing again keeps the sets (and whatever they hold: the daemon flushes them itself).
            try installer.install(configuration, backend: .iptables)
            #expect(try sets() == ["tollgate-allow-v4", "tollgate-allow-v6"])
            let without = try installer.install(Self.configuration, backend: .iptables)
            try Self.expectInstalled(namespace, without)
            #expect(try sets() == [])
            try installer.install(configuration, backend: .iptables)
            try installer.cleanup()
            #expect(try sets() == [] && Self.tollgateLines(namespace) == [])
        }
    }

    @Test
    func nftablesScriptIsValidApartFromTheQueueStatementThisKernelLacks() throws {
        try withNamespace("kr-nft") { namespace, installer in
            // With every optional part: trusted peer sources, the remote-cluster NAT chain and the allow cache's sets.
            var configuration = Self.configuration
            configuration.trustedSourceCIDRs = [IPPrefix("192.168.10.0/24"), IPPrefix("fd00:11::/64")].compactMap { $0 }
            configuration.remoteClusterCIDRs = [IPPrefix("10.245.0.0/16"), IPPrefix("fd00:245::/56")].compactMap { $0 }
            configuration.allowSets = true
            let ruleset = try RuleRenderer().render(configuration, for: .nftables)
            // With the queue statement replaced, the kernel must accept the whole script.
            let script = ruleset.text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.contains("queue flags") || $0.contains("queue num") ? "\t\tcounter" : String($0) }
                .joined(separator: "\n")
            let check = try namespace.execute(["nft", "-c", "-f", "-"], input: script)
            #expect(check.succeeded, "nft -c rejected the script: \(check.standardError)")
            // Installing it for real fails on the queue statement, atomically: nothing is left behind.
            #expect {
                try installer.install(ruleset)
            } throws: { error in
                guard case KernelRulesError.commandFailed(let command, _, let standardError) = error else { return false }
                return command.suffix(3) == ["nft", "-f", "-"] && standardError.contains("queue")
            }
            #expect(try namespace.run(["nft", "list", "ruleset"]).standardOutput == "")
            #expect(try installer.isInstalled() == false)
        }
    }

    @Test
    func installingIPTablesRemovesAnNFTablesTable() throws {
        try withNamespace("kr-switch") { namespace, installer in
            try namespace.run(["nft", "add", "table", "inet", "tollgate"])
            #expect(try installer.installedBackends() == [.nftables])
            let ruleset = try installer.install(Self.configuration, backend: .iptables)
            #expect(try installer.installedBackends() == [.iptables])
            try Self.expectInstalled(namespace, ruleset)
            try installer.cleanup()
            #expect(try installer.installedBackends() == [])
        }
    }
}

/// Reading the allow cache's rule counter out of the tools' listings, captured on this machine (iptables v1.8.9
/// nf_tables, nftables v1.0.6) in a namespace with the set rules hooked at output, after three loopback connections
/// to an IPv4 element, four to an IPv6 element, and one to a port not in the sets.
@Suite("AllowCacheCounterListing")
struct AllowCacheCounterListingTests {
    @Test func iptablesListingGivesTheSetRulePackets() {
        let listing = """
            Chain TOLLGATE-POLICY (1 references)
                pkts      bytes target     prot opt in     out     source               destination
                   3      120 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ! ctstate NEW
                   3      180 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            match-set tollgate-allow-v4 src,dst,dst
                   0        0 TOLLGATE-QUEUE  0    --  *      *       10.244.0.0/16        0.0.0.0/0
                   0        0 TOLLGATE-QUEUE  0    --  *      *       0.0.0.0/0            10.244.0.0/16

            """
        #expect(RuleInstaller.iptablesSetMatchPackets(listing, set: "tollgate-allow-v4") == 3)
        #expect(RuleInstaller.iptablesSetMatchPackets(listing, set: "tollgate-allow-v6") == 0)
    }

    @Test func nftListingGivesBothSetRulesPackets() {
        let listing = """
            table inet tollgate {
            \tchain classify {
            \t\tct state != new return
            \t\tip saddr . meta l4proto . th dport . ip daddr @allow-v4 counter packets 3 bytes 180 return
            \t\tip6 saddr . meta l4proto . th dport . ip6 daddr @allow-v6 counter packets 4 bytes 320 return
            \t\tip saddr 127.0.0.0/8 goto enqueue
            \t}
            }

            """
        #expect(RuleInstaller.nftSetMatchPackets(listing, sets: ["allow-v4", "allow-v6"]) == 7)
        #expect(RuleInstaller.nftSetMatchPackets(listing, sets: ["allow-v4"]) == 3)
    }
}

/// Whether the ipset tool can be run: the daemon runs without the kernel allow cache when it cannot.
struct IPSetToolTests {
    @Test func theToolIsFoundOnPathAndMissingWhenPathLacksIt() {
        // The CI and the README's set-up install ipset (scripts/lib/common.sh).
        #expect(RuleInstaller().hasIPSetTool())
        #expect(!RuleInstaller(runner: CommandRunner(prefix: ["env", "PATH=/nonexistent"])).hasIPSetTool())
    }
}
