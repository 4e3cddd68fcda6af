import Foundation
import Testing

/// Issue 14, item 12 (client): `init` takes the token from a file, the environment or the
/// terminal (not echoed), and warns when it comes from the command line, where other users
/// of the machine can read it.
@Suite(.serialized) struct TokenInputTests {
    static let warning = "visible to other users of this machine"

    func initialise(_ person: Researcher, _ server: RunningServer, _ extra: [String], environment: [String: String] = [:]) throws -> Programs.Result {
        try Programs.run("casebook", ["init", "--server", server.url, "--project", "kz", "--home", person.home.path] + extra, environment: environment)
    }

    @Test func theTokenComesFromAFileTheEnvironmentOrTheCommandLineWithAWarning() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let token = tokens["ana"] ?? ""

        let fromFile = Researcher("file")
        defer { fromFile.cleanUp() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-token-\(UUID().uuidString)")
        try Data("\(token)\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let viaFile = try initialise(fromFile, server, ["--token-file", file.path])
        #expect(viaFile.code == 0, "\(viaFile.stderr)")
        #expect(!viaFile.stderr.contains(Self.warning))
        #expect(try fromFile.syncJSON()["pushed"] as? Int == 0)

        let fromEnvironment = Researcher("environment")
        defer { fromEnvironment.cleanUp() }
        let viaEnvironment = try initialise(fromEnvironment, server, [], environment: ["CASEBOOK_TOKEN": token])
        #expect(viaEnvironment.code == 0, "\(viaEnvironment.stderr)")
        #expect(!viaEnvironment.stderr.contains(Self.warning))

        let fromArgument = Researcher("argument")
        defer { fromArgument.cleanUp() }
        let viaArgument = try initialise(fromArgument, server, ["--token", token])
        #expect(viaArgument.code == 0, "\(viaArgument.stderr)")
        #expect(viaArgument.stderr.contains(Self.warning) && viaArgument.stderr.contains("--token-file"))

        // None of them, and no terminal to ask on: a clear error, nothing created.
        let nowhere = Researcher("nowhere")
        defer { nowhere.cleanUp() }
        let none = try initialise(nowhere, server, [])
        #expect(none.code == 1 && none.stderr.contains("no token given"), "\(none.stderr)")
        #expect(!nowhere.holdsReplica)
        let missing = try initialise(nowhere, server, ["--token-file", "/nonexistent/token"])
        #expect(missing.code == 1 && missing.stderr.contains("cannot read the token file"), "\(missing.stderr)")
    }

    @Test func onATerminalTheTokenIsAskedForAndNotEchoed() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let token = tokens["ana"] ?? ""
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        let command = [Programs.products.appendingPathComponent("casebook").path, "init", "--server", server.url, "--project", "kz",
                       "--home", ana.home.path].joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.environment = Programs.environment()
        process.arguments = ["-qec", command, "/dev/null"]
        let typing = Pipe()
        process.standardInput = typing
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Type the token once the prompt is up, as a person would (the terminal echoes what arrives before).
        var text = ""
        while !text.contains("not shown as you type") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        try typing.fileHandleForWriting.write(contentsOf: Data("\(token)\n".utf8))
        try typing.fileHandleForWriting.close()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("token (not shown as you type)"), "\(text)")
        #expect(!text.contains(token), "the token was echoed: \(text)")
        #expect(try ana.syncJSON()["pushed"] as? Int == 0)
    }
}
