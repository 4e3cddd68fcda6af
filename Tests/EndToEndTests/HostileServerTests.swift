import Foundation
import Testing
@testable import Shared

/// Issue 14, items 1, 3 and 11 from the client's side: whatever a server answers, `casebook`
/// ends with one `error: ...` line and the exit code the error deserves (1 when trying again
/// cannot help, 3 only when the server could not be reached), never by a signal or a stack trace.
@Suite(.serialized) struct HostileServerTests {
    static let now = UInt64(Date().timeIntervalSince1970 * 1000)

    /// The schema answer of a real server, so that `init` works.
    static var schemaAnswer: Data {
        let answer = Wire.SchemaResponse(project: "kz", schema: Schema.upr, user: "ana", role: "researcher", serverTime: now)
        return CannedServer.response((try? JSONEncoder().encode(answer)) ?? Data())
    }

    /// The device list of a real server (registration answers with it too), so that `init` and a sync's start work.
    static var devicesAnswer: Data {
        CannedServer.response((try? JSONEncoder().encode(Wire.DeviceList(devices: [], serverTime: now))) ?? Data())
    }

    /// The project keys of a real server whose project has none yet, so that a sync gets to the endpoints under attack.
    static var keysAnswer: Data {
        CannedServer.response((try? JSONEncoder().encode(Wire.ProjectKeys(keys: [], wraps: [], members: ["ana"]))) ?? Data())
    }

    /// JSON nested `depth` arrays deep, in a key a reader must skip.
    static func nested(_ depth: Int, around page: String) -> Data {
        Data("{\"x\":\(String(repeating: "[", count: depth))\(String(repeating: "]", count: depth)),\(page.dropFirst())".utf8)
    }

    /// A replica initialised against a server answering `answer` for every endpoint but the schema.
    func replicaSyncing(with answer: @escaping @Sendable (String) -> Data) throws -> (Programs.Result, Researcher, CannedServer) {
        let server = try CannedServer { path in
            path.hasSuffix("/schema") ? Self.schemaAnswer : path.hasSuffix("/devices") ? Self.devicesAnswer
                : path.hasSuffix("/keys") ? Self.keysAnswer : answer(path)
        }
        let ana = Researcher("ana")
        try ana.ok("init", "--server", server.url, "--project", "kz", "--token", "cbk_test")
        return (try ana.run("sync"), ana, server)
    }

    func expectCleanFailure(_ result: Programs.Result, code: Int32 = 1, saying text: String, _ attack: String) {
        #expect(result.code == code, "\(attack): exit \(result.code): \(result.stderr.prefix(600))")
        #expect(result.stderr.contains(text), "\(attack): \(result.stderr.prefix(600))")
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.split(separator: "\n").count == 1, "\(attack): \(result.stderr.prefix(600))")
        for trace in ["Fatal error", "Stack dump", "stack trace", "Illegal instruction", "Segmentation"] {
            #expect(!result.stderr.contains(trace), "\(attack): \(result.stderr.prefix(600))")
        }
    }

    /// Every answer a sync reads (snapshot page, push answer, pull page; success or error status)
    /// nested 300,000 levels deep, in a key a reader must skip.
    @Test func answersNestedThreeHundredThousandLevelsDeepGiveAClearError() throws {
        let valid = [
            "snapshot": "{\"changes\":[],\"since\":0,\"total\":0,\"serverTime\":\(Self.now)}",
            "pull": "{\"changes\":[],\"conflicts\":[],\"cursor\":0,\"more\":false,\"latest\":0,\"serverTime\":\(Self.now)}",
            "push": "{\"results\":[],\"serverTime\":\(Self.now)}",
        ]
        for endpoint in ["snapshot", "push", "pull"] {
            for status in ["200 OK", "500 Internal Server Error"] {
                let server = try CannedServer { path in
                    if path.hasSuffix("/schema") { return Self.schemaAnswer }
                    if path.hasSuffix("/devices") { return Self.devicesAnswer }
                    if path.hasSuffix("/keys") { return Self.keysAnswer }
                    let name = valid.keys.first { path.contains("/\($0)") } ?? "pull"
                    let body = name == endpoint ? Self.nested(300_000, around: valid[name] ?? "") : Data((valid[name] ?? "").utf8)
                    return CannedServer.response(body, status: name == endpoint ? status : "200 OK")
                }
                let ana = Researcher("ana")
                defer { ana.cleanUp(); server.stop() }
                try ana.ok("init", "--server", server.url, "--project", "kz", "--token", "cbk_test")
                if endpoint == "push" { _ = try ana.add("incidents", ["title=Pending"]) }
                let result = try ana.run("sync")
                expectCleanFailure(result, saying: status.hasPrefix("200") ? "does not understand" : "the server failed", "\(endpoint) \(status)")
            }
        }
    }

    @Test func aResponseTooLargeIsReportedAsSuch() throws {
        let (result, ana, server) = try replicaSyncing { _ in
            Data("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(600 << 20)\r\nConnection: close\r\n\r\n[".utf8)
        }
        defer { ana.cleanUp(); server.stop() }
        expectCleanFailure(result, saying: "larger than", "oversized")
    }

    @Test func aMalformedHTTPAnswerIsAProtocolErrorNotAnUnreachableServer() throws {
        let (result, ana, server) = try replicaSyncing { _ in Data("HTTP/1.1 2OO OK\r\nContent-Length: zz\r\n\r\n{}".utf8) }
        defer { ana.cleanUp(); server.stop() }
        expectCleanFailure(result, saying: "not a valid HTTP answer", "malformed")
    }

    @Test func aCertificateForAnotherHostIsACertificateErrorNotAnUnreachableServer() throws {
        let tls = try SecurityTests.makeCertificate(names: "DNS:elsewhere.example")
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start(extra: ["--tls-cert", tls.cert, "--tls-key", tls.key])
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        // Trusted (its CA is given), but made out for another host.
        let result = try Programs.run("casebook", ["init", "--server", server.url, "--project", "kz", "--ca-cert", tls.cert, "--home", ana.home.path],
                                      environment: ["CASEBOOK_TOKEN": tokens["ana"] ?? ""])
        expectCleanFailure(result, saying: "certificate", "wrong host")
        #expect(result.stderr.contains("host") && !result.stderr.contains("cannot reach"), "\(result.stderr)")
    }
}
