public import LinuxSupport
internal import NetworkTypes

/// Detects the usable back end, installs Tollgate's kernel rules idempotently, and removes every trace of them.
///
/// Every command goes through `runner`, so a runner with the prefix `["ip", "netns", "exec", name]` aims the
/// installer at another network namespace (that is how the tests use it). Nothing here runs per packet.
///
/// Idempotence: the iptables back end declares its chains in `iptables-restore --noflush` input, which creates
/// them or flushes and refills them in one transaction, and adds a jump from a built-in chain only when none is
/// present, deleting surplus copies; a restart, or a start after a crash, therefore adopts whatever an earlier
/// run left and never duplicates it. The nftables back end replaces `table inet tollgate` in one `nft -f`
/// transaction. Installing one back end removes the other's rules.
public struct RuleInstaller: Sendable {
    /// Runs the external tools (`iptables-restore`, `iptables`, `iptables-save`, their IPv6 twins, `nft`).
    public var runner: CommandRunner

    /// Creates an installer that runs its commands through `runner`.
    public init(runner: CommandRunner = CommandRunner()) {
        self.runner = runner
    }

    /// The per-family tool names.
    struct Tools: Sendable {
        var family: AddressFamily
        var restore: String
        var command: String
        var save: String

        static let all: [Tools] = [
            Tools(family: .ipv4, restore: "iptables-restore", command: "iptables", save: "iptables-save"),
            Tools(family: .ipv6, restore: "ip6tables-restore", command: "ip6tables", save: "ip6tables-save"),
        ]
    }

    /// A ruleset with an nft `queue` statement, checked (never committed) to see whether the kernel has
    /// `CONFIG_NFT_QUEUE`.
    static let probeScript = """
        table inet tollgate-probe {
        \tchain probe {
        \t\ttype filter hook postrouting priority srcnat - 10; policy accept;
        \t\tqueue flags bypass num 0
        \t}
        }

        """

    // MARK: - Detection

    /// Chooses the back end: `forced` when given, otherwise nftables when the kernel accepts an nft `queue`
    /// statement (checked with `nft -c`, which changes nothing), else iptables. Returns the choice and why.
    public func detectBackend(forcing forced: RuleBackend? = nil) -> (backend: RuleBackend, reason: String) {
        if let forced {
            return (forced, "\(forced) back end forced by configuration")
        }
        let result: CommandRunner.Result
        do {
            result = try runner.run(["nft", "-c", "-f", "-"], input: Self.probeScript)
        } catch {
            return (.iptables, "nft could not be run (\(error)); using iptables with the xtables NFQUEUE target")
        }
        if result.succeeded {
            return (.nftables, "the kernel accepts the nft queue statement; using table inet \(RuleRenderer.nftTable)")
        }
        let detail = Self.firstErrorLine(result.standardError)
        if result.exitStatus == 127 || detail.contains("not found") {
            return (.iptables, "nft is not installed (\(detail)); using iptables with the xtables NFQUEUE target")
        }
        if detail.contains("No such file or directory") {
            return (
                .iptables,
                "the kernel rejects the nft queue statement (no CONFIG_NFT_QUEUE: \(detail)); "
                    + "using iptables with the xtables NFQUEUE target"
            )
        }
        return (
            .iptables,
            "nft rejected the queue statement probe (status \(result.exitStatus): \(detail)); "
                + "using iptables with the xtables NFQUEUE target"
        )
    }

    static func firstErrorLine(_ text: String) -> String {
        let lines = text.split(separator: "\n").map { String($0).trimmingTrailingWhitespace }
        return lines.first { $0.contains("Error") } ?? lines.first ?? "no error output"
    }

    // MARK: - Install

    /// Renders `configuration` for `backend` and installs it; returns what was installed.
    @discardableResult
    public func install(_ configuration: RuleConfiguration, backend: RuleBackend) throws(KernelRulesError)
        -> RenderedRuleset
    {
        let ruleset = try RuleRenderer().render(configuration, for: backend)
        try install(ruleset)
        return ruleset
    }

    /// Installs `ruleset`, replacing any earlier Tollgate rules of either back end.
    public func install(_ ruleset: RenderedRuleset) throws(KernelRulesError) {
        switch ruleset {
        case .iptables(let ipv4, let ipv6):
            for (tools, rules) in zip(Tools.all, [ipv4, ipv6]) {
                try installIPTables(rules, tools: tools)
            }
            try removeNFTTable()
        case .nftables(let script):
            try check(["nft", "-f", "-"], input: script)
            try removeIPTables()
        }
    }

