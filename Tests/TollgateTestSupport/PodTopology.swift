/// The routed pod topology of a Kubernetes node, built from network namespaces for end-to-end tests.
///
/// ```
///   pod x-a (netns)                 node (netns)                     pod x-b (netns)
///   eth0 10.244.1.10/32  ── veth ── tgv0        lo 169.254.1.1/32    tgv1 ── veth ── eth0 10.244.1.11/32
///        fd00:244::1:10/128          fe80::1/64 (per veth)                          fd00:244::1:11/128
///   default via 169.254.1.1          proxy_arp=1, /32 and /128 route per pod       default via 169.254.1.1
///   default via fe80::1              ip_forward=1, IPv6 forwarding=1               default via fe80::1
/// ```
///
/// Each pod's `eth0` carries a /32 (and optionally a /128). IPv4 reaches the gateway 169.254.1.1 through proxy
/// ARP on the node side of the veth (the node owns 169.254.1.1 on `lo`, so it can route it and therefore answers).
/// IPv6 uses the link-local gateway `fe80::1`, configured (without duplicate address detection) on the node side of
/// every veth: link-local addresses are per link, so every pod sees the same gateway. Every pod-to-pod packet
/// crosses the node's FORWARD and POSTROUTING hooks.
///
/// Everything is removed by `teardown()`, and by `deinit` as a backstop; a failure half-way through building
/// removes what was already built.
public final class PodTopology: @unchecked Sendable {
    /// A pod of the topology.
    public struct Pod: Sendable {
        /// The pod's name as given to the builder.
        public let name: String
        /// The pod's namespace.
        public let namespace: NetworkNamespace
        /// The pod's IPv4 address (a /32 on `eth0`).
        public let ipv4: String
        /// The pod's IPv6 address (a /128 on `eth0`), if any.
        public let ipv6: String?
        /// The node-side interface of the pod's veth pair.
        public let hostInterface: String
    }

    /// The node's namespace (the host of every pod).
    public let node: NetworkNamespace
    /// The pods, in the order given.
    public private(set) var pods: [Pod] = []

    /// The IPv4 gateway every pod routes through (on the node's `lo`).
    public static let gatewayIPv4 = "169.254.1.1"
    /// The IPv6 link-local gateway every pod routes through (on the node side of each veth).
    public static let gatewayIPv6 = "fe80::1"

    /// Builds the topology: `pods` lists (name, IPv4 address, optional IPv6 address).
    public init(tag: String, pods specs: [(name: String, ipv4: String, ipv6: String?)]) throws(NetworkNamespaceError) {
        var names = Set<String>()
        for spec in specs where !names.insert(spec.name).inserted {
            throw .invalidArgument("pod name \(spec.name) appears twice")
        }
        node = try NetworkNamespace(tag: tag)
        do {
            try node.run(["ip", "addr", "add", "\(Self.gatewayIPv4)/32", "dev", "lo"])
            try node.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
            try node.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"])
            for (index, spec) in specs.enumerated() {
                try addPod(index: index, name: spec.name, ipv4: spec.ipv4, ipv6: spec.ipv6, tag: tag)
            }
        } catch {
            teardown()
            throw error
        }
    }

    deinit {
        teardown()
    }

    /// The pod named `name`, if the topology has one.
    public func pod(_ name: String) -> Pod? {
        pods.first { $0.name == name }
    }

    /// Removes every namespace of the topology (pods first, then the node). Safe to call more than once.
    public func teardown() {
        for pod in pods { pod.namespace.remove() }
        node.remove()
    }

    /// Every namespace name the topology created.
    public var namespaceNames: [String] {
        [node.name] + pods.map(\.namespace.name)
    }

    private func addPod(index: Int, name: String, ipv4: String, ipv6: String?, tag: String)
        throws(NetworkNamespaceError)
    {
        let namespace = try NetworkNamespace(tag: tag)
        let hostInterface = "tgv\(index)"
        pods.append(Pod(name: name, namespace: namespace, ipv4: ipv4, ipv6: ipv6, hostInterface: hostInterface))

        // The veth pair: `tgv<i>` stays in the node, `eth0` moves into the pod.
        try node.run(["ip", "link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", namespace.name])
        try node.run(["sysctl", "-q", "-w", "net.ipv4.conf.\(hostInterface).proxy_arp=1"])
        try node.run(["sysctl", "-q", "-w", "net.ipv6.conf.\(hostInterface).accept_dad=0"])
        try node.run(["ip", "link", "set", hostInterface, "up"])
        try node.run(["ip", "route", "add", "\(ipv4)/32", "dev", hostInterface])

        try namespace.run(["sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_dad=0"])
        try namespace.run(["ip", "addr", "add", "\(ipv4)/32", "dev", "eth0"])
        try namespace.run(["ip", "link", "set", "eth0", "up"])
        try namespace.run(["ip", "route", "add", Self.gatewayIPv4, "dev", "eth0", "scope", "link"])
        try namespace.run(["ip", "route", "add", "default", "via", Self.gatewayIPv4, "dev", "eth0"])

        if let ipv6 {
            try node.run(["ip", "-6", "addr", "add", "\(Self.gatewayIPv6)/64", "dev", hostInterface, "nodad"])
            try node.run(["ip", "-6", "route", "add", "\(ipv6)/128", "dev", hostInterface])
            try namespace.run(["ip", "-6", "addr", "add", "\(ipv6)/128", "dev", "eth0", "nodad"])
            try namespace.run(["ip", "-6", "route", "add", "default", "via", Self.gatewayIPv6, "dev", "eth0"])
        }
    }
}
