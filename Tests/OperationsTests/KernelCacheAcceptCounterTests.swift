import Testing

@testable import TollgateDaemon

/// The accept count `/metrics` reports only grows, though the kernel's rule counter starts again whenever the
/// rules are reinstalled.
@Suite("KernelCacheAcceptCounter")
struct KernelCacheAcceptCounterTests {
    @Test func readingsAccumulateAcrossRuleReinstalls() {
        var counter = KernelCacheAcceptCounter()
        let now = ContinuousClock.now
        #expect(counter.readAt == nil && counter.total == 0)
        // (kernel reading, total reported): a reinstall between 7 and 3, another between 10 and 0.
        let readings: [(UInt64, UInt64)] = [(0, 0), (5, 5), (7, 7), (3, 10), (10, 17), (0, 17), (2, 19)]
        var totals: [UInt64] = []
        for (reading, _) in readings { totals.append(counter.record(reading, at: now)) }
        #expect(totals == readings.map(\.1))
        #expect(counter.readAt == now && counter.lastError == nil)
    }
}
