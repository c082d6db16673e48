/// The rules of one address family for the iptables back end.
public struct IPTablesRuleset: Sendable, Hashable {
    /// Input for `iptables-restore --noflush` (or `ip6tables-restore`): chain declarations, which create or flush
    /// Tollgate's own chains, followed by their rules, one `COMMIT`ted block per table.
    public var restoreInput: String
    /// Jumps from built-in chains into Tollgate's chains, added after the restore only when absent.
    public var jumps: [JumpRule]

    /// Creates a ruleset.
    public init(restoreInput: String, jumps: [JumpRule]) {
        self.restoreInput = restoreInput
        self.jumps = jumps
    }

    /// The `-A` lines for Tollgate's own chains, exactly as `iptables-save` prints them once installed.
    public var chainRules: [String] {
        restoreInput.split(separator: "\n").filter { $0.hasPrefix("-A ") }.map(String.init)
    }
}
