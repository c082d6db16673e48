import Foundation
import Testing
import TollgateTestSupport

extension EndToEndTests {
    @Test("A crafted SCTP INIT is accepted on a port the policy allows and dropped on one it does not")
    func craftedSCTPInitFollowsPolicy() throws {
        let policy = Manifests.ingressPolicy(
            name: "server-ingress", target: "server",
            rules: ["{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{protocol: SCTP, port: assoc}]}"])
        let scenario = try Scenario(tag: "e2e-sctp", files: ["cluster.yaml": Manifests.baseCluster, "policy.yaml": policy])
        defer { scenario.close() }
        let daemon = try scenario.startDaemon(scenario.options(queue: 1200, port: 21201))

        // (destination port, family, expected verdict-counter deltas)
        let cases: [(UInt16, Int, [String: Double])] = [
            (9000, 4, ["accept/allowed_by_policy": 1]),
            (9001, 4, ["drop/denied_ingress": 1]),
            (9000, 6, ["accept/allowed_by_policy": 1]),
            (9001, 6, ["drop/denied_ingress": 1]),
        ]
        for (index, (port, family, expected)) in cases.enumerated() {
            // A fresh source port per case: each INIT is a new SCTP association for conntrack.
            let packet = PacketBuilder.sctpPacket(
                sourcePort: 40000 + UInt16(index), destinationPort: port, verificationTag: 0,
                chunks: [PacketBuilder.sctpInitChunk(initiateTag: 0x1234_5678 + UInt32(index))])
            let hex = packet.map { String(format: "%02x", $0) }.joined()
            let before = try daemon.metrics().verdicts
            try scenario.namespace("client").run([
                "python3", "-c", Scripts.rawSCTP(address: try scenario.address("server", family: family), hex: hex),
            ])
            var delta: [String: Double] = [:]
            try daemon.wait(for: "the SCTP verdict", timeout: .seconds(5)) { () throws(TollgateProcess.Failure) in
                let after = try daemon.metrics().verdicts
                delta = [:]
                for (key, value) in after where value != before[key] ?? 0 { delta[key] = value - (before[key] ?? 0) }
                return !delta.isEmpty
            }
            #expect(delta == expected, "SCTP INIT to port \(port) over IPv\(family)")
        }
    }
}