    func installIPTables(_ rules: IPTablesRuleset, tools: Tools) throws(KernelRulesError) {
        if let set = rules.allowSet {
            // Before the rules that match it; an existing set of the same definition is kept (and flushed by the
            // daemon at its first snapshot).
            try check(["ipset", "create", set.name] + set.createArguments + ["-exist"])
        }
        try check([tools.restore, "-w", "--noflush"], input: rules.restoreInput)
        for jump in rules.jumps {
            try ensureSingleJump(jump, tools: tools)
        }
        // Jumps and chains of features this configuration does not use (NAT exemption turned off).
        for jump in RuleRenderer.allJumps where !rules.jumps.contains(jump) {
            try removeJumps(jump, tools: tools)
        }
        let declared = Set(rules.restoreInput.split(separator: "\n").filter { $0.hasPrefix(":") }.map {
            String($0.dropFirst().prefix { $0 != " " })
        })
        let unused = RuleRenderer.allChains.filter { !declared.contains($0.chain) }
        try removeChains(unused, tools: tools)
        if rules.allowSet == nil { try destroyAllowSet(family: tools.family) }
    }

    /// Whether the `ipset` tool can be run (the iptables back end's allow cache needs it): false when it is not
    /// installed (not found, or a command prefix could not find it: exit status 127) or does not answer `ipset
    /// version`.
    public func hasIPSetTool() -> Bool {
        guard let result = try? runner.run(["ipset", "version"]) else { return false }
        return result.succeeded
    }

    /// Destroys the allow set of `family` if it exists (no rule may reference it any more). Nothing to do when
    /// `ipset` is not installed: then no set was ever created.
    func destroyAllowSet(family: AddressFamily) throws(KernelRulesError) {
        guard let name = RuleRenderer.allowSetNames.first(where: { $0.family == family })?.name else { return }
        let result: CommandRunner.Result
        do {
            result = try runner.run(["ipset", "list", "-name"])
        } catch {
            if error.call == "posix_spawnp" && error.errno == 2 { return }  // ENOENT: ipset not installed
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
        guard result.succeeded, result.standardOutput.split(separator: "\n").contains(Substring(name)) else { return }
        try check(["ipset", "destroy", name])
    }

    /// Makes exactly one copy of `jump` exist, inserting it first in its built-in chain when absent.
    func ensureSingleJump(_ jump: JumpRule, tools: Tools) throws(KernelRulesError) {
        let copies = try savedRules(table: jump.table, tools: tools).filter { $0 == jump.savedForm }.count
        if copies == 0 {
            try check([tools.command, "-w", "-t", jump.table, "-I", jump.builtinChain, "1"] + jump.ruleArguments)
        }
        if copies > 1 {
            for _ in 1..<copies {
                try check([tools.command, "-w", "-t", jump.table, "-D", jump.builtinChain] + jump.ruleArguments)
            }
        }
    }

    // MARK: - Cleanup

    /// Removes every Tollgate rule, chain and table of both back ends and both families. Safe to run when
    /// nothing is installed, and when `nft` is not installed.
    public func cleanup() throws(KernelRulesError) {
        try removeIPTables()
        try removeNFTTable()
    }

    func removeIPTables() throws(KernelRulesError) {
        for tools in Tools.all {
            for jump in RuleRenderer.allJumps {
                try removeJumps(jump, tools: tools)
            }
            try removeChains(RuleRenderer.allChains, tools: tools)
            try destroyAllowSet(family: tools.family)
        }
    }

    func removeJumps(_ jump: JumpRule, tools: Tools) throws(KernelRulesError) {
        let copies = try savedRules(table: jump.table, tools: tools).filter { $0 == jump.savedForm }.count
        for _ in 0..<copies {
            try check([tools.command, "-w", "-t", jump.table, "-D", jump.builtinChain] + jump.ruleArguments)
        }
    }

    /// Flushes, then deletes, those of `chains` that exist (flushing first drops references between them).
    func removeChains(_ chains: [(table: String, chain: String)], tools: Tools) throws(KernelRulesError) {
        var present: [(table: String, chain: String)] = []
        var tables: [String: [String]] = [:]
        for entry in chains {
            if tables[entry.table] == nil {
                tables[entry.table] = try saved(table: entry.table, tools: tools)
            }
            if tables[entry.table, default: []].contains(where: { $0.hasPrefix(":\(entry.chain) ") }) {
                present.append(entry)
            }
        }
        for entry in present {
            try check([tools.command, "-w", "-t", entry.table, "-F", entry.chain])
        }
        for entry in present {
            try check([tools.command, "-w", "-t", entry.table, "-X", entry.chain])
        }
    }

    func removeNFTTable() throws(KernelRulesError) {
        guard try nftTableExists() else { return }
        try check(["nft", "delete", "table", "inet", RuleRenderer.nftTable])
    }

    // MARK: - Inspection

    /// Whether a complete Tollgate ruleset of either back end is present: both families' iptables chains with
    /// their jumps, or the nft table.
    public func isInstalled() throws(KernelRulesError) -> Bool {
        try !installedBackends().isEmpty
    }

    /// The back ends whose complete rules are present.
    public func installedBackends() throws(KernelRulesError) -> Set<RuleBackend> {
        var found: Set<RuleBackend> = []
        var iptablesComplete = true
        for tools in Tools.all {
            let mangle = try saved(table: "mangle", tools: tools)
            let chains = [RuleRenderer.policyChain, RuleRenderer.queueChain].allSatisfy { chain in
                mangle.contains { $0.hasPrefix(":\(chain) ") }
            }
            let jumps = RuleRenderer.allJumps.prefix(2).allSatisfy { mangle.contains($0.savedForm) }
            iptablesComplete = iptablesComplete && chains && jumps
        }
        if iptablesComplete { found.insert(.iptables) }
        if try nftTableExists() { found.insert(.nftables) }
        return found
    }

    /// New connections the kernel allow cache let through without queueing, summed over both families: the packet
    /// counter of the rule that matches the allow sets (only conntrack-NEW packets reach it). Runs `iptables -nvxL`
    /// (and `ip6tables`) or `nft list chain`; the count starts again from zero whenever the rules are reinstalled.
    public func allowCacheAccepts(backend: RuleBackend) throws(KernelRulesError) -> UInt64 {
        switch backend {
        case .iptables:
            var total: UInt64 = 0
            for tools in Tools.all {
                guard let name = RuleRenderer.allowSetNames.first(where: { $0.family == tools.family })?.name else {
                    continue
                }
                let listing = try check([tools.command, "-w", "-t", "mangle", "-nvxL", RuleRenderer.policyChain])
                total += Self.iptablesSetMatchPackets(listing.standardOutput, set: name)
            }
            return total
        case .nftables:
            let listing = try check(["nft", "list", "chain", "inet", RuleRenderer.nftTable, "classify"])
            return Self.nftSetMatchPackets(listing.standardOutput, sets: RuleRenderer.nftAllowSetNames.map(\.name))
        }
    }

    /// The packets column of the rule matching `set` in `iptables -nvxL` output (0 when there is no such rule).
    static func iptablesSetMatchPackets(_ listing: String, set: String) -> UInt64 {
        for line in listing.split(separator: "\n") where line.contains("match-set \(set) ") {
            if let first = line.split(separator: " ").first, let packets = UInt64(first) { return packets }
        }
        return 0
    }

    /// The sum of the `counter packets N` of the rules that look up one of `sets` (`@name`) in `nft list` output.
    static func nftSetMatchPackets(_ listing: String, sets: [String]) -> UInt64 {
        var total: UInt64 = 0
        for line in listing.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.contains(where: { word in sets.contains { word == "@\($0)" } }),
                let index = words.firstIndex(of: "counter"), index + 2 < words.count, words[index + 1] == "packets",
                let packets = UInt64(words[index + 2])
            else { continue }
            total += packets
        }
        return total
    }

