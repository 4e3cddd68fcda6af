import Foundation
import PostgresNIO
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The PostgreSQL store's page queries read what the page needs, whatever the planner's statistics
/// say. The database is put in the state that made the old queries read every change of a project
/// for each page: statistics gathered while only another project existed, then a project loaded in
/// bulk (a new team on a running server). Each query is run under `EXPLAIN ANALYZE`, as the store
/// runs it, and no step of its plan may read or discard more rows than a few pages' worth. Row
/// counts, not times: the same on a loaded machine.
@Suite struct PostgresPlanTests {
    static let fetch: Int64 = 101

    @Test func pagesAndLookupsReadWhatThePageNeedsOnAProjectTheStatisticsHaveNotSeen() async throws {
        try await Self.checkPlans { database in
            // Statistics of another project only; then the new one is loaded.
            _ = try database.psql(Self.rows(project: 1, count: 3_000, node: "00000000000000aa"))
            _ = try database.psql("ANALYZE")
        }
    }

    @Test func pagesAndLookupsReadWhatThePageNeedsOnTablesNeverAnalysed() async throws {
        // A bulk load the statistics have not caught up with: VACUUM counts the rows, nothing analyses them.
        try await Self.checkPlans(after: ["VACUUM change", "VACUUM head", "VACUUM record"]) { _ in }
    }

