/// What the kernel does with a queued packet (`NF_ACCEPT`, `NF_DROP`, `NF_REPEAT` in `<linux/netfilter.h>`).
public enum Verdict: UInt32, Hashable, Sendable {
    /// Continue with the next rule or hook: the connection may proceed (`NF_ACCEPT`).
    case accept = 1
    /// Discard the packet (`NF_DROP`).
    case drop = 0
    /// Run the packet through the current hook again, so it is queued anew (`NF_REPEAT`).
    case `repeat` = 4
}
