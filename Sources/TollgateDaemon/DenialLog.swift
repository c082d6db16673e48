import Datapath
import Logging
import NetworkTypes
import VerdictEngine

/// Turns the workers' denial events into log lines: one per denied (or audited) connection, with source and
/// destination as `namespace/pod` (or address), port, protocol, direction and the isolating policies —
/// rate-limited by a token bucket, with a count of the lines suppressed.
struct DenialLog {
    /// Lines per second on average, and the burst allowed above it.
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var lastRefill: ContinuousClock.Instant
    private(set) var suppressed: UInt64 = 0
    private var lastSummary: ContinuousClock.Instant

    init(rate: Double, burst: Double? = nil, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = burst ?? max(1, rate * 2)
        tokens = self.burst
        lastRefill = now
        lastSummary = now
    }

    /// Whether a line may be written now; counts it as suppressed if not.
    mutating func admit(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - lastRefill
        tokens = min(burst, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        lastRefill = now
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        suppressed += 1
        return false
    }

    /// The number of lines suppressed since the last summary, when a summary is due (every 10 s while
    /// suppressing), resetting the count.
    mutating func takeSummary(now: ContinuousClock.Instant) -> UInt64? {
        guard suppressed > 0, now - lastSummary >= .seconds(10) else { return nil }
        defer {
            suppressed = 0
            lastSummary = now
        }
        return suppressed
    }

    /// The message and metadata of one denial.
    static func describe(_ event: DenialEvent, snapshot: CompiledSnapshot?) -> (message: Logger.Message, metadata: Logger.Metadata) {
        func name(_ address: IPAddress) -> String {
            if let pod = snapshot?.pod(owning: address) { return "\(pod.namespace)/\(pod.name)" }
            return address.description
        }
        let direction = event.reason.isEgressDenial ? "egress" : "ingress"
        var policies: [String] = []
        if let snapshot {
            let explanation = snapshot.explain(event.flow)
            let report = event.reason.isEgressDenial ? explanation.egress : explanation.ingress
            policies = report?.isolatingPolicies.map { "\($0.namespace)/\($0.name)" } ?? []
        }
        var metadata: Logger.Metadata = [
            "source": "\(name(event.flow.source))", "source-ip": "\(event.flow.source)",
            "destination": "\(name(event.flow.destination))", "destination-ip": "\(event.flow.destination)",
            "protocol": "\(event.flow.transport)", "direction": "\(direction)",
            "isolated-by": "\(policies.joined(separator: ","))",
            "mode": "\(event.audited ? "audit" : "enforce")", "generation": "\(event.generation)",
        ]
        if event.flow.transport.hasPorts { metadata["port"] = "\(event.flow.destinationPort)" }
        let verb = event.audited ? "audited (allowed) denial of" : "denied"
        let port = event.flow.transport.hasPorts ? ":\(event.flow.destinationPort)" : ""
        return (
            "\(verb) \(event.flow.transport) \(name(event.flow.source)) -> \(name(event.flow.destination))\(port) by \(direction) policy",
            metadata
        )
    }
}
