import Foundation
import Testing
import TollgateDaemon
import TollgateTestSupport

/// `scripts/package-deb` from a prebuilt binary: contents, control fields, and install/remove/purge into a fake root.
@Suite("Debian package", .serialized, .offCooperativePool)
struct DebianPackageTests {
    static let script = OperationsFixtures.repository + "/scripts/package-deb"

    /// `permissions owner path` of every entry, in archive order.
    static let expectedContents = [
        "drwxr-xr-x root/root ./",
        "drwxr-xr-x root/root ./etc/",
        "drwxr-xr-x root/root ./etc/tollgate/",
        "-rw-r--r-- root/root ./etc/tollgate/config.yaml",
        "drwxr-xr-x root/root ./etc/tollgate/policies.d/",
        "drwxr-xr-x root/root ./lib/",
        "drwxr-xr-x root/root ./lib/systemd/",
        "drwxr-xr-x root/root ./lib/systemd/system/",
        "-rw-r--r-- root/root ./lib/systemd/system/tollgate.service",
        "drwxr-xr-x root/root ./usr/",
        "drwxr-xr-x root/root ./usr/bin/",
        "-rwxr-xr-x root/root ./usr/bin/tollgate",
        "drwxr-xr-x root/root ./usr/share/",
        "drwxr-xr-x root/root ./usr/share/doc/",
        "drwxr-xr-x root/root ./usr/share/doc/tollgate/",
        "-rw-r--r-- root/root ./usr/share/doc/tollgate/README.md",
    ]

    /// Builds the package into `directory` and returns its path.
    static func build(into directory: String) throws -> String {
        let result = try OperationsFixtures.run(
            [script, "--binary", try OperationsFixtures.binary(), "--output", directory, "--allow-dynamic-swift-runtime"],
            timeout: .seconds(300))
        guard result.exitStatus == 0, let path = result.standardOutput.split(separator: "\n").last.map(String.init) else {
            throw OperationsFixtures.Failure(description: "package-deb failed: \(result)")
        }
        return path
    }

    static func canRun() -> Bool {
        guard OperationsFixtures.hasProgram("dpkg-deb") && OperationsFixtures.hasProgram("dpkg") else {
            print("skipped: dpkg-deb is not installed")
            return false
        }
        return true
    }

