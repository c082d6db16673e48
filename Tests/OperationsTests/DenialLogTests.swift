import Datapath
import NetworkTypes
import Testing
@testable import TollgateDaemon

@Suite("Denied-connection log: token bucket and summaries")
struct DenialLogTests {
    @Test("a burst of twice the rate, then one line per 1/rate seconds; the rest are counted")
    func tokenBucket() {
        let start = ContinuousClock.now
        var log = DenialLog(rate: 2, now: start)
        let admitted = (0..<10).map { _ in log.admit(now: start) }
        #expect(admitted == [true, true, true, true, false, false, false, false, false, false])
        #expect(log.suppressed == 6)
        #expect(log.admit(now: start + .milliseconds(400)) == false)
        #expect(log.admit(now: start + .milliseconds(600)) == true)
        #expect(log.takeSummary(now: start + .seconds(5)) == nil)
        #expect(log.takeSummary(now: start + .seconds(10)) == 7)
        #expect(log.takeSummary(now: start + .seconds(30)) == nil)
    }

    @Test("a rate of zero logs nothing and counts everything")
    func zeroRate() {
        let start = ContinuousClock.now
        var log = DenialLog(rate: 0, burst: 0, now: start)
        #expect((0..<5).map { second in log.admit(now: start + .seconds(Int64(second))) } == [false, false, false, false, false])
        #expect(log.suppressed == 5)
    }

    @Test("a line names the flow, the direction and the mode, even without a snapshot")
    func describeWithoutSnapshot() {
        let flow = FlowKey(
            source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!, transport: .udp, destinationPort: 53)
        let line = DenialLog.describe(
            DenialEvent(flow: flow, reason: .deniedByEgress, audited: true, generation: 7), snapshot: nil)
        #expect("\(line.message)" == "audited (allowed) denial of UDP 10.0.0.1 -> 10.0.0.2:53 by egress policy")
        #expect(line.metadata["mode"] == "audit")
        #expect(line.metadata["direction"] == "egress")
        #expect(line.metadata["port"] == "53")
        #expect(line.metadata["generation"] == "7")
    }
}
