import Testing
import TollgateTestSupport

/// End-to-end tests of `tollgate run`: the real binary in the node namespace of a routed pod topology, real TCP,
/// UDP and crafted SCTP traffic between pods, policy files written while it runs, signals and kills.
///
/// Serialized: the machine has two cores and every test is timing-sensitive. Each test still owns distinct
/// namespace names, queue numbers and metrics ports. Needs root and iproute2 (skipped otherwise).
/// Binary: `TOLLGATE_BINARY`, else `.build/debug/tollgate`, else `.build/release/tollgate`.
/// The bodies wait synchronously (child processes, sockets, the daemon): they run on threads of their own
/// (`.offCooperativePool`), not on Swift's cooperative pool, which the asynchronous suites need meanwhile.
@Suite(
    "EndToEnd", .serialized, .offCooperativePool,
    .enabled(if: namespacesAvailable.available, "\(namespacesAvailable.reason)"))
struct EndToEndTests {}