    func nftTableExists() throws(KernelRulesError) -> Bool {
        let result: CommandRunner.Result
        do {
            result = try runner.run(["nft", "list", "tables"])
        } catch {
            if error.call == "posix_spawnp" && error.errno == 2 { return false }  // ENOENT: nft not installed
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
        if result.exitStatus == 127 { return false }
        guard result.succeeded else {
            throw .commandFailed(
                command: result.arguments, exitStatus: result.exitStatus, standardError: result.standardError)
        }
        return result.standardOutput.split(separator: "\n").contains { $0 == "table inet \(RuleRenderer.nftTable)" }
    }

    /// The lines `iptables-save -t table` prints (empty when the table does not exist yet).
    func saved(table: String, tools: Tools) throws(KernelRulesError) -> [String] {
        try check([tools.save, "-t", table]).standardOutput.split(separator: "\n").map(String.init)
    }

    /// The `-A` lines of `table`.
    func savedRules(table: String, tools: Tools) throws(KernelRulesError) -> [String] {
        try saved(table: table, tools: tools).filter { $0.hasPrefix("-A ") }
    }

    /// Runs a command and throws unless it exits with status 0.
    @discardableResult
    func check(_ arguments: [String], input: String? = nil) throws(KernelRulesError) -> CommandRunner.Result {
        let result: CommandRunner.Result
        do {
            result = try runner.run(arguments, input: input)
        } catch {
            throw .couldNotRun(command: error.arguments, call: error.call, errno: error.errno)
        }
        guard result.succeeded else {
            throw .commandFailed(
                command: result.arguments, exitStatus: result.exitStatus,
                standardError: result.timedOut ? "timed out; " + result.standardError : result.standardError)
        }
        return result
    }
}
