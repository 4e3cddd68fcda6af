import Foundation
import TestSupport
import Testing

/// docs/openapi.yaml checked against the real server by a client we did not write: schemathesis
/// (from PyPI; .ci/run installs the pinned version, 4.32.5) generates requests from the spec, valid and
/// not, chains push and pull through the spec's links, and checks every answer against the spec.
///
/// Three runs at once, as a researcher, as a viewer and without a token, each bounded in
/// examples and time. The server trusts 127.0.0.1 as a proxy so that each run names its own
/// client address (`X-Forwarded-For`): the anonymous run's failed logins are throttled without
/// slowing the others.
@Suite(.serialized) struct ApiSchemaTests {
    /// The installed `schemathesis` program, nil when there is none that runs.
    static let program: URL? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        guard let found = paths.map({ URL(fileURLWithPath: String($0)).appendingPathComponent("schemathesis") })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { return nil }
        // A pyenv shim exists whether or not the active Python has the package: run it once.
        let check = Process()
        check.executableURL = found
        check.arguments = ["--version"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return nil }
        check.waitUntilExit()
        return check.terminationStatus == 0 ? found : nil
    }()
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized
    /// What the spec cannot say (a chunk's body must match its hash header): see the file.
    static let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../schemathesis.toml").standardized

    @Test(.enabled(if: program != nil, "schemathesis is not installed: pip install schemathesis==4.32.5 (as .ci/run does) to check docs/openapi.yaml against the server"),
          // A guard against a hang, not a speed check: it takes about a minute on a quiet machine
          // (three roles over every endpoint), several on a loaded one.
          .timeLimit(.minutes(8)))
    func theServerAnswersAsItsSpecSaysToAResearcherAViewerAndAStranger() async throws {
        let program = try #require(Self.program)
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(project: "kz", users: [("rita", "researcher"), ("vic", "viewer")])
        let researcher: String = try #require(tokens["rita"]), viewer: String = try #require(tokens["vic"])
        try server.start(extra: ["--trusted-proxy", "127.0.0.1"])
        let runs = [
            SchemathesisRun(name: "researcher", token: researcher, address: "192.0.2.1", seed: 14_151),
            SchemathesisRun(name: "viewer", token: viewer, address: "192.0.2.2", seed: 14_152),
            SchemathesisRun(name: "no token", token: nil, address: "192.0.2.3", seed: 14_153),
        ]
        let url = server.url
        let results = try await withThrowingTaskGroup(of: (String, SchemathesisRun.Result).self) { group in
            for run in runs {
                group.addTask { (run.name, try await run.run(program, spec: Self.spec, config: Self.config, url: url)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for run in runs {
            let result = try #require(results[run.name])
            #expect(result.code == 0, "schemathesis (\(run.name)) found failures or could not run:\n\(result.output.suffix(6_000))")
            #expect(result.output.contains("generated"), "schemathesis (\(run.name)) tested nothing:\n\(result.output.suffix(2_000))")
        }
        let health = try await RawRequestTests.send(server, "/v1/health", token: nil)
        #expect(health.status == 200, "the server stopped answering: \(server.logText.suffix(2_000))")
    }
}

/// One bounded schemathesis run against a live server.
struct SchemathesisRun: Sendable {
    struct Result: Sendable {
        var output: String
        var code: Int32
    }

    let name: String
    let token: String?
    /// The client address this run claims (the server believes it from 127.0.0.1).
    let address: String
    let seed: Int

    /// The run: every check, all phases (examples, coverage, fuzzing, stateful through the links),
    /// at most 25 examples per operation and 30 s in all.
    func run(_ program: URL, spec: URL, config: URL, url: String) async throws -> Result {
        var arguments = [
            "--config-file", config.path, "run", spec.path, "--url", url, "--checks", "all", "--max-examples", "25", "--max-time", "30",
            "--workers", "1", "--request-timeout", "15", "--seed", String(seed), "--generation-database", "none",
            "--no-color", "--header", "X-Forwarded-For: \(address)",
        ]
        if let token { arguments += ["--header", "Authorization: Bearer \(token)"] }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await Self.execute(program, arguments, folder: folder, timeout: 90)
    }

    /// Runs `program` in `folder` (its reports and caches land there), stopped after `timeout`
    /// seconds. It waits without holding a thread, so that the runs go on side by side.
    static func execute(_ program: URL, _ arguments: [String], folder: URL, timeout: TimeInterval) async throws -> Result {
        let output = folder.appendingPathComponent("schemathesis-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        let code: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { process.terminate() } }
        }
        return Result(output: (try? String(contentsOf: output, encoding: .utf8)) ?? "", code: code)
    }
}
