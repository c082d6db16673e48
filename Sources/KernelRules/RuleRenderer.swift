public import NetworkTypes

/// Renders a `RuleConfiguration` into the exact text each back end installs. Pure: no commands run.
///
/// ## Where the rules hook in, and why
/// Policy is decided on the first packet of each new connection (conntrack state NEW); established and related
/// packets never leave the kernel. The decision needs the addresses the policy speaks about: the backend pod's
/// address after a Service's DNAT, and the client pod's own address before any SNAT/masquerade. So the rules run
/// **after DNAT and before SNAT**:
///
/// - **postrouting, before source NAT** — iptables: the `mangle` table's POSTROUTING (priority -150, ahead of
///   `nat` POSTROUTING at 100); nft: `hook postrouting priority srcnat - 10`. Every packet that leaves the host
///   passes here: forwarded pod-to-pod and pod-to-external traffic, hairpin traffic through a Service, and
///   host-to-pod traffic (from the host's own sockets), with DNAT (PREROUTING or OUTPUT) already applied.
/// - **input** — iptables: `mangle` INPUT; nft: `hook input priority mangle`. Pod-to-node traffic is
///   delivered locally and never reaches postrouting.
///
/// A FORWARD hook alone is not enough: kubernetes-sigs/kube-network-policies started there and moved to
/// postrouting before SNAT plus input, because FORWARD misses host-to-pod traffic, IPVS-proxied traffic (IPVS
/// re-injects packets through LOCAL_OUT, skipping FORWARD — its issue #46, PR #54) and pod-to-own-node traffic
/// (issues #283, #379). A packet crosses exactly one of the two hooks, so nothing is queued twice.
///
/// ## What is queued
/// Only connections in state NEW with a source or destination in a pod CIDR, and with neither endpoint in an
/// exempt CIDR (node addresses go there, which keeps kubelet probes and pod-to-node traffic out of the queue).
/// ICMPv6 neighbour discovery (types 133–137, RFC 4861) always passes: without it pods lose their neighbours
/// (kube-network-policies #191).
///
/// ## Peer nodes
/// `trustedSourceCIDRs` holds the addresses of the other nodes that run Tollgate. A connection that entered the
/// cluster through a peer (a NodePort, a pod there) was judged by that peer on its original addresses before it
/// masqueraded the source to one of its own addresses; this node does not judge it again on the rewritten source.
/// Matched on the source only: this node's pods' connections towards a peer's address are still judged here.
///
/// ## NAT towards remote clusters
/// With `remoteClusterCIDRs`, pod traffic to those prefixes gets an identity source NAT binding (the source
/// address maps to itself) in a `nat` postrouting chain that runs before the host's masquerade rules: iptables
/// `NETMAP` onto the pod CIDR in Tollgate's chain inserted first in `nat` POSTROUTING; nft `snat to ip saddr` in
/// a nat chain at priority `srcnat - 10`. The kernel runs a connection's nat chains in priority order only until
/// one sets up a binding (`nf_nat_inet_fn`), so the identity binding keeps every later masquerade rule — in
/// iptables or in any nft table — from rewriting the pod's address. (A plain `ACCEPT` would not: it ends only its
/// own chain, and later nat chains would still masquerade.)
public struct RuleRenderer: Sendable {
    /// Tollgate's chain in the `mangle` table that classifies new connections.
    public static let policyChain = "TOLLGATE-POLICY"
    /// Tollgate's chain in the `mangle` table that holds the NFQUEUE target.
    public static let queueChain = "TOLLGATE-QUEUE"
    /// Tollgate's chain in the `nat` table that exempts remote-cluster traffic from masquerading.
    public static let natChain = "TOLLGATE-NAT"
    /// The nftables table Tollgate owns.
    public static let nftTable = "tollgate"
    /// The comment every Tollgate rule in a built-in chain carries (matched by cleanup).
    public static let commentPrefix = "tollgate"

