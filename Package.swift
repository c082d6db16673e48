// swift-tools-version:6.0
import PackageDescription

// One module per concern; dependencies point one way (see docs/design.md).
let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Thin C system-library targets: the only places C enters.
        .systemLibrary(
            name: "CNetfilterQueue",
            pkgConfig: "libnetfilter_queue",
            providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]
        ),
        .systemLibrary(
            name: "CNetfilterConntrack",
            pkgConfig: "libnetfilter_conntrack",
            providers: [.apt(["libnetfilter-conntrack-dev"])]
        ),
        .target(
            name: "CUserspaceRCU",
            linkerSettings: [.linkedLibrary("urcu-qsbr")]
        ),

        // Addresses, prefixes and flow keys: no Foundation, no C.
        .target(name: "NetworkTypes"),
        // IPv4/IPv6/TCP/UDP/SCTP/ICMP header parsing into a FlowKey: no Foundation, no C.
        .target(name: "PacketHeaders", dependencies: ["NetworkTypes"]),
        // Kubernetes objects, decoding, defaulting, validation with locations.
        .target(name: "PolicyModel", dependencies: ["NetworkTypes", "Yams"]),
        // Compiled immutable snapshots, prefix tries, evaluation, reasons, reference evaluator.
        .target(name: "VerdictEngine", dependencies: ["PolicyModel", "NetworkTypes"]),
        // The only importer of CNetfilterQueue: queue handles, batched receive, batched verdicts.
        .target(name: "NetfilterQueue", dependencies: ["CNetfilterQueue", "NetworkTypes"]),
        // Linux facilities: errno-checked syscalls, signals, sd_notify, /proc readers, a tiny HTTP server.
        .target(name: "LinuxSupport", dependencies: ["NetworkTypes"]),
        // The kernel-side allow cache: ip set elements over netlink, so repeated allowed flows skip the queue.
        .target(name: "KernelAllowCache", dependencies: ["NetworkTypes", "LinuxSupport"]),
        // Worker threads, RCU publication, flow cache, failure-mode verdicts.
        .target(
            name: "Datapath",
            dependencies: [
                "NetfilterQueue", "PacketHeaders", "VerdictEngine", "CUserspaceRCU", "NetworkTypes", "LinuxSupport",
                "KernelAllowCache",
            ]
        ),
        // Cutting established connections that a new snapshot denies (conntrack over ctnetlink).
        .target(name: "ConntrackRevocation", dependencies: ["CNetfilterConntrack", "NetworkTypes", "VerdictEngine"]),
        // Rendering, detecting, applying and removing iptables/nft rules.
        .target(name: "KernelRules", dependencies: ["NetworkTypes", "LinuxSupport"]),
        // Where objects come from: the policy directory, the Kubernetes API (list and watch), and the store that
        // merges them.
        .target(
            name: "PolicyFeeds",
            dependencies: [
                "PolicyModel", "Yams",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The daemon: configuration, services, HTTP endpoint, metrics, signals.
        .target(
            name: "TollgateDaemon",
            dependencies: [
                "Datapath", "KernelRules", "KernelAllowCache", "VerdictEngine", "PolicyModel", "PolicyFeeds",
                "LinuxSupport",
                "ConntrackRevocation", "Yams",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Synthetic clusters and the verdict benchmark (`tollgate bench verdicts`).
        .target(
            name: "TollgateBench",
            dependencies: [
                "VerdictEngine", "PolicyModel", "NetworkTypes", "PolicyFeeds", "LinuxSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/TollgateBench"
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "TollgateDaemon", "TollgateBench", "VerdictEngine", "PolicyModel", "PolicyFeeds", "KernelRules", "Datapath",
                "LinuxSupport", "NetworkTypes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Test support: packet builders, network-namespace harness, temporary directories. Never ships.
        .target(
            name: "TollgateTestSupport", dependencies: ["NetworkTypes", "LinuxSupport", "TollgateDaemon"],
            path: "Tests/TollgateTestSupport"),
        .testTarget(name: "NetworkTypesTests", dependencies: ["NetworkTypes"]),
        .testTarget(name: "LinuxSupportTests", dependencies: ["LinuxSupport"]),
        .testTarget(name: "PacketHeadersTests", dependencies: ["PacketHeaders", "TollgateTestSupport"]),
        .testTarget(name: "PolicyModelTests", dependencies: ["PolicyModel"]),
        .testTarget(
            name: "PolicyFeedsTests",
            dependencies: [
                "PolicyFeeds", "PolicyModel", "NetworkTypes", "TollgateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "VerdictEngineTests", dependencies: ["VerdictEngine", "PolicyModel", "TollgateBench"],
            exclude: ["Fixtures"]),
        .testTarget(name: "KernelRulesTests", dependencies: ["KernelRules", "TollgateTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "DatapathTests", dependencies: ["KernelAllowCache", "Datapath", "NetfilterQueue", "VerdictEngine", "TollgateTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TollgateTestSupport", "LinuxSupport"]),
        .testTarget(name: "CommandLineTests", dependencies: ["LinuxSupport"]),
        .testTarget(
            name: "OperationsTests",
            dependencies: ["TollgateDaemon", "LinuxSupport", "TollgateTestSupport", "PolicyModel", "NetworkTypes"]),
    ]
)
