/// The exact text Tollgate hands to the kernel tools for one back end.
public enum RenderedRuleset: Sendable, Hashable {
    /// `iptables-restore` and `ip6tables-restore` input plus the jump rules, per address family.
    case iptables(ipv4: IPTablesRuleset, ipv6: IPTablesRuleset)
    /// One `nft -f` script that replaces `table inet tollgate` atomically.
    case nftables(script: String)

    /// The back end the text is for.
    public var backend: RuleBackend {
        switch self {
        case .iptables: return .iptables
        case .nftables: return .nftables
        }
    }

    /// A stable, human-readable rendering of everything that would be installed (used for golden files).
    public var text: String {
        switch self {
        case .iptables(let ipv4, let ipv6):
            var lines: [String] = []
            for (name, ruleset) in [("iptables-restore --noflush", ipv4), ("ip6tables-restore --noflush", ipv6)] {
                if let set = ruleset.allowSet {
                    lines.append("# ipset create \(set.name) \(set.createArguments.joined(separator: " ")) -exist")
                }
                lines.append("# \(name)")
                lines.append(ruleset.restoreInput.trimmingTrailingWhitespace)
                for jump in ruleset.jumps {
                    lines.append("# jump if absent: -t \(jump.table) \(jump.savedForm)")
                }
            }
            return lines.joined(separator: "\n") + "\n"
        case .nftables(let script):
            return script
        }
    }
}
