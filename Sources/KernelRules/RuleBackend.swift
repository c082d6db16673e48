/// The kernel interface through which Tollgate's queue rules are installed.
public enum RuleBackend: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `iptables-nft`/`ip6tables-nft` chains in the `mangle` table with the xtables `NFQUEUE` target.
    /// Works on every kernel with `nft_compat` and `xt_NFQUEUE`, including kernels without `CONFIG_NFT_QUEUE`.
    case iptables
    /// A native nftables table, `table inet tollgate`, using the nft `queue` statement (needs `CONFIG_NFT_QUEUE`).
    case nftables

    public var description: String { rawValue }
}
