import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct SecurityTests {
    /// A self-signed certificate for `names` (127.0.0.1 and localhost) made with openssl, in a temporary folder.
    static func makeCertificate(names: String = "IP:127.0.0.1,DNS:localhost") throws -> (folder: URL, cert: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cert = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                             "-subj", "/CN=casebook-test", "-addext", "subjectAltName=\(names)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl failed")
        return (folder, cert, key)
    }

    @Test func httpsWithACertificateTheClientVerifies() throws {
        let tls = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start(extra: ["--tls-cert", tls.cert, "--tls-key", tls.key])
        #expect(server.url.hasPrefix("https://"))

        // Without the CA the certificate is not trusted: refused, nothing created.
        let untrusted = Researcher("untrusted")
        defer { untrusted.cleanUp() }
        let refused = try untrusted.run("init", "--server", server.url, "--project", "kz", "--token", tokens["ana"] ?? "")
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("certificate"))
        #expect(!untrusted.holdsReplica)

        // With it, the whole round trip works.
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        try ana.ok("init", "--server", server.url, "--project", "kz", "--token", tokens["ana"] ?? "", "--ca-cert", tls.cert)
        _ = try ana.add("incidents", ["title=Sent over TLS"])
        #expect(try ana.syncJSON()["pushed"] as? Int == 1)
    }

    @Test func plainHTTPIsRefusedOffLoopbackWithoutInsecure() throws {
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        // Refused before any connection is attempted.
        let refused = try ana.run("init", "--server", "http://192.0.2.10:8080", "--project", "kz", "--token", "cbk_x")
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("refusing plain http://"))
        #expect(refused.stderr.contains("--insecure"))
    }

    @Test(arguments: StoreKind.allCases) func theServerLogHoldsNoTokensAndNoRecordContents(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let server = team.server, ana = team["ana"], bek = team["bek"]
        let secrets = ["Witness W-17 lives above the bakery", "Зарина Ахметова", "+7 701 555 0199"]
        let id = try ana.add("persons", ["code=W-17", "notes=\(secrets[0]); \(secrets[1]); \(secrets[2])"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        try bek.ok("edit", id, "--set", "notes=\(secrets[1]) moved")
        _ = try bek.syncJSON()
        _ = try bek.run("sync")  // and a failed attempt with a wrong token
        _ = try Programs.run("casebook", ["init", "--server", server.url, "--project", "kz", "--token", "cbk_guess", "--home", ana.home.path + "-x"])
        server.stop()
        let log = server.logText
        #expect(log.contains("push"))  // the log is not empty
        for token in team.tokens.values { #expect(!log.contains(token)) }
        #expect(!log.contains("cbk_guess"))
        for secret in secrets + ["W-17", "bakery"] { #expect(!log.contains(secret), "\(secret) is in the log") }
    }

    @Test func badCommandLineInputIsRefusedAndNothingIsStored() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        try ana.initialize(server: server, token: tokens["ana"])
        let cases: [([String], Int32, String)] = [
            (["add", "incidents", "--set", "title=bell\u{07}ring"], 1, "control character"),
            (["add", "incidents", "--set", "title=\(String(repeating: "x", count: 5_000))"], 1, "longer than"),
            (["add", "incidents", "--set", "title=x", "--set", "themes=\(Array(repeating: "death_penalty", count: 1_001).joined(separator: ","))"], 1, "more than 1000"),
            (["add", "persons", "--set", "code=x", "--set", "consent=maybe"], 1, "none, internal, anonymised, public"),
            (["add", "reviews", "--set", "state=KZ", "--set", "cycle=99999999999999999999"], 1, "whole number"),
            (["add", "incidents", "--set", "title=x", "--set", "sources=zzzzzz"], 1, "not a valid record id"),
        ]
        for (arguments, code, message) in cases {
            let result = try Programs.run("casebook", arguments + ["--home", ana.home.path])
            #expect(result.code == code, "\(arguments.prefix(3)): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: "))
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
        // Invalid UTF-8 in an argument: refused, not silently repaired.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\"$0\" add incidents --set \"$(printf 'title=\\377\\376')\" --home \"$1\"",
                             Programs.products.appendingPathComponent("casebook").path, ana.home.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 64)
        #expect(text.contains("not valid UTF-8"))
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)
    }
}
