import Foundation
import Testing
import TollgateDaemon
import TollgateTestSupport

/// `scripts/install` and `scripts/uninstall` into a temporary root, with a prebuilt binary.
@Suite("install and uninstall scripts", .offCooperativePool)
struct InstallScriptTests {
    static let install = OperationsFixtures.repository + "/scripts/install"
    static let uninstall = OperationsFixtures.repository + "/scripts/uninstall"

    @Test func installsIntoARootAndUninstallKeepsThePolicies() throws {
        let binary = try OperationsFixtures.binary()
        try OperationsFixtures.withTemporaryDirectory { root in
            let first = try OperationsFixtures.run([Self.install, "--root", root, "--binary", binary])
            #expect(first.exitStatus == 0, "\(first)")
            #expect(
                try OperationsFixtures.tree(root) == [
                    "etc/", "etc/systemd/", "etc/systemd/system/", "etc/systemd/system/tollgate.service", "etc/tollgate/",
                    "etc/tollgate/config.yaml", "etc/tollgate/policies.d/", "usr/", "usr/local/", "usr/local/bin/",
                    "usr/local/bin/tollgate", "usr/local/share/", "usr/local/share/doc/", "usr/local/share/doc/tollgate/",
                    "usr/local/share/doc/tollgate/README.md",
                ])
            #expect(try OperationsFixtures.read(root + "/etc/tollgate/config.yaml") == ConfigurationFile.defaultText)
            #expect(
                try OperationsFixtures.read(root + "/etc/systemd/system/tollgate.service")
                    == OperationsFixtures.read(OperationsFixtures.repository + "/systemd/tollgate.service"))
            #expect(FileManager.default.contentsEqual(atPath: root + "/usr/local/bin/tollgate", andPath: binary))
            #expect(try FileManager.default.attributesOfItem(atPath: root + "/usr/local/bin/tollgate")[.posixPermissions] as? Int == 0o755)

            // A second install keeps an edited configuration.
            let edited = "policyDir: /srv/policies\npodCIDRs: [10.50.0.0/16]\n"
            try OperationsFixtures.write(edited, to: root + "/etc/tollgate/config.yaml")
            try OperationsFixtures.write("# a policy\n", to: root + "/etc/tollgate/policies.d/policy.yaml")
            let second = try OperationsFixtures.run([Self.install, "--root", root, "--binary", binary])
            #expect(second.exitStatus == 0, "\(second)")
            #expect(second.standardOutput.contains("kept the existing \(root)/etc/tollgate/config.yaml"))
            #expect(try OperationsFixtures.read(root + "/etc/tollgate/config.yaml") == edited)

            let removal = try OperationsFixtures.run([Self.uninstall, "--root", root])
            #expect(removal.exitStatus == 0, "\(removal)")
            #expect(
                removal.standardOutput == """
                    removed \(root)/usr/local/bin/tollgate
                    removed \(root)/etc/systemd/system/tollgate.service
                    removed \(root)/usr/local/share/doc/tollgate/README.md
                    removed \(root)/etc/tollgate/config.yaml
                    kept \(root)/etc/tollgate/policies.d/ and the policies in it; remove it by hand if you no longer need them

                    """)
            #expect(
                try OperationsFixtures.tree(root) == [
                    "etc/", "etc/systemd/", "etc/systemd/system/", "etc/tollgate/", "etc/tollgate/policies.d/",
                    "etc/tollgate/policies.d/policy.yaml", "usr/", "usr/local/", "usr/local/bin/", "usr/local/share/",
                    "usr/local/share/doc/",
                ])
            #expect(try OperationsFixtures.read(root + "/etc/tollgate/policies.d/policy.yaml") == "# a policy\n")
        }
    }

    @Test func unitCanGoToLibSystemd() throws {
        let binary = try OperationsFixtures.binary()
        try OperationsFixtures.withTemporaryDirectory { root in
            let result = try OperationsFixtures.run([Self.install, "--root", root, "--binary", binary, "--unit-dir", "/lib/systemd/system"])
            #expect(result.exitStatus == 0, "\(result)")
            #expect(FileManager.default.fileExists(atPath: root + "/lib/systemd/system/tollgate.service"))
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/systemd/system/tollgate.service"))
            let removal = try OperationsFixtures.run([Self.uninstall, "--root", root])
            #expect(removal.exitStatus == 0 && !FileManager.default.fileExists(atPath: root + "/lib/systemd/system/tollgate.service"))
        }
    }

    @Test func badArgumentsAreRejected() throws {
        let unknown = try OperationsFixtures.run([Self.install, "--frobnicate"])
        #expect(unknown.exitStatus == 2 && unknown.standardError.hasPrefix("install: unknown argument: --frobnicate\n"))
        let missingRoot = try OperationsFixtures.run([Self.uninstall, "--root", "/nonexistent/tg-ops-root"])
        #expect(missingRoot.exitStatus == 2)
        #expect(missingRoot.standardError == "uninstall: root /nonexistent/tg-ops-root is not a directory\n")
    }
}
