/// The rules of one address family for the iptables back end.
public struct IPTablesRuleset: Sendable, Hashable {
    /// Input for `iptables-restore --noflush` (or `ip6tables-restore`): chain declarations, which create or flush
    /// Tollgate's own chains, followed by their rules, one `COMMIT`ted block per table.
    public var restoreInput: String
    /// Jumps from built-in chains into Tollgate's chains, added after the restore only when absent.
    public var jumps: [JumpRule]
    /// The ip set the rules consult (created before the restore), if any: `ipset create` arguments after the name.
    public var allowSet: IPSetDefinition?

    /// Creates a ruleset.
    public init(restoreInput: String, jumps: [JumpRule], allowSet: IPSetDefinition? = nil) {
        self.restoreInput = restoreInput
        self.jumps = jumps
        self.allowSet = allowSet
    }

    /// The `-A` lines for Tollgate's own chains, exactly as `iptables-save` prints them once installed.
    public var chainRules: [String] {
        restoreInput.split(separator: "\n").filter { $0.hasPrefix("-A ") }.map(String.init)
    }
}

/// An ip set the iptables rules match against.
public struct IPSetDefinition: Sendable, Hashable {
    /// The set's name.
    public var name: String
    /// The `ipset create` arguments after the name: type, family and options.
    public var createArguments: [String]

    /// Creates a definition.
    public init(name: String, createArguments: [String]) {
        self.name = name
        self.createArguments = createArguments
    }
}
