import Foundation
import GRDB
import Shared
import TestSupport
import Testing

/// Need-to-know with the log's hash chain, end to end on both stores: whoever may not read a record
/// gets only the digests of its changes and of membership events, verifies the chain with them
/// (page by page, and from the first entry with `--full-history`), and holds none of the record's
/// bytes; a server that drops or alters a membership event's entry is found out at the next sync.
@Suite(.serialized) struct NeedToKnowChainTests {
    @Test(arguments: StoreKind.allCases) func aRemovedMemberAndAnOutsiderVerifyTheChainAndHoldNothingHidden(store: StoreKind) throws {
        let secret = "Statement of Dana-\(String(UUID().uuidString.prefix(8)).lowercased())"
        let server = try RunningServer(store: store)
        let ana = Researcher("ana"), bek = Researcher("bek"), olga = Researcher("olga"), outsider = Researcher("bek-full")
        defer { server.cleanUp(); [ana, bek, olga, outsider].forEach { $0.cleanUp() } }
        let tokens = try NeedToKnowTests.start(server, ana, bek, olga)
        let restricted = try ana.ok("add", "incidents", "--set", "title=\(secret)", "--access", "witnesses", "--json").object()["id"] as? String ?? ""
        let open = try ana.add("incidents", ["title=Arrest at the square"])
        try ana.ok("sync")
        #expect(try server.admin(["group", "add-member", "witnesses", "bek", "--project", "kz"]).code == 0)
        _ = try bek.syncJSON()
        #expect(NeedToKnowTests.holds(bek, secret))

        // (a) Bek leaves the group: his next sync removes the record, verifying the chain across the
        // membership event and the record's later, hidden changes.
        #expect(try server.admin(["group", "remove-member", "witnesses", "bek", "--project", "kz"]).code == 0)
        try ana.ok("edit", restricted, "--set", "title=\(secret), revised")
        try ana.ok("sync")
        #expect(try bek.syncJSON()["removed"] as? Int == 1)
        #expect(try bek.run("show", restricted).code != 0)
        _ = try ana.add("incidents", ["title=Release on bail"])
        try ana.ok("sync")
        let later = try bek.run("sync")
        #expect(later.code == 0, "\(later.stderr)")
        try bek.ok("verify")
        #expect(!NeedToKnowTests.holds(bek, secret))

        // (b) An outsider's replica made with --full-history checks every entry from the first: the
        // hidden changes and the membership events by their digests alone.
        try outsider.ok("init", "--server", server.url, "--project", "kz", "--token", tokens["bek"] ?? "", "--no-passphrase", "--full-history")
        let full = try outsider.run("sync")
        #expect(full.code == 0, "\(full.stderr)")
        try outsider.ok("verify")
        let exported = try outsider.export("incidents")
        #expect(exported.contains(open) && !exported.contains(restricted) && !exported.contains(secret))
        #expect(!NeedToKnowTests.holds(outsider, secret))
        #expect(!NeedToKnowTests.holds(outsider, restricted))
    }

    enum Rewrite: String, CaseIterable, Sendable {
        /// A membership event the replica already passed is changed (another user's join), and the chain recomputed.
        case alterSeen
        /// A membership event the replica already passed is deleted, and the chain recomputed.
        case dropSeen
        /// A membership event the replica has not passed yet is changed, the chain left as it was.
        case alterUnseen
        /// A membership event the replica has not passed yet is deleted, the chain left as it was.
        case dropUnseen
    }

    @Test(arguments: StoreKind.allCases, Rewrite.allCases)
    func aMembershipEventDroppedOrAlteredStopsTheNextSync(store: StoreKind, rewrite: Rewrite) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        for arguments in [["group", "add", "witnesses"], ["group", "add-member", "witnesses", "bek"]] {
            #expect(try team.server.admin(arguments + ["--project", "kz"]).code == 0)
        }
        _ = try ana.add("incidents", ["title=Incident 1"])
        try ana.ok("sync")
        try bek.ok("sync")
        #expect(try team.server.admin(["group", "remove-member", "witnesses", "bek", "--project", "kz"]).code == 0)
        _ = try ana.add("incidents", ["title=After the departure"])
        try ana.ok("sync")
        let events = try Self.sql(team.server, "SELECT seq FROM access_event WHERE digest IS NOT NULL ORDER BY seq")
            .split(separator: "\n").compactMap { Int64($0) }
        try #require(events.count == 2)
        let before = try bek.export("incidents")

