import Foundation
import Testing

@testable import TollgateDaemon

/// The `/status` document: what this daemon writes reads back whole, and older daemons' documents still decode.
@Suite struct StatusReportTests {
    /// A document as this version's daemon writes it, every field present.
    static let current = """
        {
          "audit" : true, "backend" : "nftables", "backendReason" : "iptables not found", "cacheHitRatio" : 0.5,
          "directoryWatch" : {"directoryLosses" : 1, "eventReloads" : 4, "lastChange" : "a.yaml", "mode" : "inotify+poll",
                              "pollReloads" : 0, "watching" : true},
          "exemptCIDRs" : ["192.168.0.0/24"], "failureMode" : "closed", "generation" : 9, "kernelAllowCache" : true,
          "namespaces" : 3,
          "nodes" : {"localAddresses" : ["192.168.0.10/32"], "nodeName" : "node-1", "peerAddresses" : ["192.168.0.11/32"],
                     "podToNode" : "enforce", "remoteClusterCIDRs" : ["10.96.0.0/12"]},
          "podCIDRs" : ["10.244.0.0/16"], "pods" : 6, "policies" : 2, "queues" : [4], "ready" : true,
          "revocation" : {"enabled" : true, "errors" : 0, "lastCandidates" : 3, "lastExamined" : 40, "lastGeneration" : 9,
                          "lastScanSeconds" : 0.002, "lifted" : 1, "revoked" : 2, "scanSecondsTotal" : 0.01, "scans" : 5,
                          "tombstones" : 2, "wouldRevoke" : 0},
          "rulesInstalled" : true,
          "snapshot" : {"compileMilliseconds" : 0.75, "generation" : 9, "identities" : 4, "namespaces" : 3, "policies" : 2,
                        "pods" : 6, "tableBytes" : 4096},
          "sourceConflicts" : [],
          "sources" : [{"connected" : true, "errors" : [], "filesKeptFromLastGood" : [], "kind" : "directory",
                        "lastChange" : "2026-11-27T10:00:00Z", "name" : "directory", "objects" : 11,
                        "objectsOverridden" : 0, "path" : "/etc/tollgate/policies.d", "readable" : true}],
          "uptimeSeconds" : 12.5,
          "workerScheduling" : "SCHED_RR 10",
          "workerStatistics" : [{"accepted" : 7, "audited" : 1, "cacheHits" : 3, "cacheMisses" : 5, "dropped" : 0,
                                 "packets" : 8, "queue" : 4, "snapshotGeneration" : 9}],
          "workers" : 1
        }
        """

    /// A document of the first daemon with a status endpoint (before audit mode, node addresses, worker priority,
    /// the allow cache, the API feed, revocation and the directory watcher).
    static let first = """
        {
          "backend" : null, "backendReason" : "", "cacheHitRatio" : 0, "exemptCIDRs" : [], "failureMode" : "open",
          "generation" : 1, "namespaces" : 1, "podCIDRs" : ["10.244.0.0/16"], "pods" : 2, "policies" : 0, "queues" : [0],
          "ready" : false, "rulesInstalled" : false,
          "snapshot" : {"compileMilliseconds" : 0.5, "generation" : 1, "identities" : 1, "namespaces" : 1, "policies" : 0,
                        "pods" : 2, "tableBytes" : 1024},
          "sources" : [{"errors" : [], "filesKeptFromLastGood" : [], "kind" : "directory", "path" : "/p", "readable" : true}],
          "uptimeSeconds" : 1,
          "workerStatistics" : [{"accepted" : 0, "cacheHits" : 0, "cacheMisses" : 0, "dropped" : 0, "packets" : 0,
                                 "queue" : 0, "snapshotGeneration" : 1}],
          "workers" : 1
        }
        """

    static func decode(_ text: String) throws -> StatusReport {
        try JSONDecoder().decode(StatusReport.self, from: Data(text.utf8))
    }

    @Test func aCurrentDocumentReadsBackAndEncodesToTheSameJSON() throws {
        let report = try Self.decode(Self.current)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encoded = try encoder.encode(report)
        #expect(try JSONDecoder().decode(StatusReport.self, from: encoded) == report)
        let written = try #require(try JSONSerialization.jsonObject(with: encoded) as? NSDictionary)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(Self.current.utf8)) as? NSDictionary)
        #expect(written == original)
    }

    @Test func theFirstDaemonsDocumentDecodesWithWhatItsFieldsMeant() throws {
        #expect(
            try Self.decode(Self.first)
                == StatusReport(
                    ready: false, generation: 1, namespaces: 1, pods: 2, policies: 0, backend: nil, backendReason: "",
                    rulesInstalled: false, failureMode: "open", audit: false, queues: [0], workers: 1,
                    workerScheduling: "normal", kernelAllowCache: false, podCIDRs: ["10.244.0.0/16"], exemptCIDRs: [],
                    nodes: nil,
                    snapshot: .init(
                        generation: 1, namespaces: 1, pods: 2, policies: 0, identities: 1, tableBytes: 1024,
                        compileMilliseconds: 0.5),
                    sources: [
                        .init(kind: "directory", path: "/p", readable: true, lastChange: nil, errors: [], filesKeptFromLastGood: [])
                    ],
                    sourceConflicts: nil,
                    workerStatistics: [
                        .init(
                            queue: 0, packets: 0, accepted: 0, audited: 0, dropped: 0, cacheHits: 0, cacheMisses: 0,
                            snapshotGeneration: 1)
                    ],
                    cacheHitRatio: 0, uptimeSeconds: 1, revocation: nil, directoryWatch: nil))
    }

    @Test(arguments: [
        ("\"snapshot\" : {\"compileMilliseconds\" : 0.5,", "\"snapshot\" : {", "missing field \"snapshot.compileMilliseconds\""),
        ("\"queue\" : 0,", "\"queue\" : \"zero\",", "field \"workerStatistics[0].queue\": expected UInt16"),
        ("\"ready\" : false,", "\"ready\" : null,", "field \"ready\": expected Bool"),
        ("{", "[", "invalid JSON"),
    ])
    func aDocumentThatDoesNotDecodeIsDescribedByItsField(original: String, replacement: String, reason: String) throws {
        let text = Self.first.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.first)
        let error = try #require(throws: (any Error).self) { try Self.decode(text) }
        #expect(DaemonStatusClient.describe(error) == reason)
    }
}
