import NetworkTypes
import PolicyModel

/// Figures about one compilation.
public struct CompileStatistics: Sendable, Hashable {
    public let namespaces: Int
    public let pods: Int
    /// Pods that own their addresses (not host-network, not finished, with an address).
    public let endpoints: Int
    /// Distinct (namespace, labels, named ports) combinations among endpoints.
    public let identities: Int
    public let networkPolicies: Int
    /// AdminNetworkPolicies and BaselineAdminNetworkPolicies.
    public let adminPolicies: Int
    public let rules: Int
    public let ipBlocks: Int
    public let addressClasses: Int
    /// The memory of the compiled tables, in bytes.
    public let tableBytes: Int
    public let compileDuration: Duration
    /// The compile's phases and their durations, in order.
    public let phases: [CompilePhase]
    /// Whether the identities (and the selectors' identity sets) were taken over from the previous compile.
    public let reusedIdentities: Bool
    /// NetworkPolicies resolved by this compile; the others' resolutions were taken over unchanged.
    public let policiesResolved: Int
}

/// One phase of a compile and how long it took.
public struct CompilePhase: Sendable, Hashable {
    public let name: String
    public let duration: Duration
}

/// An immutable compiled policy snapshot. Any number of threads may evaluate against it at once.
public final class CompiledSnapshot: Sendable {
    /// Increases with every snapshot the daemon applies.
    public let generation: UInt64
    /// The objects the snapshot was compiled from.
    public let state: ClusterState
    /// The tables the datapath reads; valid while this object lives.
    public let tables: VerdictTables
    public let statistics: CompileStatistics
    /// Warnings found while compiling (such as an address claimed by two pods).
    public let diagnostics: [String]
    let slotPods: [Int32]
    let ruleOrigins: [RuleOrigin]

    init(
        generation: UInt64, state: ClusterState, tables: VerdictTables, statistics: CompileStatistics,
        slotPods: [Int32], diagnostics: [String], ruleOrigins: [RuleOrigin]
    ) {
        self.generation = generation
        self.state = state
        self.tables = tables
        self.statistics = statistics
        self.slotPods = slotPods
        self.diagnostics = diagnostics
        self.ruleOrigins = ruleOrigins
    }

    deinit { tables.deallocate() }

    /// Decides a connection. See `VerdictTables.evaluate(_:)`.
    public func evaluate(_ flow: FlowKey) -> Verdict { tables.evaluate(flow) }

    /// The rule a verdict names (`Verdict.egressRule` or `ingressRule`).
    public func origin(ofRule rule: Int32) -> RuleOrigin? {
        rule >= 0 && Int(rule) < ruleOrigins.count ? ruleOrigins[Int(rule)] : nil
    }

    /// The pod that owns `address` in this snapshot.
    public func pod(owning address: IPAddress) -> Pod? {
        let pod = slotPods[tables.slot(of: address)]
        return pod >= 0 ? state.pods[Int(pod)] : nil
    }
}
