import Foundation
import Testing

/// The unit file `systemd/tollgate.service`: parsed settings always, `systemd-analyze verify` when the tool exists.
@Suite("systemd unit")
struct SystemdUnitTests {
    static let unitPath = OperationsFixtures.repository + "/systemd/tollgate.service"

    /// `[Section] Key=Value` lines: section → key → values in order (keys may repeat).
    static func parse(_ text: String) -> [String: [String: [String]]] {
        var result: [String: [String: [String]]] = [:]
        var section = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            result[section, default: [:]][key, default: []].append(String(line[line.index(after: equals)...]))
        }
        return result
    }

    @Test func keySettings() throws {
        let unit = Self.parse(try OperationsFixtures.read(Self.unitPath))
        let service = try #require(unit["Service"])
        let expected: [String: [String]] = [
            "Type": ["notify"],
            "NotifyAccess": ["main"],
            "ExecStart": ["/usr/local/bin/tollgate run --config /etc/tollgate/config.yaml"],
            "ExecReload": ["/bin/kill -HUP $MAINPID"],
            "Restart": ["on-failure"],
            "RestartPreventExitStatus": ["2"],
            "WatchdogSec": ["10"],
            "CapabilityBoundingSet": ["CAP_NET_ADMIN CAP_NET_RAW"],
            "AmbientCapabilities": ["CAP_NET_ADMIN CAP_NET_RAW"],
            "NoNewPrivileges": ["yes"],
            "ProtectSystem": ["strict"],
            "ProtectHome": ["yes"],
            "PrivateTmp": ["yes"],
            "PrivateDevices": ["yes"],
            "ProtectKernelTunables": ["yes"],
            "ProtectKernelModules": ["yes"],
            "ProtectControlGroups": ["yes"],
            "RestrictAddressFamilies": ["AF_NETLINK AF_UNIX AF_INET AF_INET6"],
            "RestrictNamespaces": ["yes"],
            "MemoryDenyWriteExecute": ["yes"],
            "ReadWritePaths": ["/run"],
        ]
        for (key, values) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(service[key] == values, "\(key)")
        }
        #expect(unit["Install"]?["WantedBy"] == ["multi-user.target"])
        // Capabilities exactly NET_ADMIN and NET_RAW, as sets, in both settings.
        for key in ["CapabilityBoundingSet", "AmbientCapabilities"] {
            let capabilities = Set((service[key] ?? []).flatMap { $0.split(separator: " ").map(String.init) })
            #expect(capabilities == ["CAP_NET_ADMIN", "CAP_NET_RAW"], "\(key)")
        }
    }

    @Test func systemdAnalyzeVerifyAcceptsTheUnit() throws {
        guard OperationsFixtures.hasProgram("systemd-analyze") else {
            print("skipped: systemd-analyze is not installed (apt-get install systemd); key settings are still checked")
            return
        }
        let binary = try OperationsFixtures.binary()
        try OperationsFixtures.withTemporaryDirectory { directory in
            // ExecStart must name an existing executable for verify to pass: point it at the built binary.
            let text = try OperationsFixtures.read(Self.unitPath).replacingOccurrences(of: "/usr/local/bin/tollgate", with: binary)
            let path = directory + "/tollgate.service"
            try OperationsFixtures.write(text, to: path)
            let result = try OperationsFixtures.run(["systemd-analyze", "verify", path])
            #expect(result.exitStatus == 0 && result.standardError == "", "\(result)")
            // And verify does fail when ExecStart names a missing binary: the check above can fail.
            let broken = directory + "/broken.service"
            try OperationsFixtures.write(text.replacingOccurrences(of: binary, with: directory + "/absent"), to: broken)
            let missing = try OperationsFixtures.run(["systemd-analyze", "verify", broken])
            #expect(missing.exitStatus != 0 && missing.standardError.contains("is not executable"), "\(missing)")
        }
    }
}
