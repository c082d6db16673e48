internal import Glibc

/// Nanoseconds on the kernel's monotonic clock, for latency measurement and timeouts.
///
/// The corresponding C call is `clock_gettime(CLOCK_MONOTONIC)`, served by the vDSO without
/// entering the kernel; it allocates nothing and is safe to call per packet.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot); never goes backwards.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        // CLOCK_MONOTONIC is always supported on Linux; the call cannot fail with a valid pointer.
        _ = clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: now.tv_nsec)
    }

    /// Microseconds on the same clock, as systemd's `MONOTONIC_USEC=` expects.
    public static func microseconds() -> UInt64 {
        nanoseconds() / 1_000
    }
}
