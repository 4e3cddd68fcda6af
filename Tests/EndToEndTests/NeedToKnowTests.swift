import Foundation
import TestSupport
import Testing

/// Need-to-know end to end, on both stores, with the real programs: a record restricted to a group
/// never reaches a non-member's replica (its database files searched byte by byte, not only `list`);
/// leaving the group removes it at the next sync, with a note naming the pending edits dropped;
/// joining again brings it back with its history; an admin reads everything.
@Suite(.serialized) struct NeedToKnowTests {
    /// Whether any file under the replica's folder holds `needle`.
    static func holds(_ person: Researcher, _ needle: String) -> Bool {
        guard let walker = FileManager.default.enumerator(at: person.home, includingPropertiesForKeys: nil) else { return false }
        for case let url as URL in walker {
            if let data = FileManager.default.contents(atPath: url.path), data.range(of: Data(needle.utf8)) != nil { return true }
        }
        return false
    }

    /// A server with the group `witnesses` (Ana in it), and the replicas of Ana, Bek (unencrypted) and Olga (an admin); returns the tokens.
    @discardableResult
    static func start(_ server: RunningServer, _ ana: Researcher, _ bek: Researcher, _ olga: Researcher) throws -> [String: String] {
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher"), ("olga", "admin")])
        try server.start()
        // Group commands work while serve runs.
        for arguments in [["group", "add", "witnesses", "--project", "kz"], ["group", "add-member", "witnesses", "ana", "--project", "kz"]] {
            let result = try server.admin(arguments)
            #expect(result.code == 0, "\(result.stderr)")
        }
        let listed = try server.admin(["group", "list", "--project", "kz", "--json"])
        #expect(listed.stdout.contains(#""members":["ana"]"#) && listed.stdout.contains(#""name":"witnesses""#), "\(listed.stdout)")
        try ana.initialize(server: server, token: tokens["ana"])
        // Bek's replica is left unencrypted, so that its files can be searched for the secret's bytes.
        try bek.ok("init", "--server", server.url, "--project", "kz", "--token", tokens["bek"] ?? "", "--no-passphrase")
        try olga.initialize(server: server, token: tokens["olga"])
        return tokens
    }

    @Test(arguments: StoreKind.allCases) func aRestrictedRecordReachesMembersOnlyAndLeavesWithTheirAccess(store: StoreKind) throws {
        let secret = "Statement of Aigerim-\(String(UUID().uuidString.prefix(8)).lowercased())"
        let server = try RunningServer(store: store)
        let ana = Researcher("ana"), bek = Researcher("bek"), olga = Researcher("olga")
        defer { server.cleanUp(); [ana, bek, olga].forEach { $0.cleanUp() } }
        try Self.start(server, ana, bek, olga)

        let restricted = try ana.ok("add", "incidents", "--set", "title=\(secret)", "--access", "witnesses", "--json").object()["id"] as? String ?? ""
        let open = try ana.add("incidents", ["title=Arrest at the square"])
        try ana.ok("sync")
        #expect(try ana.ok("show", restricted, "--json").object()["access"] as? [String] == ["witnesses"])
        // A misspelt group: the server refuses the access, and the record's values stay on Ana's replica (twice).
        let misspelt = try ana.ok("add", "incidents", "--set", "title=Address of \(secret)", "--access", "witnesess", "--json").object()["id"] as? String ?? ""
        for _ in 0..<2 { #expect(try ana.syncJSON()["rejected"] as? Int == 2) }

        _ = try bek.syncJSON()
        #expect(try bek.run("show", restricted).code != 0)
        #expect(try bek.run("show", misspelt).code != 0)
        let exported = try bek.export("incidents")
        #expect(!exported.contains(secret) && exported.contains(open))
        #expect(try bek.ok("list", "incidents", "--json").array().map { $0["id"] as? String } == [open])
        #expect(try bek.conflicts().isEmpty)
        #expect(!Self.holds(bek, secret))
        // The admin reads everything.
        _ = try olga.syncJSON()
        #expect(try olga.ok("show", restricted, "--json").object()["access"] as? [String] == ["witnesses"])

        try Self.joinAndLeave(server, ana: ana, bek: bek, restricted: restricted, open: open, secret: secret)
    }

    /// Bek joins the group and leaves it with an edit pending; Ana restricts the team's record and opens it again.
    static func joinAndLeave(_ server: RunningServer, ana: Researcher, bek: Researcher, restricted: String, open: String, secret: String) throws {
        // Bek joins the group: the record arrives with its history.
        #expect(try server.admin(["group", "add-member", "witnesses", "bek", "--project", "kz"]).code == 0)
        _ = try bek.syncJSON()
        #expect(try bek.ok("log", restricted, "--json").array().contains { ($0["field"] as? String) == "title" })
        #expect(Self.holds(bek, secret))
        try bek.ok("edit", restricted, "--set", "title=\(secret), revised")

        // He leaves it with an edit pending: the next sync removes the record and drops the edit.
        #expect(try server.admin(["group", "remove-member", "witnesses", "bek", "--project", "kz"]).code == 0)
        let left = try bek.ok("sync", "--json")
        #expect(try left.object()["removed"] as? Int == 1)
        #expect(left.stderr.contains("dropped 1 pending edit"), "\(left.stderr)")
        #expect(try bek.run("show", restricted).code != 0)
        #expect(try bek.ok("status", "--json").stdout.contains(restricted) == false)
        #expect(!Self.holds(bek, secret))
        #expect(try ana.ok("sync", "--json").object()["removed"] as? Int == 0)
        let shown = try ana.ok("show", restricted, "--json").stdout
        #expect(shown.contains(secret) && !shown.contains("revised"))

        // Ana restricts the open record: it leaves Bek's replica too; back to the team, it returns with its history.
        try ana.ok("restrict", open, "--to", "witnesses")
        try ana.ok("sync")
        #expect(try bek.syncJSON()["removed"] as? Int == 1)
        #expect(try bek.run("show", open).code != 0)
        try ana.ok("restrict", open, "--team")
        try ana.ok("sync")
        _ = try bek.syncJSON()
        #expect(try bek.ok("log", open, "--json").array().count >= 3)
    }
}
