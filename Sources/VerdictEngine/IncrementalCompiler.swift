import NetworkTypes
import PolicyModel

/// Compiles one cluster state after another, reusing what the previous compile derived from whatever did not
/// change: while the namespaces and the set of identities (namespace, labels, named ports) stay the same, the
/// identity tables, the label index, the selectors' identity sets and the resolution of every unchanged
/// NetworkPolicy are taken over, and only changed policies are resolved again; the rules, address classes and
/// programs are then laid out as a full compile would, so the snapshot answers as
/// ``PolicyCompiler/compile(_:generation:)``'s does. When no namespace or pod changed at all
/// (``ClusterState/identityRevision``), the pods' addresses are taken over too; a pod added, removed or
/// readdressed with the labels and ports of an existing identity costs one pass over the pods.
///
/// A new or vanished identity, or a namespace change, compiles everything, as does the first compile.
/// Identity sets of selectors that no policy uses any more are kept until they grow to twice what a fresh compile
/// made, then dropped by a full compile.
public struct IncrementalCompiler: Sendable {
    private var reuse: CompileReuse?

    /// A compiler with nothing to reuse yet.
    public init() {}

    /// Compiles `state` into snapshot `generation`.
    public mutating func compile(_ state: ClusterState, generation: UInt64 = 1) -> CompiledSnapshot {
        let started = ContinuousClock.now
        var context = CompileContext(state: state, reusing: reuse)
        let tables = context.build()
        let reusedIdentities = context.reuse != nil
        let elapsed = ContinuousClock.now - started
        let statistics = CompileStatistics(
            namespaces: state.namespaces.count, pods: state.pods.count, endpoints: context.endpointCount,
            identities: context.identityNamespace.count, networkPolicies: state.networkPolicies.count,
            adminPolicies: state.adminPolicies.count,
            rules: context.rules.count, ipBlocks: context.blockCount, addressClasses: context.classCount,
            tableBytes: tables.byteCount, compileDuration: elapsed,
            phases: context.phases.map { CompilePhase(name: $0.name, duration: $0.duration) },
            reusedIdentities: reusedIdentities, policiesResolved: context.policiesResolved)
        reuse = CompileReuse(context, previous: context.reuse)
        return CompiledSnapshot(
            generation: generation, state: state, tables: tables, statistics: statistics,
            slotPods: context.slotPods, diagnostics: context.diagnostics, ruleOrigins: context.ruleOrigins)
    }
}

/// A NetworkPolicy in terms of one identity numbering: the identities its pod selector selects, and per direction
/// it isolates (nil: it does not), its rules with peers as identity sets or ipBlocks.
struct ResolvedPolicy: Sendable {
    var policy: NetworkPolicy
    var subjects: [Int32]
    var ingress: [ResolvedRule]?
    var egress: [ResolvedRule]?
}

/// One rule of a ``ResolvedPolicy``.
struct ResolvedRule: Sendable {
    var peers: [ResolvedPeer]
    var ports: [CompiledPort]
}

/// A peer: an identity set (an index into the compile's identity sets) or an ipBlock, which gets its block ID when
/// the rules are laid out (block IDs are numbered per compile, with the cluster-wide policies' networks).
enum ResolvedPeer: Sendable {
    case set(UInt32)
    case block(IPBlock)
}

/// What one compile hands to the next: everything derived from its namespaces and identities.
struct CompileReuse: Sendable {
    /// The state's identity revision: the same revision means the same pods, so the addresses hold too.
    let identityRevision: UInt64
    let namespaces: [Namespace]
    let identityKeys: [IdentityKey]
    let identityNamespace: [Int32]
    let identityLabels: [Labels]
    let identityNamedPorts: [[CompiledNamedPort]]
    let namespaceRanges: [Range<Int>]
    let labelIndex: [[LabelPair: [Int32]]]
    let endpointCount: Int
    let podSlots: [(pod: Int32, identity: Int32, address: IPAddress)]
    let portNames: [String: UInt32]
    let selectorCache: [SelectorKey: [Int32]]
    let namespaceSelectorCache: [LabelSelector: [Int32]]
    let peerSets: [PeerKey: UInt32]
    let identitySets: [CompiledIdentitySet]
    let setWords: [UInt64]
    let emptySet: UInt32?
    /// Per NetworkPolicy of the state compiled, in its order.
    let policies: [ResolvedPolicy]
    /// The identity-set words a compile from scratch of this revision made: the bound on kept unused sets.
    let freshSetWords: Int

    /// What `context`, just built, leaves for the next compile; nil when its identity sets have grown past twice
    /// what a fresh compile of the same identities made (a full compile then drops the unused ones).
    init?(_ context: CompileContext, previous: CompileReuse?) {
        let fresh = previous?.freshSetWords ?? context.setWords.count
        guard context.setWords.count <= 2 * fresh + 4096 else { return nil }
        identityRevision = context.state.identityRevision
        namespaces = context.state.namespaces
        identityKeys = context.identityKeys
        identityNamespace = context.identityNamespace
        identityLabels = context.identityLabels
        identityNamedPorts = context.identityNamedPorts
        namespaceRanges = context.namespaceRanges
        labelIndex = context.labelIndex
        endpointCount = context.endpointCount
        podSlots = context.podSlots
        portNames = context.portNames
        selectorCache = context.selectorCache
        namespaceSelectorCache = context.namespaceSelectorCache
        peerSets = context.peerSets
        identitySets = context.identitySets
        setWords = context.setWords
        emptySet = context.emptySet
        policies = context.resolvedPolicies
        freshSetWords = fresh
    }

    /// Puts the identities and selector results into a context about to compile a state with the same namespaces
    /// and identities; with `addresses`, the pods' addresses too (the state has the same identity revision).
    func restore(into context: inout CompileContext, addresses: Bool) {
        context.identityKeys = identityKeys
        context.identityNamespace = identityNamespace
        context.identityLabels = identityLabels
        context.identityNamedPorts = identityNamedPorts
        context.namespaceRanges = namespaceRanges
        context.labelIndex = labelIndex
        if addresses {
            context.endpointCount = endpointCount
            context.podSlots = podSlots
        }
        context.portNames = portNames
        context.selectorCache = selectorCache
        context.namespaceSelectorCache = namespaceSelectorCache
        context.peerSets = peerSets
        context.identitySets = identitySets
        context.setWords = setWords
        context.emptySet = emptySet
    }
}
