import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// Sensitive fields end to end, on both stores, with the real programs (contract: "Sensitive fields,
/// end to end"): the server's store, log and backup never hold a value; a member without a grant sees
/// `(sealed)` until granted; conflicts of sealed values are found and settled; a non-member reads nothing.
@Suite(.serialized) struct SensitiveFieldTests {
    /// The values written in a test, each unique to the run.
    struct Secrets {
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        var name: String { "Aigerim Sultanova-\(tag)" }
        var contact: String { "+7 701 555 \(tag)" }
        var anas: String { "Aigerim S. Nurlanovna-\(tag)" }
        var beks: String { "Aigerim Sultan-\(tag)" }
        var settled: String { "Aigerim Sultanova Nurlanovna-\(tag)" }
        var imported: String { "Dana Imported-\(tag)" }
        var all: [String] { [name, contact, anas, beks, settled, imported] }
    }

    /// The text fields of a record as `show --json` prints them.
    static func texts(_ person: Researcher, _ id: String) throws -> [String: String] {
        (try person.ok("show", id, "--json").object()["fields"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    }

    /// Whether `data` holds `needle`, as it is or in base64.
    static func holds(_ data: Data, _ needle: String) -> Bool {
        let bytes = Data(needle.utf8)
        return data.range(of: bytes) != nil || data.range(of: Data(bytes.base64EncodedString().utf8)) != nil
    }

    /// Every byte the server keeps: its data folder (database, WAL, files) and, for PostgreSQL, a dump of its database.
    static func serverBytes(_ server: RunningServer) throws -> [(String, Data)] {
        var found: [(String, Data)] = []
        if let walker = FileManager.default.enumerator(at: server.data, includingPropertiesForKeys: nil) {
            for case let url as URL in walker { if let data = FileManager.default.contents(atPath: url.path) { found.append((url.path, data)) } }
        }
        if let url = server.databaseURL {
            let dump = server.data.appendingPathComponent("dump.sql")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["pg_dump", "--data-only", "--file", dump.path, url]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "pg_dump failed")
            found.append(("pg_dump", try Data(contentsOf: dump)))
        }
        return found
    }

    @Test(arguments: StoreKind.allCases) func sealedUntilGrantedMergedAndNeverReadableOnTheServer(store: StoreKind) async throws {
        let secrets = Secrets()
        let server = try RunningServer(store: store)
        let ana = Researcher("ana"), bek = Researcher("bek")
        defer { server.cleanUp(); [ana, bek].forEach { $0.cleanUp() } }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher")])
        try server.start()
        try ana.initialize(server: server, token: tokens["ana"])
        try bek.initialize(server: server, token: tokens["bek"])

        let person = try ana.add("persons", ["code=P-17", "name=\(secrets.name)", "contact=\(secrets.contact)"])
        #expect(try Self.texts(ana, person) == ["code": "P-17", "name": secrets.name, "contact": secrets.contact])
        // An import seals a sensitive column as `add` does (its rows are made ready on another core).
        try ana.ok("import", "persons", try ana.file("persons.csv", "code,name\nP-18,\(secrets.imported)\n"))
        try ana.ok("sync")
        #expect(try ana.ok("show", person).stdout.contains(secrets.name))

        // Bek is a member without the key: sealed values, and no edit of them.
        _ = try bek.syncJSON()
        let fields = try #require(try bek.ok("show", person, "--json").object()["fields"] as? [String: Any])
        #expect(fields["name"] as? [String: Bool] == ["sealed": true] && fields["contact"] as? [String: Bool] == ["sealed": true])
        #expect(fields["code"] as? String == "P-17")
        #expect(try bek.ok("show", person).stdout.contains("(sealed)"))
        let refused = try bek.run("edit", person, "--set", "name=Someone")
        #expect(refused.code == 1 && refused.stderr.contains("casebook grant bek") && refused.stderr.contains("ana"), "\(refused.stderr)")
        #expect(try bek.ok("list", "persons", "--where", "name=\(secrets.name)", "--json").array().isEmpty)

        // Ana grants: from Bek's next sync he reads and searches them.
        let granted = try ana.ok("grant", "bek")
        #expect(granted.stdout.contains("granted 1 key to bek"), "\(granted.stdout)")
        _ = try bek.syncJSON()
        #expect(try Self.texts(bek, person) == ["code": "P-17", "name": secrets.name, "contact": secrets.contact])
        #expect(try bek.ok("list", "persons", "--where", "name=\(secrets.name)", "--json").array().map { $0["id"] as? String } == [person])
        #expect(try bek.ok("list", "persons", "--where", "name=\(secrets.imported)", "--json").array().count == 1)

        try Self.conflictOfASealedValue(person: person, ana: ana, bek: bek, secrets: secrets)
        try Self.exports(ana: ana, secrets: secrets)

        // The server never held a value: not in its store, its dump or backup, nor its log.
        if store == .sqlite {
            let backup = server.data.appendingPathComponent("backup.sqlite")
            #expect(try server.admin(["backup", backup.path]).code == 0)
        }
        let kept = try Self.serverBytes(server)
        for (path, data) in kept {
            for secret in secrets.all { #expect(!Self.holds(data, secret), "\(path) holds \(secret)") }
        }
        // The search would find a value that is not sensitive: the person's code is there in plain text.
        #expect(kept.contains { Self.holds($0.1, "P-17") })
        for secret in secrets.all { #expect(!server.logText.contains(secret)) }
        try await Self.nonMember(server, person: person)
    }

    /// Concurrent edits of a sealed name: a conflict on both replicas, shown opened, settled by Bek in his editor.
    static func conflictOfASealedValue(person: String, ana: Researcher, bek: Researcher, secrets: Secrets) throws {
        try ana.ok("edit", person, "--set", "name=\(secrets.anas)")
        try bek.ok("edit", person, "--set", "name=\(secrets.beks)")
        try ana.ok("sync")
        #expect(try bek.syncJSON()["conflicts"] as? Int == 1)
        let conflict = try #require(try bek.conflicts().first)
        #expect(conflict["field"] as? String == "name")
        let values = (conflict["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        #expect(Set(values) == [secrets.anas, secrets.beks], "\(conflict)")
        // Settled in the editor: it is shown the opened versions and their base with markers, and what
        // it saves is sealed again before it leaves (the server-side checks of the caller look for it).
        let editor = try bek.file("settle.sh", "#!/bin/sh\ncp \"$1\" \"$(dirname \"$0\")/seen.txt\"\nprintf '%s' '\(secrets.settled)' > \"$1\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: editor)
        let resolved = try Programs.run("casebook", ["resolve", conflict["id"] as? String ?? "", "--edit", "--home", bek.home.path],
                                        environment: ["EDITOR": editor, "VISUAL": ""])
        #expect(resolved.code == 0, "\(resolved.stderr)")
        let seen = try String(contentsOf: bek.home.appendingPathComponent("seen.txt"), encoding: .utf8)
        #expect(seen.contains("<<<<<<<") && seen.contains(secrets.anas) && seen.contains(secrets.beks) && seen.contains("||||||| base\n\(secrets.name)"),
                "\(seen)")
        try FileManager.default.removeItem(at: bek.home.appendingPathComponent("seen.txt"))
        try bek.ok("sync")
        _ = try ana.syncJSON()
        #expect(try ana.conflicts().isEmpty && bek.conflicts().isEmpty)
        let shown = try ana.ok("show", person, "--json").object()["fields"] as? [String: Any]
        #expect(shown?["name"] as? String == secrets.settled)
    }

    /// An export leaves sensitive fields out unless asked, and then warns.
    static func exports(ana: Researcher, secrets: Secrets) throws {
        let plain = try ana.ok("export", "persons")
        #expect(!plain.stdout.contains(secrets.contact) && plain.stderr.contains("--include-sensitive"))
        let full = try ana.ok("export", "persons", "--include-sensitive")
        #expect(full.stdout.contains(secrets.contact) && full.stdout.contains(secrets.settled))
        #expect(full.stderr.contains("warning:"))
    }

    /// A user of another project reads no key and writes none.
    static func nonMember(_ server: RunningServer, person: String) async throws {
        let created = try server.admin(["project", "create", "other"])
        #expect(created.code == 0, "\(created.stderr)")
        let added = try server.admin(["user", "add", "eve", "--project", "other", "--json"])
        let token = try #require(try added.object()["token"] as? String)
        for (path, body) in [("/v1/projects/kz/keys", nil), ("/v1/projects/kz/keys", Data(#"{"id":"0123456789abcdef","wraps":[]}"#.utf8)),
                             ("/v1/projects/kz/keys/0123456789abcdef/wraps", Data(#"{"wraps":[]}"#.utf8))] as [(String, Data?)] {
            var request = URLRequest(url: try #require(URL(string: "\(server.url)\(path)")))
            request.httpMethod = body == nil ? "GET" : "POST"
            request.httpBody = body
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 403, "\(path)")
        }
        let eve = Researcher("eve")
        defer { eve.cleanUp() }
        #expect(try eve.run("init", "--server", server.url, "--project", "kz", "--token", token, "--no-passphrase").code != 0)
    }
}

/// The project key's life: two members making it at once end with one, and both read each other's
/// values; after a device is revoked and a member removed, a rotation leaves them out.
@Suite(.serialized) struct ProjectKeyTests {
    @Test(arguments: StoreKind.allCases) func racingCreationConvergesAndRotationLeavesTheRevokedOut(store: StoreKind) async throws {
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let server = try RunningServer(store: store)
        let ana = Researcher("ana"), bek = Researcher("bek"), cem = Researcher("cem"), dan = Researcher("dan")
        defer { server.cleanUp(); [ana, bek, cem, dan].forEach { $0.cleanUp() } }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher"), ("cem", "researcher"), ("dan", "researcher")])
        try server.start()
        for person in [ana, bek, cem, dan] { try person.initialize(server: server, token: tokens[person.name]) }

        // Both make a key for their first sensitive edit, offline; both offer it at once: one wins.
        let anas = try ana.add("persons", ["code=A-1", "name=Ana's witness \(tag)"])
        let beks = try bek.add("persons", ["code=B-1", "name=Bek's witness \(tag)"])
        let (anaHome, bekHome) = (ana.home.path, bek.home.path)
        async let first = Task.detached { try Programs.run("casebook", ["sync", "--json", "--home", anaHome]) }.value
        async let second = Task.detached { try Programs.run("casebook", ["sync", "--json", "--home", bekHome]) }.value
        let results = try await [first, second]
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        // The loser's edit waits for the winner's key, which the winner grants.
        let (winner, loser) = (try results[0].object()["rejected"] as? Int) == 0 ? (ana, bek) : (bek, ana)
        #expect(try results.map { try $0.object()["rejected"] as? Int ?? -1 }.sorted() == [0, 1])
        try winner.ok("grant", loser.name)
        #expect(try loser.syncJSON()["rejected"] as? Int == 0)
        _ = try winner.syncJSON()
        for person in [ana, bek] {
            #expect(try SensitiveFieldTests.texts(person, anas)["name"] == "Ana's witness \(tag)")
            #expect(try SensitiveFieldTests.texts(person, beks)["name"] == "Bek's witness \(tag)")
        }

        // Cem and Dan get the key; then Cem's laptop is lost (device revoked) and Dan leaves (user revoked).
        try ana.ok("grant", "cem")
        try ana.ok("grant", "dan")
        for person in [cem, dan] {
            _ = try person.syncJSON()
            #expect(try SensitiveFieldTests.texts(person, anas)["name"] == "Ana's witness \(tag)")
        }
        let devices = try server.admin(["device", "list", "--project", "kz", "--json"]).object()["devices"] as? [[String: Any]] ?? []
        let cemsNode = try #require(devices.first { $0["owner"] as? String == "cem" }?["node"] as? String)
        #expect(try server.admin(["device", "revoke", cemsNode, "--project", "kz"]).code == 0)
        #expect(try server.admin(["user", "revoke", "dan"]).code == 0)

        let rotated = try ana.ok("rotate-key")
        #expect(rotated.stdout.contains("ana") && rotated.stdout.contains("bek") && !rotated.stdout.contains("cem") && !rotated.stdout.contains("dan"),
                "\(rotated.stdout)")
        try ana.ok("edit", anas, "--set", "name=Ana's witness, new address \(tag)")
        try ana.ok("sync")
        _ = try bek.syncJSON()
        #expect(try SensitiveFieldTests.texts(bek, anas)["name"] == "Ana's witness, new address \(tag)")
        // Cem's revoked replica still pulls, but cannot open what was written after the rotation.
        _ = try cem.syncJSON()
        let cems = try #require(try cem.ok("show", anas, "--json").object()["fields"] as? [String: Any])
        #expect(cems["name"] as? [String: Bool] == ["sealed": true])
        #expect(try cem.ok("log", anas, "--json").stdout.contains("Ana's witness \(tag)"))
    }
}
