// libFuzzer entry point for the manifest loader: any byte string, read as text (invalid UTF-8 repaired), must load
// to objects and/or errors without trapping, hanging or touching freed memory (AddressSanitizer watches). When
// objects load, they are compiled and a few connections are decided by the compiled engine and by the reference
// evaluator, which must agree; `explain` must agree with `evaluate`.
// Built and run by fuzz/run-manifest-loader.sh.
import NetworkTypes
import PolicyModel
import VerdictEngine

/// The file name the loader is given; every error must name it.
private let fuzzFileName = "fuzz.yaml"

/// Addresses outside every pod that the fuzzer also asks about, one per family and the extremes.
private let outsideAddresses: [IPAddress] = [
    .v4(IPv4Address(192, 0, 2, 1)), .v4(IPv4Address(rawValue: 0)), .v4(IPv4Address(rawValue: .max)),
    .v6(IPv6Address(rawValue: 0x2001_0db8 << 96 | 1)), .v6(IPv6Address(rawValue: 0)), .v6(IPv6Address(rawValue: .max)),
]

/// The libFuzzer entry point (`LLVMFuzzerTestOneInput`): one input per call, never retained.
@_cdecl("LLVMFuzzerTestOneInput")
public func manifestLoaderFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let result = ManifestLoader.load(text: text, file: fuzzFileName)
    for error in result.errors {
        precondition(error.file == fuzzFileName, "an error names the wrong file: \(error)")
        precondition(!error.message.isEmpty, "an error without a message: \(error)")
        if let line = error.line { precondition(line >= 0, "a negative line: \(error)") }
    }
    // Keys are unique within a file: the loader keeps the first definition.
    precondition(Set(result.objects.map(\.key)).count == result.objects.count, "duplicate object keys survived")
    guard !result.objects.isEmpty else { return 0 }

    let state = ClusterState(objects: result.objects)
    let snapshot = PolicyCompiler.compile(state, generation: 7)
    precondition(snapshot.generation == 7, "generation not passed through")
    precondition(snapshot.statistics.endpoints <= snapshot.statistics.pods, "more endpoints than pods")
    precondition(snapshot.statistics.identities <= snapshot.statistics.endpoints, "more identities than endpoints")
    let reference = ReferenceEvaluator(state: state)

    // A bounded set of addresses: the first pods' addresses plus the outside ones.
    var addresses: [IPAddress] = []
    for pod in state.pods.prefix(4) { addresses += pod.ips.prefix(2) }
    addresses += outsideAddresses
    var ports: [UInt16] = [1, 53, 80, 65535]
    for pod in state.pods.prefix(3) { ports += pod.containerPorts.prefix(2).map(\.port) }
    for policy in state.networkPolicies.prefix(3) {
        for rule in (policy.ingress + policy.egress).prefix(2) {
            for port in rule.ports.prefix(2) {
                if case .number(let number) = port.port { ports.append(number) }
                if let end = port.endPort { ports.append(end) }
            }
        }
    }
    for source in addresses {
        for destination in addresses where destination.family == source.family {
            let icmp: IPProtocol = source.family == .ipv4 ? .icmp : .icmpv6
            var flows = [FlowKey(source: source, destination: destination, transport: icmp, icmpType: 8)]
            for transport in [IPProtocol.tcp, .udp, .sctp] {
                for port in ports.prefix(5) {
                    flows.append(
                        FlowKey(
                            source: source, destination: destination, transport: transport, sourcePort: 40000,
                            destinationPort: port))
                }
            }
            for (index, flow) in flows.enumerated() {
                let verdict = snapshot.evaluate(flow)
                let expected = reference.isAllowed(flow)
                precondition(
                    verdict.isAllowed == expected,
                    "compiled \(verdict.reason) but the reference says \(expected ? "allow" : "deny") for \(flow)")
                // `explain` allocates; ask it about the ICMP and the first TCP flow of each pair only.
                if index < 2 {
                    precondition(snapshot.explain(flow).verdict == verdict, "explain disagrees with evaluate for \(flow)")
                }
            }
        }
    }
    return 0
}
