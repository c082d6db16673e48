import Foundation
import NetworkTypes
import PolicyModel
import Testing
import TollgateBench
@testable import VerdictEngine

// The daemon's reload path: `ClusterState.applying(_:)` and `IncrementalCompiler`, against a state built whole
// from the same objects and the differential oracles. Each seed walks from one corner-case cluster (with tiers) to
// another in steps: policies only (the compiler then reuses identities and unchanged policies), replicas of every
// pod with other addresses (pods change, identities do not), then everything else; every step compares the applied
// state with one built whole and checks 1,000 queries of the incremental snapshot. Rerun one seed with
//   TOLLGATE_INCREMENTAL_SEEDS=1 TOLLGATE_INCREMENTAL_FIRST_SEED=<seed> swift test --filter IncrementalCompileTests

private let scale = DifferentialScale(environmentPrefix: "TOLLGATE_INCREMENTAL")

/// Every object of a state, by key. A namespace that carries only its name label is left out: it exists when a pod
/// or policy names it, as one that no object declares.
private func objects(of state: ClusterState) -> [ObjectKey: ManifestObject] {
    var result: [ObjectKey: ManifestObject] = [:]
    for namespace in state.namespaces where namespace != Namespace(name: namespace.name) {
        result[namespace.key] = .namespace(namespace)
    }
    for pod in state.pods { result[pod.key] = .pod(pod) }
    for policy in state.networkPolicies { result[policy.key] = .networkPolicy(policy) }
    for policy in state.adminPolicies { result[policy.key] = .adminNetworkPolicy(policy) }
    for node in state.nodes { result[node.key] = .node(node) }
    return result
}

/// The change from `from` to `to` restricted to `keys`.
private func changes(from: [ObjectKey: ManifestObject], to: [ObjectKey: ManifestObject], keys: [ObjectKey]) -> ObjectChanges {
    var result = ObjectChanges()
    for key in keys {
        if let object = to[key] {
            if from[key] != object { result.upserted.append(object) }
        } else if from[key] != nil {
            result.removed.append(key)
        }
    }
    return result
}

/// The parts of two states that must be equal, described when they are not.
private func differences(_ applied: ClusterState, _ whole: ClusterState) -> [String] {
    var result: [String] = []
    if applied.namespaces != whole.namespaces { result.append("namespaces \(applied.namespaces.map(\.name)) vs \(whole.namespaces.map(\.name))") }
    if applied.pods != whole.pods { result.append("pods \(applied.pods.map(\.key)) vs \(whole.pods.map(\.key))") }
    if applied.networkPolicies != whole.networkPolicies {
        result.append("policies \(applied.networkPolicies.map(\.key)) vs \(whole.networkPolicies.map(\.key))")
    }
    if applied.adminPolicies != whole.adminPolicies {
        result.append("admin policies \(applied.adminPolicies.map(\.key)) vs \(whole.adminPolicies.map(\.key))")
    }
    if applied.nodes != whole.nodes { result.append("nodes \(applied.nodes.map(\.name)) vs \(whole.nodes.map(\.name))") }
    return result
}

@Suite("Incremental compile: applied states and reused resolutions agree with compiles from scratch")
struct IncrementalCompileTests {
    static let queries = 1000

