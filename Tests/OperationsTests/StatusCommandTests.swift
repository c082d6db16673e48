import Foundation
import LinuxSupport
import Synchronization
import Testing

/// `tollgate status` against a tiny HTTP server of the test's own, serving canned `/status` and `/metrics`.
@Suite("tollgate status")
struct StatusCommandTests {
    static let status = """
        {
          "audit" : false,
          "backend" : "iptables",
          "backendReason" : "forced by --backend",
          "cacheHitRatio" : 0.8,
          "exemptCIDRs" : [],
          "failureMode" : "open",
          "generation" : 3,
          "namespaces" : 2,
          "podCIDRs" : ["10.244.0.0/16", "fd00:244::/48"],
          "pods" : 4,
          "policies" : 1,
          "queues" : [0, 1],
          "ready" : true,
          "rulesInstalled" : true,
          "snapshot" : {"compileMilliseconds" : 1.25, "generation" : 3, "identities" : 5, "namespaces" : 2,
                        "policies" : 1, "pods" : 4, "tableBytes" : 12288},
          "sourceConflicts" : ["NetworkPolicy app/web: defined by directory and api; the directory copy is in force"],
          "sources" : [{"connected" : true, "errors" : ["bad.yaml: line 3: unknown field"],
                        "filesKeptFromLastGood" : ["bad.yaml"], "kind" : "directory",
                        "lastChange" : "2025-01-02T03:04:05Z", "name" : "directory", "objects" : 3,
                        "objectsOverridden" : 0, "path" : "/etc/tollgate/policies.d", "readable" : true},
                       {"connected" : false, "errors" : ["https://10.0.0.1:6443/api/v1/pods answered 503 Service Unavailable"],
                        "events" : 42, "filesKeptFromLastGood" : [], "kind" : "kubernetes-api",
                        "lastChange" : "2025-01-02T03:05:00Z",
                        "lastError" : "https://10.0.0.1:6443/api/v1/pods answered 503 Service Unavailable",
                        "malformedEvents" : 1, "name" : "api", "objects" : 7, "objectsOverridden" : 1,
                        "path" : "https://10.0.0.1:6443", "readable" : false, "reconnects" : 3, "relists" : 6}],
          "uptimeSeconds" : 3725.5,
          "workerStatistics" : [
            {"accepted" : 600, "audited" : 0, "cacheHits" : 480, "cacheMisses" : 120, "dropped" : 20, "packets" : 620,
             "queue" : 0, "snapshotGeneration" : 3},
            {"accepted" : 400, "audited" : 0, "cacheHits" : 320, "cacheMisses" : 80, "dropped" : 0, "packets" : 400,
             "queue" : 1, "snapshotGeneration" : 3}
          ],
          "workers" : 2
        }
        """

    /// The metrics, with the accept counters raised by `step` per scrape.
    static func metrics(scrape: Int, step: Int) -> String {
        let accepted = 800 + scrape * step
        return """
            # HELP tollgate_verdicts_total Verdicts given, by action and reason.
            # TYPE tollgate_verdicts_total counter
            tollgate_verdicts_total{action="accept",reason="not_isolated"} \(accepted)
            tollgate_verdicts_total{action="drop",reason="not_isolated"} 0
            tollgate_verdicts_total{action="accept",reason="allowed_by_policy"} 200
            tollgate_verdicts_total{action="drop",reason="denied_ingress"} 20
            tollgate_verdicts_total{action="audit",reason="denied_ingress"} 0
            # TYPE tollgate_packets_total counter
            tollgate_packets_total{queue="0"} \(620 + scrape * step)
            tollgate_packets_total{queue="1"} 400
            tollgate_malformed_packets_total 1
            tollgate_flow_cache_hits_total 800
            tollgate_flow_cache_misses_total 200
            tollgate_receive_buffer_overflows_total 2
            tollgate_verdict_send_errors_total 0
            tollgate_queue_dropped_total{queue="0"} 3
            tollgate_queue_dropped_total{queue="1"} 4
            tollgate_queue_user_dropped_total{queue="0"} 5
            tollgate_queue_user_dropped_total{queue="1"} 0
            tollgate_snapshot_generation 3

            """
    }