        let (seen, unseen) = (events[0], events[1])
        func forged(_ seq: Int64) -> String { ChangeDigest(membershipOf: "ana", group: "witnesses", joined: true, seq: seq, nonce: ChangeDigest.membershipNonce(), project: "kz").hex }
        switch rewrite {
        case .alterSeen:
            _ = try Self.sql(team.server, "UPDATE access_event SET digest = \(Self.bytes(forged(seen), team.server)) WHERE seq = \(seen) AND digest IS NOT NULL")
            try Self.rechain(team.server)
        case .dropSeen:
            _ = try Self.sql(team.server, "DELETE FROM access_event WHERE seq = \(seen)")
            try Self.rechain(team.server)
        case .alterUnseen:
            _ = try Self.sql(team.server, "UPDATE access_event SET digest = \(Self.bytes(forged(unseen), team.server)) WHERE seq = \(unseen) AND digest IS NOT NULL")
        case .dropUnseen:
            _ = try Self.sql(team.server, "DELETE FROM access_event WHERE seq = \(unseen)")
        }

        let sync = try bek.run("sync")
        #expect(sync.code == 1, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stderr.contains("does not extend what this replica already verified"), "\(sync.stderr)")
        #expect(try bek.export("incidents") == before)
        #expect(try bek.run("sync").code == 1)
    }

    /// Runs a statement on the server's store and returns its output (rows as lines, columns joined by '|').
    /// A digest or chain value, given as hex, as the server's store keeps it: bytes in the embedded
    /// store, hex text in PostgreSQL.
    static func bytes(_ hex: String, _ server: RunningServer) -> String {
        server.database == nil ? "X'\(hex)'" : "'\(hex)'"
    }

    static func sql(_ server: RunningServer, _ statement: String) throws -> String {
        if let database = server.database { return try database.psql(statement).trimmingCharacters(in: .whitespacesAndNewlines) }
        let queue = try DatabaseQueue(path: server.data.appendingPathComponent("casebook.sqlite").path)
        return try queue.write { db in
            guard statement.hasPrefix("SELECT") else {
                try db.execute(sql: statement)
                return ""
            }
            return try Row.fetchAll(db, sql: statement).map { row in
                (0..<row.count).map { column -> String in
                    switch (row[column] as DatabaseValue).storage {
                    case .int64(let number): String(number)
                    case .string(let text): text
                    case .blob(let data): Hex.encode(Array(data))
                    default: ""
                    }
                }.joined(separator: "|")
            }.joined(separator: "\n")
        }
    }

    /// Recomputes the chain value of every entry (changes and membership events) from the stored
    /// digests, as an attacker who knows the scheme does after rewriting (the chain has no secret).
    static func rechain(_ server: RunningServer) throws {
        let rows = try sql(server, """
            SELECT seq, digest, 'change' FROM change UNION ALL SELECT seq, digest, 'event' FROM access_event WHERE digest IS NOT NULL ORDER BY 1
            """).split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
        var value = LogChain.genesis, updates: [String] = []
        for row in rows {
            let seq = try #require(Int64(row[0])), digest = try #require(ChangeDigest(hex: row[1]))
            value = value.appending(seq: seq, digest: digest)
            updates.append("UPDATE \(row[2] == "change" ? "change" : "access_event") SET chain = \(bytes(value.hex, server)) WHERE seq = \(seq)"
                           + (row[2] == "change" ? "" : " AND digest IS NOT NULL"))
        }
        if server.database != nil {
            _ = try sql(server, updates.joined(separator: "; "))
        } else {
            for update in updates { _ = try sql(server, update) }
        }
    }
}