    @Test("Walks between corner-case clusters: every step agrees", arguments: 0..<DifferentialScale.batchCount)
    func walksAgree(batch: Int) {
        var reusedSteps = 0
        var policyOnlySteps = 0
        var failures = 0
        for seed in scale.seeds(ofBatch: batch) {
            let start = CornerCaseCluster(seed: seed, queries: Self.queries, tiers: true)
            let end = CornerCaseCluster(seed: seed &+ 1_000_003, queries: Self.queries, tiers: true)
            let startObjects = objects(of: start.state)
            let endObjects = objects(of: end.state)
            var random = SeededGenerator(seed: seed)
            let changed = Set(startObjects.keys).union(endObjects.keys).filter { startObjects[$0] != endObjects[$0] }
                .sorted().shuffled(using: &random)
            let policyKinds: Set<String> = ["NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"]
            let policyKeys = changed.filter { policyKinds.contains($0.kind) }
            let otherKeys = changed.filter { !policyKinds.contains($0.kind) }
            // Replicas: a copy of every pod under a new name, with the original's addresses in reverse order, and
            // one pod's addresses moved to the next pod's: pods change, identities do not.
            var replicaObjects = startObjects
            let startPods = start.state.pods
            for (index, pod) in startPods.enumerated() {
                let copy = Pod(
                    namespace: pod.namespace, name: pod.name + "-replica", labels: pod.labels, nodeName: pod.nodeName,
                    hostNetwork: pod.hostNetwork, containerPorts: pod.containerPorts, phase: pod.phase,
                    ips: pod.ips.reversed())
                replicaObjects[copy.key] = .pod(copy)
                if index == 0, startPods.count > 1, pod.isEndpoint, !startPods[1].ips.isEmpty {
                    let moved = Pod(
                        namespace: pod.namespace, name: pod.name, labels: pod.labels, nodeName: pod.nodeName,
                        hostNetwork: pod.hostNetwork, containerPorts: pod.containerPorts, phase: pod.phase,
                        ips: startPods[1].ips)
                    replicaObjects[moved.key] = .pod(moved)
                }
            }
            let replicaKeys = replicaObjects.keys.filter { replicaObjects[$0] != startObjects[$0] }.sorted()
            // Policies half and half, then replicas, then everything else (the replicas go), then an empty change.
            let half = policyKeys.count / 2
            let steps: [(keys: [ObjectKey], target: [ObjectKey: ManifestObject], sameIdentities: Bool)] = [
                (Array(policyKeys[..<half]), endObjects, true), (Array(policyKeys[half...]), endObjects, true),
                (replicaKeys, replicaObjects, true), (otherKeys + replicaKeys, endObjects, false), ([], endObjects, true),
            ]
            var current = startObjects
            var state = ClusterState(objects: startObjects.values)
            var compiler = IncrementalCompiler()
            _ = compiler.compile(state)
            for (index, step) in steps.enumerated() {
                var next = current
                for key in step.keys { next[key] = step.target[key] }
                state = state.applying(changes(from: current, to: next, keys: step.keys))
                current = next
                let whole = ClusterState(objects: current.values)
                let label = "incremental seed \(seed) step \(index)"
                for difference in differences(state, whole) { Issue.record("\(label): applied state differs: \(difference)") }
                let snapshot = compiler.compile(state, generation: UInt64(index + 2))
                if step.sameIdentities {
                    policyOnlySteps += 1
                    if snapshot.statistics.reusedIdentities { reusedSteps += 1 }
                }
                if step.keys == replicaKeys {
                    // New pods of existing identities: nothing is resolved again.
                    #expect(snapshot.statistics.reusedIdentities && snapshot.statistics.policiesResolved == 0, "\(label)")
                }
                // The queries of both clusters: addresses of the pods before and after.
                var check = DifferentialCheck(label: label, state: whole, snapshot: snapshot)
                for (number, flow) in (start.queries.prefix(Self.queries / 2) + end.queries.prefix(Self.queries / 2)).enumerated() {
                    check.check(flow, explaining: number % DifferentialScale.explainEvery == 0)
                }
                failures += check.mismatchCount
                for mismatch in check.mismatches { Issue.record(Comment(rawValue: mismatch)) }
            }
        }
        #expect(failures == 0)
        // The reuse path must be taken, or this test checks only compiles from scratch (a policy-only step compiles
        // everything only when it makes or removes a namespace that no object declares).
        #expect(reusedSteps * 4 > policyOnlySteps * 3, "reused identities in \(reusedSteps) of \(policyOnlySteps) steps")
    }

    @Test("A policy-only change resolves only the changed policies")
    func policyOnlyChangeResolvesOnlyChangedPolicies() {
        let cluster = SyntheticCluster(pods: 400, policies: 60, queries: 10, seed: 7)
        var compiler = IncrementalCompiler()
        let first = compiler.compile(cluster.state)
        #expect(!first.statistics.reusedIdentities)
        #expect(first.statistics.policiesResolved == cluster.state.networkPolicies.count)
        let victim = cluster.state.networkPolicies[10]
        let replacement = NetworkPolicy(
            namespace: victim.namespace, name: victim.name, podSelector: victim.podSelector, policyTypes: [.ingress])
        let added = NetworkPolicy(namespace: victim.namespace, name: victim.name + "-new", policyTypes: [.egress])
        let state = cluster.state.applying(
            ObjectChanges(
                upserted: [.networkPolicy(replacement), .networkPolicy(added)],
                removed: [cluster.state.networkPolicies[20].key]))
        #expect(state.identityRevision == cluster.state.identityRevision)
        let second = compiler.compile(state)
        #expect(second.statistics.reusedIdentities)
        #expect(second.statistics.policiesResolved == 2)
        // A pod change renumbers identities: everything is resolved again.
        let pod = state.pods[0]
        let moved = Pod(
            namespace: pod.namespace, name: pod.name, labels: ["moved": "yes"], nodeName: pod.nodeName,
            hostNetwork: pod.hostNetwork, containerPorts: pod.containerPorts, phase: pod.phase, ips: pod.ips)
        let third = compiler.compile(state.applying(ObjectChanges(upserted: [.pod(moved)])))
        #expect(!third.statistics.reusedIdentities)
        #expect(third.statistics.policiesResolved == state.networkPolicies.count)
    }
}
