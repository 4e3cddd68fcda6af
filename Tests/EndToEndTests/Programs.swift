import Foundation
import TestSupport
import Testing

/// The built `casebook` and `casebook-server` programs, run as a user would run them.
enum Programs {
    /// The folder holding the built products (next to the test bundle).
    static let products: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug").standardized,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("casebook").path) } ?? candidates[0]
    }()

    /// The passphrase of every replica the tests make (unless a test gives its own).
    static let passphrase = "correct horse battery staple"

    struct Result {
        var stdout: String
        var stderr: String
        var code: Int32

        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
        func object() throws -> [String: Any] { try #require(try json() as? [String: Any], "not a JSON object: \(stdout)") }
        func array() throws -> [[String: Any]] { try #require(try json() as? [[String: Any]], "not a JSON array: \(stdout)") }
    }

    /// The environment the programs run in: the test's own, without the variables that would point them at the
    /// developer's folders, plus `extra` (a value of "" removes the variable).
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "CASEBOOK_HOME")
        env.removeValue(forKey: "CASEBOOK_DATA")
        env.removeValue(forKey: "CASEBOOK_DATABASE_URL")
        for key in ["CASEBOOK_HOST", "CASEBOOK_PORT", "CASEBOOK_TLS_CERT", "CASEBOOK_TLS_KEY"] { env.removeValue(forKey: key) }
        // Every replica the tests make is encrypted, as a user's is: the passphrase comes from the
        // environment, and the key derivation runs with its cheapest parameters (a test-only setting:
        // a real replica's takes half a second).
        env["CASEBOOK_PASSPHRASE"] = passphrase
        env["CASEBOOK_KDF"] = "fast"
        for (key, value) in extra {
            if value.isEmpty { env.removeValue(forKey: key) } else { env[key] = value }
        }
        return env
    }

    /// Runs a program to completion with output captured in files (no pipe can fill up). With a
    /// `launcher` (a program and its arguments), that program runs and is given the built one.
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                    launcher: [String] = []) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err"), inp = folder.appendingPathComponent("in")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        FileManager.default.createFile(atPath: inp.path, contents: Data((input ?? "").utf8))
        let process = Process()
        let program = products.appendingPathComponent(name)
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = launcher.dropFirst() + [program.path] + arguments
        } else {
            process.executableURL = program
            process.arguments = arguments
        }
        process.environment = Programs.environment(environment)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = try FileHandle(forReadingFrom: inp)
        try process.run()
        process.waitUntilExit()
        return Result(stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8),
                      code: process.terminationStatus)
    }
}

/// A real `casebook-server serve` on a free port, over a temporary data folder or a fresh
/// PostgreSQL database.
final class RunningServer {
    let data: URL
    /// PostgreSQL only: the database, dropped by the instance that made it, and the URL used to reach it.
    let database: TestPostgres.Database?
    let databaseURL: String?
    private let ownsStore: Bool
    let process = Process()
    private(set) var url = ""
    private let log: URL

    init(data: URL? = nil, store: StoreKind = .sqlite) throws {
        database = store == .postgres ? try TestPostgres.Database() : nil
        databaseURL = database?.url
        ownsStore = true
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("casebook-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.data, withIntermediateDirectories: true)
        log = self.data.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
    }

    /// A server on a PostgreSQL database reached by `databaseURL` (the caller owns the database).
    init(databaseURL: String) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        database = nil
        self.databaseURL = databaseURL
        ownsStore = true
        log = data.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
    }

    /// Another server process on the same store (a restart, or a second instance beside the first).
    init(sharing other: RunningServer) {
        data = other.data
        database = other.database
        databaseURL = other.databaseURL
        ownsStore = false
        log = data.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
    }

    /// The arguments that name the store.
    var storeArguments: [String] {
        // Generous time limits for a test database: a CI machine running many tests at once is slow, not broken.
        guard let databaseURL else { return ["--data", data.path] }
        return ["--database-url", databaseURL] + (database == nil ? [] : ["--database-timeout", "90"])
    }

    /// Runs an admin command on the same store.
    func admin(_ arguments: [String]) throws -> Programs.Result {
        try Programs.run("casebook-server", arguments + storeArguments)
    }

