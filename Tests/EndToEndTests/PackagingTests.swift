import Foundation
import Shared
import Testing

/// Issue 23: the Debian packages, built from the binaries this test run built (`scripts/dist.sh --bin`;
/// `make dist` builds release binaries first), installed into a throwaway root and checked there: the
/// tree, the unit (`systemd-analyze verify` where available), the installed programs' `--version`
/// and `--help`, and a man page for every command that renders without a warning. The packages'
/// contents are printed in the test output.
@Suite(.serialized) struct PackagingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    /// What packaging and the checks need: dpkg-dev (or dpkg), python3, binutils, man-db.
    static var canPackage: Bool {
        ["dpkg-deb", "python3", "readelf", "strip", "man"].allSatisfy { tool in
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
            }
        }
    }

    @Test(.enabled(if: canPackage, "needs dpkg-dev, python3, binutils and man-db (apt-get install dpkg-dev python3 binutils man-db)"))
    func thePackagesInstallRunAndDocumentEveryCommand() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-packaging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let built = try Shell.run(Self.repository.appendingPathComponent("scripts/dist.sh").path,
                                  ["--bin", Programs.products.path, "--out", work.appendingPathComponent("dist").path, "--fast"])
        try #require(built.code == 0, "scripts/dist.sh failed:\n\(built.stdout)\(built.stderr)")
        for program in ["casebook", "casebook-server"] {
            let package = work.appendingPathComponent("dist/\(program)_\(CasebookVersion.number)_amd64.deb").path
            let root = work.appendingPathComponent("root-\(program)")
            let contents = try Shell.run("/usr/bin/dpkg-deb", ["--info", package]).stdout + (try Shell.run("/usr/bin/dpkg-deb", ["--contents", package]).stdout)
            print("\(program) package:\n\(contents)")
            #expect(try Shell.run("/usr/bin/dpkg-deb", ["-x", package, root.path]).code == 0)
            try checkDepends(package: package, binary: root.appendingPathComponent("usr/bin/\(program)").path)
            try checkProgram(program, in: root)
            try checkManPages(program, in: root)
            try checkCompletions(program, in: root)
        }
        try checkServerFiles(in: work.appendingPathComponent("root-casebook-server"))
        try checkUnit(in: work.appendingPathComponent("root-casebook-server"))
        try checkDpkgInstall(work: work)
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("dist/casebook-\(CasebookVersion.number)-linux-x86_64.tar.gz").path))
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("dist/SHA256SUMS").path))
    }

    /// The installed program runs and reports this build's version.
    func checkProgram(_ program: String, in root: URL) throws {
        let binary = root.appendingPathComponent("usr/bin/\(program)").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let version = try Shell.run(binary, ["--version"])
        #expect(version.code == 0)
        #expect(version.stdout == CasebookVersion.line(program: program) + "\n")
        let help = try Shell.run(binary, ["--help"])
        #expect(help.code == 0)
        #expect(help.stdout.contains("USAGE: \(program) <subcommand>"))
    }

    /// A page for the program and each command (as the program itself lists them), each rendered by man without a warning.
    func checkManPages(_ program: String, in root: URL) throws {
        let folder = root.appendingPathComponent("usr/share/man/man1")
        let dump = try Shell.run(root.appendingPathComponent("usr/bin/\(program)").path, ["--experimental-dump-help"])
        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let expected = Self.pageNames(try #require(tree["command"] as? [String: Any]), path: [program])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == Set(expected.map { $0 + ".1.gz" }))
        #expect(expected.count >= (program == "casebook" ? 15 : 9))
        for page in expected {
            let rendered = try Shell.run("/usr/bin/man", ["--warnings", "-l", folder.appendingPathComponent(page + ".1.gz").path],
                                         environment: ["MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"])
            #expect(rendered.code == 0, "man -l \(page): \(rendered.stderr)")
            #expect(rendered.stderr.isEmpty, "man -l \(page) warned: \(rendered.stderr)")
            #expect(rendered.stdout.contains("NAME"), "\(page) rendered without a NAME section")
        }
    }

    /// The page names of a command tree: program, program-command, program-command-subcommand.
    static func pageNames(_ command: [String: Any], path: [String]) -> [String] {
        let children = (command["subcommands"] as? [[String: Any]] ?? []).filter {
            ($0["shouldDisplay"] as? Bool ?? true) && $0["commandName"] as? String != "help"
        }
        return [path.joined(separator: "-")] + children.flatMap { pageNames($0, path: path + [$0["commandName"] as? String ?? "?"]) }
    }

    func checkCompletions(_ program: String, in root: URL) throws {
        let bash = root.appendingPathComponent("usr/share/bash-completion/completions/\(program)").path
        #expect(try Shell.run("/bin/bash", ["-n", bash]).code == 0)
        for file in ["usr/share/zsh/vendor-completions/_\(program)", "usr/share/fish/vendor_completions.d/\(program).fish"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains(program), "\(file) does not complete \(program)")
        }
    }
}
