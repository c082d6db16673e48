import VerdictEngine

/// The counts of `CompileStatistics`, without the timings, for whole-value comparison.
struct CompileCounts: Equatable, CustomStringConvertible {
    var namespaces: Int
    var pods: Int
    var endpoints: Int
    var identities: Int
    var networkPolicies: Int
    var rules: Int
    var ipBlocks: Int
    var addressClasses: Int

    init(
        namespaces: Int, pods: Int, endpoints: Int, identities: Int, networkPolicies: Int, rules: Int, ipBlocks: Int,
        addressClasses: Int
    ) {
        self.namespaces = namespaces
        self.pods = pods
        self.endpoints = endpoints
        self.identities = identities
        self.networkPolicies = networkPolicies
        self.rules = rules
        self.ipBlocks = ipBlocks
        self.addressClasses = addressClasses
    }

    init(_ statistics: CompileStatistics) {
        self.init(
            namespaces: statistics.namespaces, pods: statistics.pods, endpoints: statistics.endpoints,
            identities: statistics.identities, networkPolicies: statistics.networkPolicies, rules: statistics.rules,
            ipBlocks: statistics.ipBlocks, addressClasses: statistics.addressClasses)
    }

    var description: String {
        "namespaces \(namespaces) pods \(pods) endpoints \(endpoints) identities \(identities) policies \(networkPolicies) rules \(rules) ipBlocks \(ipBlocks) classes \(addressClasses)"
    }
}