    /// Makes projects `old` (1) and `kz` (2) with autovacuum off, runs `before`, loads 30,000 changes
    /// into `kz`, runs `after`, and checks every query's plan, run as the store runs it.
    static func checkPlans(after: [String] = [], before: @escaping @Sendable (TestPostgres.Database) throws -> Void) async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        let store = try await PostgresSyncStore.open(url: database.url, logger: ServerHarness.logger)
        let explained = try await store.whileRunning {
            try await store.createProject(name: "old", schema: .upr, now: 1)
            try await store.createProject(name: "kz", schema: .upr, now: 1)
            let ids = try await store.statement { db, logger in
                try await db.query("SELECT name, id FROM project", logger: logger).decode((String, Int64).self).collect()
            }
            let kz = try #require(ids.first { $0.0 == "kz" }?.1)
            #expect(ids.first { $0.0 == "old" }?.1 == 1)
            _ = try database.psql("ALTER TABLE change SET (autovacuum_enabled = off); ALTER TABLE head SET (autovacuum_enabled = off); "
                                  + "ALTER TABLE record SET (autovacuum_enabled = off)")
            try before(database)
            _ = try database.psql(Self.rows(project: kz, count: 30_000, node: "00000000000000bb"))
            for statement in after { _ = try database.psql(statement) }
            var plans: [(String, String)] = []
            for (name, query) in Self.queries(kz) { plans.append((name, try await Self.explain(query, store))) }
            return plans
        }
        #expect(explained.count == 12)
        for (name, text) in explained {
            let plan = try Self.plan(text)
            let heavy = Self.heavySteps(plan, limit: 3 * Int(Self.fetch))
            #expect(heavy.isEmpty, "\(name): \(heavy.joined(separator: "; "))")
            #expect(plan["Actual Rows"] is NSNumber, "\(name): the plan carries no row counts")
        }
    }

    /// The queries of a pull, a snapshot and their lookups on project `kz`, by name.
    static func queries(_ kz: Int64) -> [(String, PostgresQuery)] {
        let middle = (10_000..<10_100).map { Self.hlc($0, node: "00000000000000bb") }
        let records = (2_000..<2_020).map { "r\($0)" }
        return [
            ("snapshot, first page", PostgresSyncStore.snapshotPageQuery(projectID: kz, after: "", fetch: fetch, classes: nil)),
            ("snapshot, a middle page", PostgresSyncStore.snapshotPageQuery(projectID: kz, after: middle[0], fetch: fetch, classes: nil)),
            ("snapshot, by access class", PostgresSyncStore.snapshotPageQuery(projectID: kz, after: "", fetch: fetch, classes: [""])),
            ("pull, first page", PostgresSyncStore.pullPageQuery(projectID: kz, after: 0, fetch: fetch, skipping: (0, ""), classes: nil)),
            ("pull, a middle page", PostgresSyncStore.pullPageQuery(projectID: kz, after: 10_000, fetch: fetch, skipping: (0, ""), classes: nil)),
            ("pull, by access class", PostgresSyncStore.pullPageQuery(projectID: kz, after: 0, fetch: fetch, skipping: (0, ""), classes: [""])),
            ("changes by HLC", PostgresSyncStore.byHLC(middle, projectID: kz)),
            ("the signed batches of changes by HLC", PostgresSyncStore.batchIDsQuery(middle, projectID: kz)),
            ("a page's signed batches", PostgresSyncStore.batchesQuery(ids: (100..<102).map { "b\($0)" }, projectID: kz)),
            ("a push's records", PostgresSyncStore.recordsQuery(records, projectID: kz)),
            ("a push's heads", PostgresSyncStore.headsQuery(records, projectID: kz)),
            ("a push's parents", PostgresSyncStore.parentsQuery(middle, projectID: kz)),
        ]
    }

    /// An HLC's text: 12 hex digits of time, counter 0, `node`.
    static func hlc(_ time: Int, node: String) -> String { String(format: "%012x-0000-", time) + node }

    /// SQL that adds `count` changes of 5 fields per record (each naming the change 5 before it as its
    /// base), the record rows, and each change as its field's current version.
    static func rows(project: Int64, count: Int, node: String) -> String {
        let hlc = "lpad(to_hex(i), 12, '0') || '-0000-\(node)'"
        return """
            INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, received_at, batch)
            SELECT \(project), i, \(hlc), 'incidents', 'r' || (i / 5), 'f' || (i % 5), 't:x', 'ana', 0, 'b' || (i / 100)
            FROM generate_series(1, \(count)) AS i;
            INSERT INTO head (project_id, record, field, hlc)
            SELECT \(project), 'r' || (i / 5), 'f' || (i % 5), \(hlc) FROM generate_series(1, \(count)) AS i;
            INSERT INTO record (project_id, id, collection) SELECT DISTINCT \(project), 'r' || (i / 5), 'incidents' FROM generate_series(1, \(count)) AS i;
            UPDATE change SET base = lpad(to_hex(seq - 5), 12, '0') || '-0000-\(node)' WHERE project_id = \(project) AND seq > 5;
            """
    }

    /// The plan of `query` as the store runs it (in a transaction, with the page settings), with row counts.
    static func explain(_ query: PostgresQuery, _ store: PostgresSyncStore) async throws -> String {
        try await store.transaction(readOnly: true) { db, logger in
            try await db.query(PostgresSyncStore.pageSettings, logger: logger)
            let explained = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, binds: query.binds)
            var texts: [String] = []
            for try await row in try await db.query(explained, logger: logger) {
                if var bytes = row.makeRandomAccess()[0].bytes { texts.append(bytes.readString(length: bytes.readableBytes) ?? "") }
            }
            return texts.joined()
        }
    }

    /// The top step of an `EXPLAIN (FORMAT JSON)` text.
    static func plan(_ text: String) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
        return try #require(parsed?.first?["Plan"] as? [String: Any])
    }

    /// Every step of a plan, depth first.
    static func steps(_ plan: [String: Any]) -> [[String: Any]] {
        [plan] + ((plan["Plans"] as? [[String: Any]]) ?? []).flatMap(steps)
    }

    /// The steps that produce or discard more than `limit` rows in all, described.
    static func heavySteps(_ plan: [String: Any], limit: Int) -> [String] {
        steps(plan).compactMap { step in
            // Numbers as PostgreSQL writes them (averages per loop may have decimals in later versions).
            func number(_ key: String) -> Double { (step[key] as? NSNumber)?.doubleValue ?? 0 }
            let loops = max(number("Actual Loops"), 1)
            let produced = Int(number("Actual Rows") * loops)
            let discarded = Int(["Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck"]
                .map { number($0) * loops }.reduce(0, +))
            guard produced > limit || discarded > limit else { return nil }
            return "\(step["Node Type"] ?? "?") on \(step["Relation Name"] ?? step["Alias"] ?? "-") (\(step["Index Name"] ?? "no index"), \(step["Index Cond"] ?? "")): \(produced) rows, \(discarded) discarded"
        }
    }
}
