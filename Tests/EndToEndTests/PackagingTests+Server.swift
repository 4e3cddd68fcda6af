import Foundation
import Shared
import Testing

// The server package's own files, its unit, dependencies, and dpkg's view of both packages.
extension PackagingTests {
    /// The unit, the settings file (a conffile, not readable by others), the maintainer scripts.
    func checkServerFiles(in root: URL) throws {
        let unit = try String(contentsOf: root.appendingPathComponent("usr/lib/systemd/system/casebook-server.service"), encoding: .utf8)
        for line in ["User=casebook", "EnvironmentFile=/etc/casebook/server.env", "ExecStart=/usr/bin/casebook-server serve $CASEBOOK_SERVE_OPTIONS",
                     "StateDirectory=casebook", "ProtectSystem=strict", "Restart=on-failure", "NoNewPrivileges=yes"] {
            #expect(unit.split(separator: "\n").contains { $0 == line }, "the unit lacks \(line)")
        }
        let settings = root.appendingPathComponent("etc/casebook/server.env").path
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: settings)[.posixPermissions] as? Int)
        #expect(mode == 0o640)
        let text = try String(contentsOfFile: settings, encoding: .utf8)
        #expect(text.contains("CASEBOOK_DATA=/var/lib/casebook\n"))
        let control = root.deletingLastPathComponent().appendingPathComponent("control-casebook-server")
        let package = root.deletingLastPathComponent().appendingPathComponent("dist").path + "/casebook-server_\(CasebookVersion.number)_amd64.deb"
        #expect(try Shell.run("/usr/bin/dpkg-deb", ["-e", package, control.path]).code == 0)
        #expect(try String(contentsOf: control.appendingPathComponent("conffiles"), encoding: .utf8) == "/etc/casebook/server.env\n")
        for script in ["postinst", "prerm", "postrm"] {
            #expect(try Shell.run("/bin/sh", ["-n", control.appendingPathComponent(script).path]).code == 0, "\(script) is not valid sh")
        }
    }

    /// `systemd-analyze verify` on the unit, its program and man pages taken from the throwaway root.
    func checkUnit(in root: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            print("note: systemd-analyze is not installed: the unit was checked by its lines only")
            return
        }
        // verify needs the host's targets (sysinit.target ...), so the unit is checked in place with its paths into the root.
        let unit = try String(contentsOf: root.appendingPathComponent("usr/lib/systemd/system/casebook-server.service"), encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/bin/", with: "ExecStart=\(root.path)/usr/bin/")
            .replacingOccurrences(of: "EnvironmentFile=/etc/", with: "EnvironmentFile=\(root.path)/etc/")
        let copy = root.deletingLastPathComponent().appendingPathComponent("unit/casebook-server.service")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(unit.utf8).write(to: copy)
        let verified = try Shell.run("/usr/bin/systemd-analyze", ["verify", copy.path],
                                     environment: ["MANPATH": root.appendingPathComponent("usr/share/man").path])
        #expect(verified.code == 0, "systemd-analyze verify: \(verified.stdout)\(verified.stderr)")
        #expect(verified.stderr.isEmpty, "systemd-analyze verify warned: \(verified.stderr)")
    }

    /// Every library the program links comes from a package its Depends names (the Swift runtime of a debug build aside).
    func checkDepends(package: String, binary: String) throws {
        let depends = try Shell.run("/usr/bin/dpkg-deb", ["--field", package, "Depends"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let named = Set(depends.split(separator: ",").compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(named.contains("libsqlite3-0"), "Depends: \(depends)")
        let libraries = try Shell.run("/usr/bin/ldd", [binary]).stdout.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ")
            return parts.count >= 3 && parts[1] == "=>" && parts[2].hasPrefix("/") ? String(parts[2]) : nil
        }
        for library in libraries {
            let owner = try Shell.run("/usr/bin/dpkg", ["-S", URL(fileURLWithPath: library).resolvingSymlinksInPath().path])
            guard owner.code == 0, let name = owner.stdout.split(separator: ":").first else { continue }  // the toolchain's runtime
            #expect(named.contains(String(name)), "\(binary) links \(library) from \(name), which Depends does not name: \(depends)")
        }
    }

    /// dpkg itself unpacks both packages into an empty root (their files, the conffile); the maintainer
    /// scripts are not run there (they need a whole system: useradd, systemd).
    func checkDpkgInstall(work: URL) throws {
        guard geteuid() == 0 else {
            print("note: not root: dpkg --root was not tried (the packages were checked with dpkg -x)")
            return
        }
        let root = work.appendingPathComponent("dpkg-root")
        let admin = root.appendingPathComponent("var/lib/dpkg")
        try FileManager.default.createDirectory(at: admin.appendingPathComponent("updates"), withIntermediateDirectories: true)
        for file in ["status", "available"] { FileManager.default.createFile(atPath: admin.appendingPathComponent(file).path, contents: nil) }
        let packages = ["casebook", "casebook-server"].map { work.appendingPathComponent("dist/\($0)_\(CasebookVersion.number)_amd64.deb").path }
        let unpacked = try Shell.run("/usr/bin/dpkg", ["--root=\(root.path)", "--force-depends", "--unpack"] + packages)
        #expect(unpacked.code == 0, "dpkg --unpack: \(unpacked.stdout)\(unpacked.stderr)")
        let status = try Shell.run("/usr/bin/dpkg-query", ["--admindir=\(admin.path)", "-W", "-f=${Package} ${Version} ${Conffiles}\n"])
        #expect(status.stdout.contains("casebook \(CasebookVersion.number)"))
        #expect(status.stdout.contains("casebook-server \(CasebookVersion.number)  /etc/casebook/server.env "), "\(status.stdout)")
        let listed = try Shell.run("/usr/bin/dpkg-query", ["--admindir=\(admin.path)", "-L", "casebook-server"]).stdout
        #expect(listed.contains("/usr/bin/casebook-server\n"))
    }

}

/// Runs a program to completion, output captured in files.
enum Shell {
    struct Result {
        var stdout: String
        var stderr: String
        var code: Int32
    }

    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Result(stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8),
                      code: process.terminationStatus)
    }
}
