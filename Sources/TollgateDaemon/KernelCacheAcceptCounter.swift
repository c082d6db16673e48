/// Turns readings of the kernel allow cache's rule counter into a count that only grows: the kernel's counter starts
/// again from zero whenever the rules are reinstalled (a node address changed, a restart), so a reading below the
/// previous one means a new rule, and the previous rule's last reading is kept as a base.
///
/// Connections the old rule accepted between its last reading and its replacement are not counted.
struct KernelCacheAcceptCounter: Sendable {
    /// The count so far.
    private(set) var total: UInt64 = 0
    /// What earlier rules had counted when last read.
    private var base: UInt64 = 0
    /// The last reading of the current rule.
    private var last: UInt64 = 0
    /// When the last reading was taken.
    private(set) var readAt: ContinuousClock.Instant? = nil
    /// Why the last attempt to read the counter failed; nil after a good reading.
    var lastError: String? = nil

    /// Records a reading of the kernel's counter taken at `instant`; returns the total.
    @discardableResult
    mutating func record(_ reading: UInt64, at instant: ContinuousClock.Instant) -> UInt64 {
        if reading < last { base += last }
        last = reading
        total = base + reading
        readAt = instant
        lastError = nil
        return total
    }
}
