/// A rule in a built-in iptables chain that jumps to one of Tollgate's chains.
///
/// Built-in chains are shared with the host and other agents, so Tollgate never rewrites them: a jump rule is
/// inserted only when an identical rule is absent (`iptables -C`), and surplus copies are deleted.
public struct JumpRule: Sendable, Hashable {
    /// The table (`mangle`, `nat`).
    public var table: String
    /// The built-in chain holding the jump (`POSTROUTING`, `INPUT`).
    public var builtinChain: String
    /// Tollgate's chain the rule jumps to.
    public var target: String
    /// The comment that marks the rule as Tollgate's.
    public var comment: String

    /// Creates a jump rule description.
    public init(table: String, builtinChain: String, target: String, comment: String) {
        self.table = table
        self.builtinChain = builtinChain
        self.target = target
        self.comment = comment
    }

    /// The match and target arguments shared by `-C`, `-I` and `-D` (everything after the chain name).
    public var ruleArguments: [String] {
        ["-m", "comment", "--comment", comment, "-j", target]
    }

    /// The rule as `iptables-save` prints it (`-A POSTROUTING -m comment --comment "..." -j TOLLGATE-POLICY`).
    public var savedForm: String {
        "-A \(builtinChain) -m comment --comment \"\(comment)\" -j \(target)"
    }
}