    /// Creates a project and users, returns their tokens.
    func setUp(project: String = "kz", users: [(String, String)]) throws -> [String: String] {
        let created = try admin(["project", "create", project])
        #expect(created.code == 0, "\(created.stderr)")
        var tokens: [String: String] = [:]
        for (name, role) in users {
            let added = try admin(["user", "add", name, "--project", project, "--role", role, "--json"])
            #expect(added.code == 0, "\(added.stderr)")
            tokens[name] = try added.object()["token"] as? String
        }
        return tokens
    }

    /// Starts serving and waits for the `listening on` line.
    func start(port: Int = 0, extra: [String] = []) throws {
        let out = data.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = Programs.products.appendingPathComponent("casebook-server")
        process.arguments = ["serve", "--port", String(port)] + storeArguments + extra
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                url = String(line.dropFirst("listening on ".count))
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ServerFailed(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Stops with SIGTERM and returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func cleanUp() {
        stop()
        guard ownsStore else { return }
        database?.drop()
        try? FileManager.default.removeItem(at: data)
    }

    struct ServerFailed: Error, CustomStringConvertible {
        let log: String
        var description: String { "the server did not start: \(log)" }
    }
}

/// One researcher's replica, driven through the `casebook` command line.
struct Researcher {
    let name: String
    let home: URL

    init(_ name: String) {
        self.name = name
        home = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-home-\(name)-\(UUID().uuidString)")
    }

    @discardableResult
    func run(_ arguments: String..., input: String? = nil) throws -> Programs.Result {
        try Programs.run("casebook", arguments + ["--home", home.path], input: input)
    }

    /// Runs a command that must succeed.
    @discardableResult
    func ok(_ arguments: String...) throws -> Programs.Result {
        let result = try Programs.run("casebook", arguments + ["--home", home.path])
        #expect(result.code == 0, "casebook \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }

    func initialize(server: RunningServer, token: String?, project: String = "kz") throws {
        try ok("init", "--server", server.url, "--project", project, "--token", token ?? "")
    }

    func add(_ collection: String, _ sets: [String]) throws -> String {
        let result = try Programs.run("casebook", ["add", collection] + sets.flatMap { ["--set", $0] } + ["--json", "--home", home.path])
        #expect(result.code == 0, "add failed: \(result.stderr)")
        return try result.object()["id"] as? String ?? ""
    }

    func syncJSON() throws -> [String: Any] {
        try ok("sync", "--json").object()
    }

    func conflicts() throws -> [[String: Any]] {
        try ok("conflicts", "--json").array()
    }

    func export(_ collection: String) throws -> String {
        try ok("export", collection, "--format", "json").stdout
    }

    /// Writes a file (a CSV to import, say) into the replica's folder, which `cleanUp` removes; returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let url = home.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Whether the folder holds any part of a replica (an encrypted one's key or database, or a plaintext database).
    var holdsReplica: Bool {
        ["key", "replica.db", "replica.sqlite"].contains { FileManager.default.fileExists(atPath: home.appendingPathComponent($0).path) }
    }

    func cleanUp() { try? FileManager.default.removeItem(at: home) }
}

/// A running server and researchers with initialised replicas: the start of most end-to-end tests.
struct Team {
    let server: RunningServer
    let people: [Researcher]
    let tokens: [String: String]

    /// Starts a server with project "kz" and `users` (name, role); initialises a replica for each.
    static func start(_ users: [(String, String)] = [("ana", "researcher"), ("bek", "researcher")], store: StoreKind = .sqlite) throws -> Team {
        let server = try RunningServer(store: store)
        let tokens = try server.setUp(users: users)
        try server.start()
        let people = users.map { Researcher($0.0) }
        let team = Team(server: server, people: people, tokens: tokens)
        do {
            for person in people { try person.initialize(server: server, token: tokens[person.name]) }
        } catch {
            team.cleanUp()
            throw error
        }
        return team
    }

    subscript(name: String) -> Researcher { people.first { $0.name == name }! }

    func cleanUp() {
        server.cleanUp()
        people.forEach { $0.cleanUp() }
    }
}