    /// Every jump Tollgate may add to a built-in chain; cleanup removes all of them.
    public static let allJumps: [JumpRule] = [
        JumpRule(
            table: "mangle", builtinChain: "POSTROUTING", target: policyChain,
            comment: "tollgate: new connections to or from pods, after DNAT and before SNAT"),
        JumpRule(
            table: "mangle", builtinChain: "INPUT", target: policyChain,
            comment: "tollgate: new connections from pods to this host"),
        JumpRule(
            table: "nat", builtinChain: "POSTROUTING", target: natChain,
            comment: "tollgate: no masquerade towards remote clusters"),
    ]

    /// The kernel allow cache's ip sets (iptables back end), one per family (`hash:ip,port,ip`: source,
    /// protocol:port, destination).
    public static let allowSetNames: [(family: AddressFamily, name: String)] = [
        (.ipv4, "tollgate-allow-v4"), (.ipv6, "tollgate-allow-v6"),
    ]
    /// The kernel allow cache's sets in `table inet tollgate` (nft back end), one per family, keyed by the
    /// concatenation source . protocol . destination port . destination.
    public static let nftAllowSetNames: [(family: AddressFamily, name: String)] = [
        (.ipv4, "allow-v4"), (.ipv6, "allow-v6"),
    ]
    /// How long an element of the allow sets lives unless added again, in seconds; every snapshot flushes them.
    public static let allowSetTimeoutSeconds: UInt32 = 60
    /// The most elements an allow set holds (ipset `maxelem`, nft `size`); adds beyond it fail and are counted.
    public static let allowSetCapacity = 262_144

    /// Every (table, chain) Tollgate creates in iptables; cleanup removes all of them.
    public static let allChains: [(table: String, chain: String)] = [
        ("mangle", policyChain), ("mangle", queueChain), ("nat", natChain),
    ]

    /// ICMPv6 neighbour-discovery types (RFC 4861 §4): router solicitation and advertisement, neighbour
    /// solicitation and advertisement, redirect.
    public static let neighbourDiscoveryTypes: [UInt8] = [133, 134, 135, 136, 137]

    /// Creates a renderer.
    public init() {}

    /// Renders `configuration` for `backend`.
    public func render(_ configuration: RuleConfiguration, for backend: RuleBackend) throws(KernelRulesError)
        -> RenderedRuleset
    {
        try configuration.validate()
        switch backend {
        case .iptables:
            return .iptables(
                ipv4: renderIPTables(configuration, family: .ipv4),
                ipv6: renderIPTables(configuration, family: .ipv6))
        case .nftables:
            return .nftables(script: renderNFT(configuration))
        }
    }

    // MARK: - iptables

    /// The NFQUEUE target arguments, in the order `iptables-save` prints them.
    func queueTarget(_ configuration: RuleConfiguration) -> String {
        var target = "-j NFQUEUE"
        let last = configuration.lastQueue ?? configuration.firstQueue
        if configuration.queueCount > 1 {
            target += " --queue-balance \(configuration.firstQueue):\(last)"
        } else {
            target += " --queue-num \(configuration.firstQueue)"
        }
        if configuration.failOpen { target += " --queue-bypass" }
        if configuration.queueCount > 1 { target += " --queue-cpu-fanout" }
        return target
    }