    @Test func packageContentsAndControlFields() throws {
        guard Self.canRun() else { return }
        try OperationsFixtures.withTemporaryDirectory { directory in
            let deb = try Self.build(into: directory)
            let version = try OperationsFixtures.run([try OperationsFixtures.binary(), "--version"]).standardOutput
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let arch = try OperationsFixtures.run(["dpkg", "--print-architecture"]).standardOutput
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(deb == "\(directory)/tollgate_\(version)_\(arch).deb")

            let listing = try OperationsFixtures.run(["dpkg-deb", "-c", deb])
            #expect(listing.exitStatus == 0)
            let rows = listing.standardOutput.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            #expect(rows.map { "\($0[0]) \($0[1]) \($0.last ?? "")" } == Self.expectedContents)
            let bytes = rows.compactMap { $0.count > 2 ? Int($0[2]) : nil }.reduce(0, +)

            let info = try OperationsFixtures.run(["dpkg-deb", "-f", deb])
            var fields: [String: String] = [:]
            for line in info.standardOutput.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let depends = Set((fields["Depends"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            fields["Depends"] = nil
            #expect(
                fields == [
                    "Package": "tollgate", "Version": version, "Architecture": arch,
                    "Maintainer": "Tollgate maintainers <tollgate@localhost>", "Installed-Size": "\((bytes + 1023) / 1024)",
                    "Section": "net", "Priority": "optional", "Recommends": "ipset",
                    "Description": "Kubernetes NetworkPolicy enforcement for Linux hosts (NFQUEUE)",
                ])
            // What every build needs, and what some builds add (static stdlib: the C++ runtime; conntrack support).
            // zlib1g: the HTTP client of the Kubernetes API feed (async-http-client, through swift-nio-extras).
            let required: Set<String> = [
                "iptables", "libc6", "libmnl0", "libnetfilter-queue1", "libnfnetlink0", "liburcu8", "zlib1g",
            ]
            let optional: Set<String> = ["libgcc-s1", "libstdc++6", "libnetfilter-conntrack3"]
            #expect(required.isSubset(of: depends) && depends.isSubset(of: required.union(optional)), "\(depends)")
            let control = try OperationsFixtures.run(["dpkg-deb", "-I", deb, "conffiles"])
            #expect(control.standardOutput == "/etc/tollgate/config.yaml\n")

            // Unpacked: the configuration is the binary's default, the unit points at /usr/bin.
            let unpacked = directory + "/unpacked"
            #expect(try OperationsFixtures.run(["dpkg-deb", "-x", deb, unpacked]).exitStatus == 0)
            #expect(try OperationsFixtures.read(unpacked + "/etc/tollgate/config.yaml") == ConfigurationFile.defaultText)
            let unit = try OperationsFixtures.read(unpacked + "/lib/systemd/system/tollgate.service")
            let repositoryUnit = try OperationsFixtures.read(OperationsFixtures.repository + "/systemd/tollgate.service")
            #expect(
                unit == repositoryUnit.replacingOccurrences(of: "/usr/local/bin/tollgate", with: "/usr/bin/tollgate")
                    .replacingOccurrences(of: "/usr/local/share/doc/", with: "/usr/share/doc/"))
            let help = try OperationsFixtures.run([unpacked + "/usr/bin/tollgate", "config", "--print-defaults"])
            #expect(help.exitStatus == 0 && help.standardOutput == ConfigurationFile.defaultText)
        }
    }

    /// dpkg installs, removes and purges into a fake root (`--root` with chroot-less maintainer scripts, which see
    /// `DPKG_ROOT` and leave the host's systemd and kernel rules alone): remove keeps the conffile and the policies,
    /// purge removes the conffile and keeps the policies.
    @Test func installRemovePurgeInAFakeRoot() throws {
        guard Self.canRun() else { return }
        try OperationsFixtures.withTemporaryDirectory { directory in
            let deb = try Self.build(into: directory)
            let root = directory + "/root"
            for sub in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
            }
            try OperationsFixtures.write("", to: root + "/var/lib/dpkg/status")
            func dpkg(_ arguments: [String]) throws -> String {
                let result = try OperationsFixtures.run(
                    ["dpkg", "--root=\(root)", "--force-script-chrootless", "--force-depends", "--log=/dev/null"] + arguments)
                guard result.exitStatus == 0 else { throw OperationsFixtures.Failure(description: "dpkg \(arguments): \(result)") }
                return result.standardOutput
            }
            // The tree outside dpkg's database (var/lib/dpkg).
            func files() throws -> [String] { try OperationsFixtures.tree(root).filter { !$0.hasPrefix("var/") } }

            let installed = try dpkg(["-i", deb])
            #expect(installed.contains("tollgate: then: systemctl enable --now tollgate"))
            let afterInstall = try files()
            #expect(
                afterInstall == [
                    "etc/", "etc/tollgate/", "etc/tollgate/config.yaml", "etc/tollgate/policies.d/", "lib/", "lib/systemd/",
                    "lib/systemd/system/", "lib/systemd/system/tollgate.service", "usr/", "usr/bin/", "usr/bin/tollgate",
                    "usr/share/", "usr/share/doc/", "usr/share/doc/tollgate/", "usr/share/doc/tollgate/README.md",
                ])
            try OperationsFixtures.write("# a policy\n", to: root + "/etc/tollgate/policies.d/policy.yaml")
            _ = try dpkg(["-r", "tollgate"])
            let afterRemove = try files()
            #expect(
                afterRemove == ["etc/", "etc/tollgate/", "etc/tollgate/config.yaml", "etc/tollgate/policies.d/",
                    "etc/tollgate/policies.d/policy.yaml"])
            let purged = try dpkg(["-P", "tollgate"])
            #expect(purged.contains("tollgate: kept /etc/tollgate/policies.d/ and the policies in it"))
            let afterPurge = try files()
            #expect(afterPurge == ["etc/", "etc/tollgate/", "etc/tollgate/policies.d/", "etc/tollgate/policies.d/policy.yaml"])
        }
    }
}
