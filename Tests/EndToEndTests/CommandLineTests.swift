import Foundation
import Shared
import Testing

/// Issue 23 through the built programs: `--version`, the global options before the subcommand, and
/// `casebook-server doctor` reading a service's settings file.
@Suite(.serialized) struct CommandLineTests {
    @Test func bothProgramsPrintTheirVersionAndTheProtocol() throws {
        for program in ["casebook", "casebook-server"] {
            let result = try Programs.run(program, ["--version"])
            #expect(result.code == 0)
            #expect(result.stdout == "\(program) \(CasebookVersion.number) (protocol \(Wire.version))\n")
        }
    }

    @Test func homeBeforeTheSubcommandWorksAsAfterIt() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let home = team["ana"].home.path
        let after = try Programs.run("casebook", ["status", "--json", "--home", home])
        let before = try Programs.run("casebook", ["--home", home, "status", "--json"])
        let equals = try Programs.run("casebook", ["--home=\(home)", "status", "--json"])
        #expect(after.code == 0, "\(after.stderr)")
        #expect(before.code == 0, "\(before.stderr)")
        #expect(equals.code == 0, "\(equals.stderr)")
        #expect(before.stdout == after.stdout)
        #expect(equals.stdout == after.stdout)
        // Nothing after the global option: the usage, as for `casebook` alone.
        let alone = try Programs.run("casebook", ["--home", home])
        #expect(alone.code == 0)
        #expect(alone.stdout == (try Programs.run("casebook", [])).stdout)
        #expect(alone.stdout.contains("USAGE: casebook <subcommand>"))
    }

    @Test func doctorChecksTheSettingsOfAnEnvironmentFileAndExits1OnAFailure() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-doctor-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let settings = folder.appendingPathComponent("server.env")
        try Data("# as the package writes it\nCASEBOOK_DATA=\(data.path)\nCASEBOOK_HOST=127.0.0.1\n".utf8).write(to: settings)

        let missing = try Programs.run("casebook-server", ["doctor", "--env-file", settings.path])
        #expect(missing.code == 1)
        #expect(missing.stdout.contains("FAILED  data folder: \(data.path) does not exist"), "\(missing.stdout)")

        let created = try Programs.run("casebook-server", ["project", "create", "kz", "--data", data.path])
        #expect(created.code == 0, "\(created.stderr)")
        let healthy = try Programs.run("casebook-server", ["doctor", "--env-file", settings.path, "--json"])
        #expect(healthy.code == 0, "\(healthy.stdout)\(healthy.stderr)")
        let report = try healthy.object()
        #expect(report["ok"] as? Bool == true)
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["check"] as? String == "store" && ($0["message"] as? String ?? "").contains("1 project(s)") })
        #expect(findings.first?["message"] as? String == "read 2 setting(s) from \(settings.path)")
    }
}