    func renderIPTables(_ configuration: RuleConfiguration, family: AddressFamily) -> IPTablesRuleset {
        let pods = Self.normalized(configuration.podCIDRs, family: family)
        let exempt = Self.normalized(configuration.exemptCIDRs, family: family)
        let trusted = Self.normalized(configuration.trustedSourceCIDRs, family: family)
        let remote = Self.normalized(configuration.remoteClusterCIDRs, family: family)
        let policy = "-A \(Self.policyChain)"

        var mangle: [String] = [
            "*mangle",
            ":\(Self.policyChain) - [0:0]",
            ":\(Self.queueChain) - [0:0]",
        ]
        var rules: [String] = []
        if family == .ipv6 {
            for type in Self.neighbourDiscoveryTypes {
                rules.append("\(policy) -p ipv6-icmp -m icmp6 --icmpv6-type \(type) -j RETURN")
            }
        }
        rules.append("\(policy) -m conntrack ! --ctstate NEW -j RETURN")
        for prefix in exempt {
            rules.append(Self.joined(policy, Self.match("-s", prefix), "-j RETURN"))
            rules.append(Self.joined(policy, Self.match("-d", prefix), "-j RETURN"))
        }
        for prefix in trusted {
            rules.append(Self.joined(policy, Self.match("-s", prefix), "-j RETURN"))
        }
        var allowSet: IPSetDefinition? = nil
        if configuration.allowSets, let name = Self.allowSetNames.first(where: { $0.family == family })?.name {
            rules.append("\(policy) -m set --match-set \(name) src,dst,dst -j RETURN")
            allowSet = IPSetDefinition(
                name: name,
                createArguments: [
                    "hash:ip,port,ip", "family", family == .ipv4 ? "inet" : "inet6", "timeout",
                    "\(Self.allowSetTimeoutSeconds)", "maxelem", "\(Self.allowSetCapacity)",
                ])
        }
        for prefix in pods {
            rules.append(Self.joined(policy, Self.match("-s", prefix), "-j \(Self.queueChain)"))
            rules.append(Self.joined(policy, Self.match("-d", prefix), "-j \(Self.queueChain)"))
        }
        rules.append(
            "-A \(Self.queueChain) -m comment --comment \"tollgate: decide new pod connections\" "
                + queueTarget(configuration))
        mangle += Self.uniqued(rules)
        mangle.append("COMMIT")

        var jumps = Array(Self.allJumps.prefix(2))
        if !remote.isEmpty && !pods.isEmpty {
            var nat = ["*nat", ":\(Self.natChain) - [0:0]"]
            var natRules: [String] = []
            for source in pods {
                for destination in remote {
                    natRules.append(
                        Self.joined(
                            "-A \(Self.natChain)", Self.match("-s", source), Self.match("-d", destination),
                            "-m comment --comment \"tollgate: keep pod source address\" -j NETMAP --to \(source)"))
                }
            }
            nat += Self.uniqued(natRules)
            nat.append("COMMIT")
            mangle += nat
            jumps.append(Self.allJumps[2])
        }
        return IPTablesRuleset(restoreInput: mangle.joined(separator: "\n") + "\n", jumps: jumps, allowSet: allowSet)
    }

    /// `-s 10.0.0.0/8`; a /0 prefix matches everything and is rendered as no match, as `iptables-save` does.
    static func match(_ option: String, _ prefix: IPPrefix) -> String {
        prefix.length == 0 ? "" : "\(option) \(prefix)"
    }

    static func joined(_ parts: String...) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func uniqued(_ lines: [String]) -> [String] {
        var seen = Set<String>()
        return lines.filter { seen.insert($0).inserted }
    }

    /// The prefixes of `family`, sorted, without duplicates and without prefixes inside another one.
    /// (nft rejects overlapping intervals in one set; iptables would only waste rules on them.)
    public static func normalized(_ prefixes: [IPPrefix], family: AddressFamily) -> [IPPrefix] {
        let sorted = Set(prefixes.filter { $0.family == family }).sorted()
        return sorted.filter { candidate in
            !sorted.contains { $0 != candidate && $0.contains(candidate) }
        }
    }

    // MARK: - nftables

