import Foundation
import GRDB
import TestSupport
import Testing
@testable import Server

/// A server whose log is rewritten after a replica pulled it (a seized server, a compelled
/// operator): the replica's next sync stops with exit 1 and applies nothing (docs/security.md).
@Suite struct RewrittenLogTests {
    enum Rewrite: String, CaseIterable, Sendable {
        /// A value the replica already received is changed, and the chain recomputed to match.
        case alterSeen
        /// An entry the replica already received is deleted, and the chain recomputed.
        case deleteSeen
        /// Two entries the replica already received trade places, and the chain is recomputed.
        case swapSeen
        /// The log is cut back before the replica's cursor, and pushes carry on from there.
        case truncate
        /// An entry the replica has not received yet is changed, the chain left as it was.
        case alterUnseen
    }

    @Test(arguments: StoreKind.allCases, Rewrite.allCases)
    func aLogRewrittenAfterAReplicaPulledItStopsItsNextSync(store: StoreKind, rewrite: Rewrite) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        for number in 1...3 { _ = try ana.add("incidents", ["title=Incident \(number)"]) }
        try ana.ok("sync")
        try bek.ok("sync")
        let seen = try Int64(#require(Int64(sql(team.server, "SELECT last_seq FROM project WHERE name = 'kz'"))))
        _ = try ana.add("incidents", ["title=After the pull"])
        try ana.ok("sync")
        let before = try bek.export("incidents")

        switch rewrite {
        case .alterSeen:
            _ = try sql(team.server, "UPDATE change SET value = 't:Rewritten' WHERE seq = 1")
            try rechain(team.server)
        case .deleteSeen:
            _ = try sql(team.server, "DELETE FROM change WHERE seq = 2")
            try rechain(team.server)
        case .swapSeen:
            _ = try sql(team.server, "UPDATE change SET seq = -seq WHERE seq IN (1, 2)")
            _ = try sql(team.server, "UPDATE change SET seq = CASE seq WHEN -1 THEN 2 ELSE 1 END WHERE seq < 0")
            try rechain(team.server)
        case .truncate:
            _ = try sql(team.server, "DELETE FROM change WHERE seq >= \(seen)")
            _ = try sql(team.server, "UPDATE project SET last_seq = \(seen - 1)")
            // The replica's cursor is now beyond the log: refused (a server restored from an older backup).
            let early = try bek.run("sync")
            #expect(early.code == 1, "\(early.stderr)")
            // The server carries on: new changes take the numbers the replica already verified.
            _ = try ana.add("incidents", ["title=After the cut"])
            _ = try ana.run("sync")
            _ = try ana.add("incidents", ["title=After the cut, again"])
            _ = try ana.run("sync")
        case .alterUnseen:
            _ = try sql(team.server, "UPDATE change SET value = 't:Rewritten' WHERE seq = \(seen + 1)")
        }

        let sync = try bek.run("sync")
        #expect(sync.code == 1, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stderr.contains("error: the server at"), "\(sync.stderr)")
        #expect(sync.stderr.contains("does not extend what this replica already verified"), "\(sync.stderr)")
        #expect(try bek.export("incidents") == before)
        // It stays refused: the replica keeps the head it verified.
        #expect(try bek.run("sync").code == 1)
    }

    @Test(arguments: StoreKind.allCases) func aReplicaMadeWithFullHistoryChecksWhatASnapshotTakesOnTrust(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let first = try ana.add("incidents", ["title=Incident 1"])
        for number in 2...3 { _ = try ana.add("incidents", ["title=Incident \(number)"]) }
        try ana.ok("sync")
        try ana.ok("edit", first, "--set", "title=Incident 1, revised")
        try ana.ok("sync")
        #expect(try sql(team.server, "SELECT value FROM change WHERE seq = 1") == "t:Incident 1")
        // The first title, since superseded, rewritten without recomputing the chain: the stored
        // value no longer matches its entry. (A current version rewritten would fail its signature
        // in the snapshot too; a superseded one is in no snapshot.)
        _ = try sql(team.server, "UPDATE change SET value = 't:Rewritten' WHERE seq = 1")
        // A new replica joining from the snapshot takes the current records and the chain's value on trust.
        try bek.ok("sync")
        // One made with --full-history checks every entry from the first.
        let full = Researcher("bek-full")
        defer { full.cleanUp() }
        try full.ok("init", "--server", team.server.url, "--project", "kz", "--token", team.tokens["bek"] ?? "", "--full-history")
        let sync = try full.run("sync")
        #expect(sync.code == 1, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stderr.contains("do not lead to the chain value the server gives"), "\(sync.stderr)")
        #expect(!(try full.export("incidents")).contains("Incident"))
    }

    /// Runs a statement on the server's store and returns its output.
    func sql(_ server: RunningServer, _ statement: String) throws -> String {
        if let database = server.database { return try database.psql(statement).trimmingCharacters(in: .whitespacesAndNewlines) }
        let queue = try DatabaseQueue(path: server.data.appendingPathComponent("casebook.sqlite").path)
        return try queue.write { db in
            if statement.hasPrefix("SELECT") { return try String.fetchOne(db, sql: statement) ?? "" }
            try db.execute(sql: statement)
            return ""
        }
    }

    /// Recomputes the digest and chain value of every entry, as an attacker who knows the scheme
    /// does after rewriting (the chain has no secret): the server's own migration code.
    func rechain(_ server: RunningServer) throws {
        if let database = server.database {
            _ = try database.psql("""
                ALTER TABLE change DROP COLUMN digest; ALTER TABLE change DROP COLUMN chain;
                DELETE FROM casebook_migration WHERE version = \(PostgresMigrations.chainMigration);
                """)
            // Any command that opens the store applies the migration again.
            let opened = try server.admin(["project", "create", "rechained"])
            #expect(opened.code == 0, "\(opened.stderr)")
            return
        }
        let queue = try DatabaseQueue(path: server.data.appendingPathComponent("casebook.sqlite").path)
        try queue.write { db in
            try SQLiteMigrations.chainStoredChanges(db)
            try SQLiteMigrations.chainValuesAsBytes(db)
        }
    }
}
