/// The expected (or observed) connectivity between every ordered pair of model pods, as upstream's
/// `Reachability` (`test/e2e/network/netpol/reachability.go`): everything starts allowed, and the case then states
/// what its policies change with `expectPeer`, `expectAllIngress`, `expectAllEgress` and `expect`, applied in order.
///
/// Pairs of a pod with itself are never compared: upstream ignores loopback (kubernetes/kubernetes#95879), and
/// traffic from a pod to itself never crosses the node's hooks, so Tollgate never decides it.
struct Reachability: Hashable, Sendable {
    /// A pattern of pods; nil fields match everything (upstream's `Peer`).
    struct Peer: Sendable {
        var namespace: String?
        var pod: String?

        init(namespace: String? = nil, pod: String? = nil) {
            self.namespace = namespace
            self.pod = pod
        }

        static let any = Peer()

        func matches(_ id: UpstreamModel.PodID) -> Bool {
            (namespace.map { $0 == id.namespace } ?? true) && (pod.map { $0 == id.name } ?? true)
        }
    }

    /// `allowed[from][to]`, indexed as `UpstreamModel.pods`.
    private(set) var allowed: [[Bool]]

    init(defaultAllowed: Bool = true) {
        let count = UpstreamModel.pods.count
        allowed = Array(repeating: Array(repeating: defaultAllowed, count: count), count: count)
    }

    /// Sets every pair whose source matches `from` and whose destination matches `to`.
    func expectPeer(_ from: Peer, _ to: Peer, _ value: Bool) -> Reachability {
        var copy = self
        for (i, source) in UpstreamModel.pods.enumerated() where from.matches(source) {
            for (j, destination) in UpstreamModel.pods.enumerated() where to.matches(destination) {
                copy.allowed[i][j] = value
            }
        }
        return copy
    }

    /// Sets one pair; pods are written `ns/name`.
    func expect(_ from: String, _ to: String, _ value: Bool) -> Reachability {
        expectPeer(Self.peer(from), Self.peer(to), value)
    }

    /// Sets every connection into `pod`.
    func expectAllIngress(_ pod: String, _ value: Bool) -> Reachability { expectPeer(.any, Self.peer(pod), value) }

    /// Sets every connection out of `pod`.
    func expectAllEgress(_ pod: String, _ value: Bool) -> Reachability { expectPeer(Self.peer(pod), .any, value) }

    /// `x/a` → the peer for exactly that pod; `x` → the whole namespace.
    static func peer(_ text: String) -> Peer {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        return Peer(namespace: parts.first, pod: parts.count > 1 ? parts[1] : nil)
    }

    /// Sets one observed pair.
    mutating func set(from: Int, to: Int, _ value: Bool) { allowed[from][to] = value }

    /// The truth table as upstream prints it (`.` allowed, `X` denied, `-` the ignored self pairs), one line per
    /// source pod; comparing these strings compares every pair at once and shows the whole table on failure.
    var table: String {
        let pods = UpstreamModel.pods
        var lines = ["-\t" + pods.map(\.description).joined(separator: "\t")]
        for (i, source) in pods.enumerated() {
            let cells = pods.indices.map { j in i == j ? "-" : (allowed[i][j] ? "." : "X") }
            lines.append("\(source)\t" + cells.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }

    /// The same table with the self pairs forced to allowed, so that two matrices compare equal whatever their
    /// diagonals say.
    var withoutSelfPairs: Reachability {
        var copy = self
        for i in allowed.indices { copy.allowed[i][i] = true }
        return copy
    }
}