    func renderNFT(_ configuration: RuleConfiguration) -> String {
        let table = "inet \(Self.nftTable)"
        var lines = [
            "#!/usr/sbin/nft -f",
            "# Tollgate's rules: this script replaces table \(table) in one transaction.",
            "table \(table) {}",
            "delete table \(table)",
            "table \(table) {",
        ]
        if configuration.allowSets {
            for (family, name) in Self.nftAllowSetNames {
                let address = family == .ipv4 ? "ipv4_addr" : "ipv6_addr"
                lines += [
                    "\tset \(name) {",
                    "\t\ttype \(address) . inet_proto . inet_service . \(address)",
                    "\t\tflags timeout",
                    "\t\ttimeout \(Self.allowSetTimeoutSeconds)s",
                    "\t\tsize \(Self.allowSetCapacity)",
                    "\t}",
                ]
            }
        }
        lines.append("\tchain classify {")
        let types = Self.neighbourDiscoveryTypes.map(String.init).joined(separator: ", ")
        lines.append("\t\ticmpv6 type { \(types) } return")
        lines.append("\t\tct state != new return")
        for (family, keyword) in [(AddressFamily.ipv4, "ip"), (.ipv6, "ip6")] {
            let exempt = Self.normalized(configuration.exemptCIDRs, family: family)
            guard !exempt.isEmpty else { continue }
            let set = exempt.map(\.description).joined(separator: ", ")
            lines.append("\t\t\(keyword) saddr { \(set) } return")
            lines.append("\t\t\(keyword) daddr { \(set) } return")
        }
        for (family, keyword) in [(AddressFamily.ipv4, "ip"), (.ipv6, "ip6")] {
            let trusted = Self.normalized(configuration.trustedSourceCIDRs, family: family)
            guard !trusted.isEmpty else { continue }
            lines.append("\t\t\(keyword) saddr { \(trusted.map(\.description).joined(separator: ", ")) } return")
        }
        if configuration.allowSets {
            // The allow cache: a flow Tollgate allowed under the snapshot in force is not queued again. `th dport`
            // reads the transport header's destination port; only TCP, UDP and SCTP elements are ever added. The
            // counter is what `tollgate_kernel_cache_accepts_total` reports.
            for (family, name) in Self.nftAllowSetNames {
                let keyword = family == .ipv4 ? "ip" : "ip6"
                lines.append("\t\t\(keyword) saddr . meta l4proto . th dport . \(keyword) daddr @\(name) counter return")
            }
        }
        for (family, keyword) in [(AddressFamily.ipv4, "ip"), (.ipv6, "ip6")] {
            let pods = Self.normalized(configuration.podCIDRs, family: family)
            guard !pods.isEmpty else { continue }
            let set = pods.map(\.description).joined(separator: ", ")
            lines.append("\t\t\(keyword) saddr { \(set) } goto enqueue")
            lines.append("\t\t\(keyword) daddr { \(set) } goto enqueue")
        }
        lines.append("\t}")

        var flags: [String] = []
        if configuration.failOpen { flags.append("bypass") }
        if configuration.queueCount > 1 { flags.append("fanout") }
        var queue = "queue"
        if !flags.isEmpty { queue += " flags \(flags.joined(separator: ","))" }
        let last = configuration.lastQueue ?? configuration.firstQueue
        queue += configuration.queueCount > 1 ? " num \(configuration.firstQueue)-\(last)" : " num \(configuration.firstQueue)"
        lines += [
            "\tchain enqueue {",
            "\t\t\(queue)",
            "\t}",
            "\tchain postrouting {",
            "\t\ttype filter hook postrouting priority srcnat - 10; policy accept;",
            "\t\tjump classify",
            "\t}",
            "\tchain input {",
            "\t\ttype filter hook input priority mangle; policy accept;",
            "\t\tjump classify",
            "\t}",
        ]
        var natRules: [String] = []
        for (family, keyword) in [(AddressFamily.ipv4, "ip"), (.ipv6, "ip6")] {
            let pods = Self.normalized(configuration.podCIDRs, family: family)
            let remote = Self.normalized(configuration.remoteClusterCIDRs, family: family)
            guard !pods.isEmpty, !remote.isEmpty else { continue }
            natRules.append(
                "\t\t\(keyword) saddr { \(pods.map(\.description).joined(separator: ", ")) } "
                    + "\(keyword) daddr { \(remote.map(\.description).joined(separator: ", ")) } "
                    + "snat \(keyword) to \(keyword) saddr comment \"keep pod source address\"")
        }
        if !natRules.isEmpty {
            lines += ["\tchain remote-clusters {", "\t\ttype nat hook postrouting priority srcnat - 10; policy accept;"]
            lines += natRules
            lines.append("\t}")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
