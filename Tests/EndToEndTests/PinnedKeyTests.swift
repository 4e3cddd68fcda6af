import Foundation
import TestSupport
import Testing

/// Issue 15, a pinned server key, the way an interceptor meets it: one authority signs two
/// certificates for this machine with different keys, as a state's root signs whatever it likes.
/// The replica trusts the authority (through `--ca-cert`, or the system's store) and still refuses
/// the key it did not pin.
@Suite(.serialized) struct PinnedKeyTests {
    /// An authority, two certificates it signed for 127.0.0.1 and localhost (keys A and B), and
    /// their fingerprints as openssl computes them.
    struct Keys {
        let authority: TestAuthority
        let a: TestAuthority.Issued
        let b: TestAuthority.Issued
        let fingerprintA: String
        let fingerprintB: String

        init() throws {
            authority = try TestAuthority()
            a = try authority.issue("a")
            b = try authority.issue("b")
            fingerprintA = try TestAuthority.fingerprint(a.certificate)
            fingerprintB = try TestAuthority.fingerprint(b.certificate)
        }

        static func serve(_ issued: TestAuthority.Issued) -> [String] { ["--tls-cert", issued.certificate, "--tls-key", issued.key] }
    }

    static func port(_ server: RunningServer) -> Int { Int(server.url.split(separator: ":").last ?? "0") ?? 0 }

    static func titles(_ researcher: Researcher) throws -> Set<String> {
        Set(try researcher.ok("list", "incidents", "--json").array().compactMap { ($0["fields"] as? [String: Any])?["title"] as? String })
    }

    static func status(_ researcher: Researcher) throws -> [String: Any] { try researcher.ok("status", "--json").object() }