    /// Serves the canned documents on 127.0.0.1 (a free port); `/metrics` advances `step` per request.
    static func withServer<T>(
        step: Int = 0, status: String = Self.status, extraMetrics: String = "", _ body: (UInt16) throws -> T
    ) throws -> T {
        let scrapes = Atomic<Int>(0)
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { request in
            switch request.path {
            case "/status": return .ok(status, contentType: "application/json")
            case "/metrics":
                let scrape = scrapes.add(1, ordering: .relaxed).oldValue
                return .ok(
                    Self.metrics(scrape: scrape, step: step) + extraMetrics, contentType: PrometheusText.contentType)
            default: return .notFound
            }
        }
        defer { server.stop() }
        return try body(server.address.port)
    }

    @Test func onceShowsTheWholeStateReadably() throws {
        try Self.withServer { port in
            let result = try OperationsFixtures.run(
                [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(port)", "--once"])
            #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
            #expect(
                result.standardOutput == """
                    Tollgate at 127.0.0.1:\(port): ready, up 1h 02m 05s
                    Kernel rules: installed, back end iptables (forced by --backend); failure mode open; audit off
                    Pod CIDRs: 10.244.0.0/16, fd00:244::/48; exempt: none
                    Sources:
                      directory /etc/tollgate/policies.d: readable, 3 objects, last change 2025-01-02T03:04:05Z, 1 errors
                        error: bad.yaml: line 3: unknown field
                        kept from last good: bad.yaml
                      kubernetes-api https://10.0.0.1:6443: NOT CONNECTED, 7 objects (1 overridden), last change 2025-01-02T03:05:00Z, 1 errors
                        42 events, 6 lists, 3 reconnects, 1 malformed events
                        error: https://10.0.0.1:6443/api/v1/pods answered 503 Service Unavailable
                      conflict: NetworkPolicy app/web: defined by directory and api; the directory copy is in force
                    Snapshot: generation 3; 2 namespaces, 4 pods, 1 policies, 5 identities; tables 12.0 KiB, compiled in 1.25 ms
                    Queues: 0, 1, 2 workers
                      queue 0: 620 packets, 600 accepted, 20 dropped, 0 audited, snapshot generation 3
                      queue 1: 400 packets, 400 accepted, 0 dropped, 0 audited, snapshot generation 3
                    Verdicts: totals since start (rates need two scrapes; drop --once)
                      accept  1000
                      drop      20
                      audit      0
                      packets 1020
                      by reason: accept/not_isolated 800, accept/allowed_by_policy 200, drop/denied_ingress 20
                    Queue drops: queue full 7, socket buffer full 5; receive buffer overflows 2; verdict send errors 0; malformed packets 1
                    Flow cache: hit ratio 80.0% (800 hits, 200 misses)

                    """)
        }
    }

    /// With the kernel allow cache on, the connections it accepted (never seen by a worker) and its adds.
    @Test func kernelAllowCacheLineShowsItsAcceptsAndAdds() throws {
        let status = Self.status.replacingOccurrences(
            of: "\"cacheHitRatio\" : 0.8,",
            with: "\"cacheHitRatio\" : 0.8, \"kernelAllowCache\" : true, \"kernelCacheAccepts\" : 123456,")
        let metrics = """
            tollgate_allow_set_adds_total{result="sent"} 1020
            tollgate_allow_set_adds_total{result="failed"} 64
            tollgate_allow_set_adds_total{result="skipped"} 300
            tollgate_allow_set_pauses_total 1

            """
        try Self.withServer(status: status, extraMetrics: metrics) { port in
            let result = try OperationsFixtures.run(
                [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(port)", "--once"])
            #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
            let lines = result.standardOutput.split(separator: "\n").suffix(2).map(String.init)
            #expect(
                lines == [
                    "Flow cache: hit ratio 80.0% (800 hits, 200 misses)",
                    "Kernel allow cache: 123456 new connections accepted in the kernel, never queued (not in the verdicts "
                        + "above); adds 1020 sent, 64 failed, 300 skipped in 1 pauses",
                ])
            let json = try OperationsFixtures.run(
                [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(port)", "--once", "--output",
                 "json"])
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
            let totals = try #require(object["totals"] as? [String: Double])
            #expect(totals["kernelCacheAccepts"] == 123456)
        }
    }

    @Test func jsonHasTheRawStatusTotalsAndRates() throws {
        try Self.withServer(step: 50) { port in
            let result = try OperationsFixtures.run(
                [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(port)", "--interval", "0.2",
                 "--output", "json"])
            #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let interval = try #require(object["intervalSeconds"] as? Double)
            #expect(interval >= 0.2 && interval < 5)
            let rates = try #require(object["rates"] as? [String: Double])
            let expectedRate = 50 / interval
            let expectedRates = ["acceptPerSecond": expectedRate, "dropPerSecond": 0, "auditPerSecond": 0, "packetsPerSecond": expectedRate]
            // The same keys, and values equal but for the last digit JSON's decimal round trip may change.
            #expect(Set(rates.keys) == Set(expectedRates.keys))
            for (key, value) in expectedRates {
                #expect(abs((rates[key] ?? -1) - value) <= 1e-9 * max(1, value), "\(key): \(rates[key] ?? -1) vs \(value)")
            }
            let totals = try #require(object["totals"] as? [String: Double])
            #expect(
                totals == [
                    "accept": 1050, "drop": 20, "audit": 0, "packets": 1070, "queueDropped": 7, "queueUserDropped": 5,
                    "cacheHits": 800, "cacheMisses": 200, "cacheHitRatio": 0.8,
                ])
            let raw = try #require(object["status"] as? NSDictionary)
            let canned = try #require(try JSONSerialization.jsonObject(with: Data(Self.status.utf8)) as? NSDictionary)
            #expect(raw == canned)
            #expect(object["address"] as? String == "127.0.0.1:\(port)")
        }
    }

    @Test func nothingAnsweringExitsOneWithAClearMessage() throws {
        // A port that was free a moment ago: bind, learn it, stop.
        let port = try Self.withServer { $0 }
        let result = try OperationsFixtures.run(
            [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(port)", "--once"])
        #expect(
            result == CommandRunner.Result(
                arguments: result.arguments, exitStatus: 1, standardOutput: "",
                standardError: """
                    error: no Tollgate daemon answers: connect(127.0.0.1:\(port)) failed: Connection refused (ECONNREFUSED, errno 111)
                    Is the service running (systemctl status tollgate)? Is --metrics-addr right?

                    """, timedOut: false))
    }

    @Test func aStatusDocumentWithoutARequiredFieldExitsOneNamingIt() throws {
        let document = Self.status.replacingOccurrences(of: "\"tableBytes\" : 12288", with: "\"tableKiB\" : 12")
        #expect(document != Self.status)
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { request in
            request.path == "/status" ? .ok(document, contentType: "application/json") : .notFound
        }
        defer { server.stop() }
        let result = try OperationsFixtures.run(
            [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(server.address.port)", "--once"])
        #expect(result.exitStatus == 1)
        #expect(
            result.standardError == "error: GET /status: not a Tollgate answer: missing field \"snapshot.tableBytes\"\n")
    }

    @Test func somethingElseAnsweringExitsOne() throws {
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { _ in .notFound }
        defer { server.stop() }
        let result = try OperationsFixtures.run(
            [try OperationsFixtures.binary(), "status", "--metrics-addr", "127.0.0.1:\(server.address.port)", "--once"])
        #expect(result.exitStatus == 1)
        #expect(result.standardError == "error: GET /status answered HTTP 404: not found\n\n")
    }
}
