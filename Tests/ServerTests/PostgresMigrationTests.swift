import Foundation
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The PostgreSQL store's schema migrations.
@Suite struct PostgresMigrationTests {
    @Test func instancesStartingAtOnceMigrateOnceAndBothWork() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        // Four instances start at the same moment on an empty database.
        let stores = try await withThrowingTaskGroup(of: PostgresSyncStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresSyncStore.open(url: database.url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let applied = try database.psql("SELECT version FROM casebook_migration ORDER BY version")
        #expect(applied.split(separator: "\n") == PostgresSchema.migrations.map { "\($0.version)"[...] })
        // Each works against the one schema: a project made through one is seen by another.
        try await stores[0].whileRunning { try await stores[0].createProject(name: "kz", schema: .upr, now: 1) }
        let seen = try await stores[3].whileRunning { try await stores[3].schema(project: "kz") }
        #expect(seen?.name == "upr")
    }

    @Test func aVersion1DatabaseKeepsItsHeadsAndConflictsAndTakesPushesAfterTheUpgrade() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        var ana = ChangeMaker(node: "000000000000000a"), ben = ChangeMaker(node: "000000000000000b")
        let created = ana.change(recordA, "title", .text("Protest"))
        let anaEdit = ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)
        let benEdit = ben.change(recordA, "title", .text("Rally"), base: created.hlc)
        let other = ben.change(recordB, "title", .text("Hearing"))
        let conflict = Conflict(collection: "incidents", record: recordA, field: "title", versions: [Version(anaEdit), Version(benEdit)])

        // A database as version 1 left it: the log, the heads by record id, the records, an open conflict.
        func literal(_ text: String?) -> String { text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL" }
        var sql = PostgresSchema.migrations[0].sql + """
            ;
            CREATE TABLE casebook_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
            INSERT INTO casebook_migration VALUES (1, 'tables', 0);
            INSERT INTO project (id, name, schema, last_seq, created_at) VALUES (1, 'kz', \(literal(String(decoding: try Schema.upr.jsonData(), as: UTF8.self))), 4, 0);
            """
        for (offset, change) in [created, anaEdit, benEdit, other].enumerated() {
            let stored = StoredChange(change)
            sql += """
                INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at)
                VALUES (1, \(offset + 1), \(literal(stored.hlc)), \(literal(stored.collection)), \(literal(stored.record)), \(literal(stored.field)),
                        \(literal(stored.value)), \(literal(stored.author)), \(literal(stored.base)), \(literal(stored.supersedes)), \(literal(stored.covers)), 0);

                """
        }
        for (record, hlc) in [(recordA, anaEdit.hlc), (recordA, benEdit.hlc), (recordB, other.hlc)] {
            sql += "INSERT INTO head (project_id, record, field, hlc) VALUES (1, '\(record)', 'title', '\(hlc.text)');\n"
        }
        sql += "INSERT INTO record (project_id, id, collection) VALUES (1, '\(recordB)', 'incidents'), (1, '\(recordA)', 'incidents');\n"
        let state = String(decoding: try JSONEncoder().encode(Wire.ConflictState(conflict: conflict, open: true)), as: UTF8.self)
        sql += "INSERT INTO conflict (project_id, record, field, state, seq) VALUES (1, '\(recordA)', 'title', \(literal(state)), 3);\n"
        _ = try database.psql(sql)

        // The conflict is still there for the planner after the upgrade: resolving it closes it, for every puller.
        let parents = FieldState(heads: conflict.versions).resolutionParents
        let resolution = ana.change(recordA, "title", .text("Protest in Almaty"), base: parents.base, supersedes: parents.supersedes)
        let edit = ben.change(recordB, "title", .text("Hearing in Astana"), base: other.hlc)
        let fresh = ana.change(recordC, "title", .text("Detention"))
        let store = try await PostgresSyncStore.open(url: database.url)
        try await store.whileRunning {
            let snapshot = try await store.snapshot(project: "kz", after: nil, limit: 100)
            #expect(Set(snapshot.changes.map(\.change.hlc)) == [anaEdit.hlc, benEdit.hlc, other.hlc])
            let results = try await store.push(project: "kz", changes: [resolution, edit, fresh], author: "ana",
                                               policy: PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000))
            #expect(results.map(\.status) == [.applied, .applied, .applied])
            let after = try await store.snapshot(project: "kz", after: nil, limit: 100)
            #expect(Set(after.changes.map(\.change.hlc)) == [resolution.hlc, edit.hlc, fresh.hlc])
            let page = try await store.pull(project: "kz", after: 4, limit: 10)
            #expect(page.changes.map(\.seq) == [5, 6, 7])
            #expect(page.conflicts.map(\.open) == [false])
        }
        #expect(try database.psql("SELECT version FROM casebook_migration ORDER BY version").split(separator: "\n") == ["1", "2"])
    }

    @Test func aDatabaseFromANewerServerIsRefusedNotUsed() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        _ = try await PostgresSyncStore.open(url: database.url)
        _ = try database.psql("INSERT INTO casebook_migration (version, name, applied_at) VALUES (999, 'from the future', 0)")
        await #expect {
            _ = try await PostgresSyncStore.open(url: database.url)
        } throws: { error in
            "\(error)".contains("newer casebook-server (schema version 999")
        }
    }

    @Test func pooledConnectionsCarryTheTimeLimitsSoTheDatabaseStopsWhatTheServerGaveUpOn() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        var settings = PostgresSyncStore.Settings()
        settings.operationTimeout = .seconds(7)
        let store = try await PostgresSyncStore.open(url: database.url, settings: settings)
        let names = ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "application_name"]
        let values = try await store.whileRunning {
            var values: [String?] = []
            for name in names { values.append(try await store.sessionSetting(name)) }
            return values
        }
        #expect(values == ["7s", "7s", "14s", "casebook-server"])
    }
}

/// Database URLs, as a coordinator writes them (no database needed).
@Suite struct PostgresLocationTests {
    @Test func urlsAreReadLikeLibpqReadsThem() throws {
        let location = try PostgresLocation(url: "postgresql://u%40org:a%2541b@db.internal:6543/case%20book?sslmode=require")
        #expect(location.username == "u@org")
        #expect(location.password == "a%41b")
        #expect(location.host == "db.internal" && location.port == 6543)
        #expect(location.database == "case book")
        #expect(location.tlsMode == .require)
        #expect(!location.redacted.contains("a%41b"))
        let defaults = try PostgresLocation(url: "postgres://ana@localhost")
        #expect(defaults.port == 5432 && defaults.database == "ana" && defaults.tlsMode == .prefer && defaults.password == nil)
    }

    @Test func badURLsSayWhatIsWrong() {
        let cases = [
            ("mysql://u@h/db", "must start with postgres://"),
            ("postgres:///db", "names no host"),
            ("postgres://h/db", "names no user"),
            ("postgres://u@h/db?sslmode=maybe", "sslmode 'maybe' is not supported"),
            ("postgres://u@h/db?ssl=1", "option 'ssl' is not supported"),
        ]
        for (url, message) in cases {
            #expect(throws: StoreError.self) { try PostgresLocation(url: url) }
            do {
                _ = try PostgresLocation(url: url)
            } catch {
                #expect("\(error)".contains(message), "\(url): \(error)")
            }
        }
    }
}