    func expectRefused(_ result: Programs.Result, presented: String, pinned: String) {
        #expect(result.code == 5, "exit \(result.code): \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: the server's identity changed"), "\(result.stderr)")
        #expect(result.stderr.contains(presented) && result.stderr.contains(pinned), "\(result.stderr)")
        #expect(result.stderr.contains("casebook pin \(presented)"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// The most common interception: a certificate no one trusts, self-signed for the server's address.
    /// A pinned replica says its identity changed (exit 5), as for a trusted one, not "untrusted" (exit 1).
    @Test func anUntrustedImpostorOfAPinnedServerIsAnIdentityChange() throws {
        let keys = try Keys()
        defer { keys.authority.cleanUp() }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start(extra: Keys.serve(keys.a))
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        try ana.ok("init", "--server", server.url, "--project", "kz", "--token", tokens["ana"] ?? "", "--ca-cert", keys.authority.certificate)
        _ = try ana.add("incidents", ["title=Kept while an impostor answers"])
        server.stop()
        let selfSigned = try SecurityTests.makeCertificate()
        defer { try? FileManager.default.removeItem(at: selfSigned.folder) }
        let impostor = RunningServer(sharing: server)
        defer { impostor.stop() }
        try impostor.start(port: Self.port(server), extra: ["--tls-cert", selfSigned.cert, "--tls-key", selfSigned.key])
        expectRefused(try ana.run("sync"), presented: try TestAuthority.fingerprint(selfSigned.cert), pinned: keys.fingerprintA)
        #expect(try Self.status(ana)["pending"] as? Int == 1)
        #expect(!impostor.logText.contains("hb.request.path"), "\(impostor.logText)")
    }

    @Test func aKeyFromTheSameAuthorityIsRefusedNothingIsSentAndPinAcceptsAnAnnouncedKey() throws {
        let keys = try Keys()
        defer { keys.authority.cleanUp() }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher")])
        try server.start(extra: Keys.serve(keys.a))
        let ana = Researcher("ana"), bek = Researcher("bek")
        defer { ana.cleanUp(); bek.cleanUp() }
        let initialized = try ana.ok("init", "--server", server.url, "--project", "kz", "--token", tokens["ana"] ?? "", "--ca-cert", keys.authority.certificate)
        #expect(initialized.stderr.contains("server key: \(keys.fingerprintA)\n"), "\(initialized.stderr)")
        #expect(try Self.status(ana)["serverKey"] as? String == keys.fingerprintA)
        // The authority's certificate (which names the server) is in the database, not in a file of its own.
        #expect(try FileManager.default.contentsOfDirectory(atPath: ana.home.path).allSatisfy { !$0.hasSuffix(".pem") })
        _ = try ana.add("incidents", ["title=Before the switch"])
        #expect(try ana.syncJSON()["pushed"] as? Int == 1)
        let stored = try FaultTests.serverLog(server).rows

        // Same host, same trusted authority, another key.
        server.stop()
        let impostor = RunningServer(sharing: server)
        defer { impostor.stop() }
        try impostor.start(port: Self.port(server), extra: Keys.serve(keys.b))
        _ = try ana.add("incidents", ["title=Sent after the pin"])
        let pending = try #require(Self.status(ana)["pending"] as? Int)
        expectRefused(try ana.run("sync"), presented: keys.fingerprintB, pinned: keys.fingerprintA)
        // Nothing was sent: the server saw no request and stored nothing, and the edit waits.
        #expect(!impostor.logText.contains("hb.request.path"), "\(impostor.logText)")
        #expect(try FaultTests.serverLog(server).rows == stored)
        #expect(try Self.status(ana)["pending"] as? Int == pending)
        try bek.ok("init", "--server", impostor.url, "--project", "kz", "--token", tokens["bek"] ?? "", "--ca-cert", keys.authority.certificate)
        _ = try bek.syncJSON()
        #expect(try Self.titles(bek) == ["Before the switch"])

        // The team announced key B: accepted by hand, the sync goes through.
        let pinned = try ana.ok("pin", keys.fingerprintB)
        #expect(pinned.stdout.contains(keys.fingerprintB))
        #expect(try Self.status(ana)["serverKey"] as? String == keys.fingerprintB)
        #expect(try ana.syncJSON()["pushed"] as? Int == 1)
        _ = try bek.syncJSON()
        #expect(try Self.titles(bek) == ["Before the switch", "Sent after the pin"])
    }

    @Test func initWithAPinRefusesAnyOtherKeyAndCreatesNothing() throws {
        let keys = try Keys()
        defer { keys.authority.cleanUp() }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let token = try server.setUp(users: [("ana", "researcher")])["ana"] ?? ""
        try server.start(extra: Keys.serve(keys.a))
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        let initArguments = ["init", "--server", server.url, "--project", "kz", "--token", token, "--ca-cert", keys.authority.certificate]

        let wrong = try Programs.run("casebook", initArguments + ["--pin", keys.fingerprintB, "--home", ana.home.path])
        #expect(wrong.code == 5, "\(wrong.stderr)")
        #expect(wrong.stderr.contains(keys.fingerprintA) && wrong.stderr.contains(keys.fingerprintB), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("error: the server's identity changed") && wrong.stderr.contains("no replica was created"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ana.home.appendingPathComponent("replica.sqlite").path))
        #expect(!server.logText.contains("hb.request.path"))

        // Too short, another hash's name, a character too many, base64 that is not canonical (its spare bits set), no padding.
        let malformed = ["sha256:abc", "md5:" + String(keys.fingerprintA.dropFirst(7)), keys.fingerprintA + "x",
                         String(keys.fingerprintA.dropLast(2)) + "B=", String(keys.fingerprintA.dropLast())]
        for malformed in malformed {
            let refused = try Programs.run("casebook", initArguments + ["--pin", malformed, "--home", ana.home.path])
            #expect(refused.code == 64, "\(malformed): \(refused.stderr)")
        }
        let plain = try Programs.run("casebook", ["init", "--server", "http://127.0.0.1:1", "--project", "kz", "--token", token,
                                                  "--pin", keys.fingerprintA, "--home", ana.home.path])
        #expect(plain.code == 64 && plain.stderr.contains("https"), "\(plain.stderr)")

        let right = try Programs.run("casebook", initArguments + ["--pin", keys.fingerprintA, "--home", ana.home.path])
        #expect(right.code == 0, "\(right.stderr)")
        #expect(try Self.status(ana)["serverKey"] as? String == keys.fingerprintA)
        #expect(try ana.syncJSON()["pulled"] as? Int == 0)
    }

    @Test func aKeyAnnouncedBeforeTheSwitchIsAcceptedWithoutAPinCommand() throws {
        let keys = try Keys()
        defer { keys.authority.cleanUp() }
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher")])
        try server.start(extra: Keys.serve(keys.a))
        let port = Self.port(server)
        let ana = Researcher("ana"), bek = Researcher("bek")
        defer { ana.cleanUp(); bek.cleanUp() }
        for person in [ana, bek] {
            try person.ok("init", "--server", server.url, "--project", "kz", "--token", tokens[person.name] ?? "", "--ca-cert", keys.authority.certificate)
        }
        // The admin announces key B for a while; Ana syncs during that time, Bek does not.
        server.stop()
        let announcing = RunningServer(sharing: server)
        try announcing.start(port: port, extra: Keys.serve(keys.a) + ["--next-tls-cert", keys.b.certificate])
        #expect(announcing.logText.contains("announcing the next TLS key \(keys.fingerprintB)"))
        _ = try ana.add("incidents", ["title=During the announcement"])
        let learned = try ana.ok("sync")
        #expect(learned.stderr.contains("announced its next key \(keys.fingerprintB)"), "\(learned.stderr)")
        #expect(try ana.ok("status").stdout.contains("server key: \(keys.fingerprintA) (also accepted, announced by the server: \(keys.fingerprintB))"))
        announcing.stop()

        // The switch: Ana syncs with no pin command, and her replica retires key A.
        let switched = RunningServer(sharing: server)
        defer { switched.stop() }
        try switched.start(port: port, extra: Keys.serve(keys.b))
        _ = try ana.add("incidents", ["title=After the switch"])
        let after = try ana.ok("sync", "--json")
        #expect(try after.object()["pushed"] as? Int == 1)
        #expect(after.stderr.contains("no longer lists the key \(keys.fingerprintA)"), "\(after.stderr)")
        #expect(try Self.status(ana)["serverKey"] as? String == keys.fingerprintB)
        #expect(!(try ana.ok("status").stdout.contains(keys.fingerprintA)))

        // Bek missed the announcement: refused, as an interception would be.
        expectRefused(try bek.run("sync"), presented: keys.fingerprintB, pinned: keys.fingerprintA)
        #expect(try Self.status(bek)["lastSync"] is NSNull)
    }

    @Test(.enabled(if: SystemTrust.unshareFlags != nil, "needs a private mount namespace (unshare) to put an authority in the system's store"))
    func aKeyFromAnAuthorityTheSystemTrustsIsStillRefused() throws {
        let keys = try Keys()
        defer { keys.authority.cleanUp() }
        let bundle = try SystemTrust.bundle(adding: keys.authority.certificate, in: keys.authority.folder)
        let server = try RunningServer()
        defer { server.cleanUp() }
        let token = try server.setUp(users: [("ana", "researcher")])["ana"] ?? ""
        try server.start(extra: Keys.serve(keys.a))
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        func casebook(_ arguments: String..., trusting: Bool = true) throws -> Programs.Result {
            try Programs.run("casebook", arguments + ["--home", ana.home.path], launcher: trusting ? SystemTrust.launcher(bundle: bundle) : [])
        }
        // Not trusted without the system's store holding the authority (and no --ca-cert)...
        let untrusted = try casebook("init", "--server", server.url, "--project", "kz", "--token", token, trusting: false)
        #expect(untrusted.code == 1 && untrusted.stderr.contains("certificate"), "\(untrusted.stderr)")
        // ...trusted with it, as a state's root installed on the laptop is.
        let initialized = try casebook("init", "--server", server.url, "--project", "kz", "--token", token)
        #expect(initialized.code == 0, "\(initialized.stderr)")
        #expect(initialized.stderr.contains("server key: \(keys.fingerprintA)"))
        #expect(try casebook("sync").code == 0)

        server.stop()
        let impostor = RunningServer(sharing: server)
        defer { impostor.stop() }
        try impostor.start(port: Self.port(server), extra: Keys.serve(keys.b))
        expectRefused(try casebook("sync"), presented: keys.fingerprintB, pinned: keys.fingerprintA)
        #expect(!impostor.logText.contains("hb.request.path"))
    }
}

/// Runs a program as if the system's trust store also held a test authority. NIOSSL on Linux reads
/// the store from fixed places (/etc/ssl/certs/ca-certificates.crt first) and not from
/// SSL_CERT_FILE, so the program runs in a private mount namespace where that file is the system's
/// bundle plus the authority: the machine's real store is never touched.
enum SystemTrust {
    static let store = "/etc/ssl/certs/ca-certificates.crt"

    /// The `unshare` flags that give a private mount namespace here (as root, or through a user
    /// namespace); nil when neither works or there is no store file to stand in for.
    static let unshareFlags: [String]? = {
        guard FileManager.default.fileExists(atPath: store), FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return nil }
        for flags in [["-m"], ["-U", "-r", "-m"]] {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            probe.arguments = flags + ["/bin/sh", "-c", "mount --bind \(store) \(store)"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { continue }
            probe.waitUntilExit()
            if probe.terminationStatus == 0 { return flags }
        }
        return nil
    }()

    /// The launcher for `Programs.run`: the program runs with `bundle` as the system's store.
    static func launcher(bundle: String) -> [String] {
        ["/usr/bin/unshare"] + (unshareFlags ?? ["-m"]) + ["/bin/sh", "-c", "mount --bind \"$0\" \(store) && exec \"$@\"", bundle]
    }

    /// The system's bundle with `authority` appended, written into `folder`.
    static func bundle(adding authority: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("system-bundle.pem").path
        let system = try Data(contentsOf: URL(fileURLWithPath: store))
        try (system + Data("\n".utf8) + Data(contentsOf: URL(fileURLWithPath: authority))).write(to: URL(fileURLWithPath: path))
        return path
    }
}
