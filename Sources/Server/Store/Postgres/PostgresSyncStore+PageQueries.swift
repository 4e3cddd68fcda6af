import Logging
import PostgresNIO
import Shared

// The page queries of pulls and snapshots, written so that their cost follows the page, whatever
// PostgreSQL believes about the tables.
//
// PostgreSQL plans from statistics, and a project's rows are often missing from them: a table
// never analysed since a bulk load (the planner then guesses a few hundred rows), or a new project
// on a server whose statistics were gathered before it existed (the planner then expects one row).
// Measured on 500,000 changes: planned from such guesses, the old joined query read every change
// of the project for each page of 10,000 (1.1 to 1.5 s a page, 40 s for a first pull that takes 12 s
// once statistics exist); in a copy of the tables, it joined each head row to every change (8 s a
// page), and the lookup of a page's signatures by `hlc = ANY(...)` filtered every change of the
// project against the list (78 s).
//
// So the queries leave the planner no such choice:
// - the project is given as `(SELECT id)`, a value the planner does not see: it plans for a project
//   of average size (the table over the number of projects) instead of trusting, or lacking, the
//   statistics of this one, and an index that narrows by project alone never looks free;
// - a page walks its index in order: sorting is switched off for the statement, so reading
//   everything and sorting it is never cheaper on paper;
// - each change is then found by its own key, one index probe per row (`LATERAL ... LIMIT 1` keeps
//   the probe from being turned back into a join the planner may misjudge).
// `PostgresPlanTests` puts a database in that state and counts the rows each plan reads;
// docs/performance.md, "PostgreSQL plans".
extension PostgresSyncStore {
    /// The changes of a pull page: the log after `after` in `seq` order, without the reader's own
    /// changes up to `skipping.upTo`, only of `classes` when the reader may not see them all.
    static func pullPageQuery(projectID: Int64, after: Int64, fetch: Int64, skipping: (upTo: Int64, node: String), classes: [String]?) -> PostgresQuery {
        // The node is the part of the HLC text after "MMMMMMMMMMMM-CCCC-" (character 19 on).
        if let classes {
            // One range of the class index per visible class, merged by seq: the cost follows what the reader may see.
            return """
                SELECT c.* FROM unnest(\(classes)::text[]) AS k(class) CROSS JOIN LATERAL (
                    SELECT \(unescaped: changeColumns) FROM change
                    WHERE project_id = (SELECT \(projectID)::bigint) AND access = k.class AND seq > \(after)
                      AND NOT (seq <= \(skipping.upTo) AND substr(hlc, 19) = \(skipping.node))
                    ORDER BY seq LIMIT \(fetch)) AS c
                ORDER BY c.seq LIMIT \(fetch)
                """
        }
        return """
            SELECT \(unescaped: changeColumns) FROM change
            WHERE project_id = (SELECT \(projectID)::bigint) AND seq > \(after) AND NOT (seq <= \(skipping.upTo) AND substr(hlc, 19) = \(skipping.node))
            ORDER BY seq LIMIT \(fetch)
            """
    }

    /// The current versions of a snapshot page: the heads after `after` in HLC order, only of
    /// `classes` when the reader may not see them all, each joined to its change by key.
    static func snapshotPageQuery(projectID: Int64, after: String, fetch: Int64, classes: [String]?) -> PostgresQuery {
        // The lateral subquery is named `change` so that `changeColumns` names its columns.
        if let classes {
            return """
                SELECT c.* FROM unnest(\(classes)::text[]) AS k(class) CROSS JOIN LATERAL (
                    SELECT \(unescaped: changeColumns) FROM (
                        SELECT hlc FROM head WHERE project_id = (SELECT \(projectID)::bigint) AND access = k.class AND hlc > \(after)
                        ORDER BY hlc LIMIT \(fetch)) AS page
                    CROSS JOIN LATERAL (
                        SELECT \(unescaped: changeColumns) FROM change WHERE change.project_id = (SELECT \(projectID)::bigint) AND change.hlc = page.hlc LIMIT 1
                    ) AS change
                    ORDER BY page.hlc) AS c
                ORDER BY c.hlc LIMIT \(fetch)
                """
        }
        return """
            SELECT \(unescaped: changeColumns) FROM (
                SELECT hlc FROM head WHERE project_id = (SELECT \(projectID)::bigint) AND hlc > \(after) ORDER BY hlc LIMIT \(fetch)) AS page
            CROSS JOIN LATERAL (
                SELECT \(unescaped: changeColumns) FROM change WHERE change.project_id = (SELECT \(projectID)::bigint) AND change.hlc = page.hlc LIMIT 1
            ) AS change
            ORDER BY page.hlc
            """
    }

    /// Runs a page query with sorting switched off for it (within the caller's transaction) and
    /// feeds its rows to `page` until it is full; the rest of the result is not decoded.
    static func readPage(_ page: inout PageCutter.Reader, _ query: PostgresQuery, _ db: PostgresConnection, logger: Logger) async throws {
        try await db.query(pageSettings, logger: logger)
        for try await row in try await db.query(query, logger: logger) {
            let (change, batch) = try loggedChangeAndBatch(row)
            guard page.take(change, batch: batch) else { break }
        }
        try await db.query("SET LOCAL enable_sort TO DEFAULT", logger: logger)
    }

    /// What a page query runs with (until the end of its transaction or the reset after it).
    static let pageSettings: PostgresQuery = "SET LOCAL enable_sort = off"

    /// The stored changes with these HLCs, each found by its key (one index probe per HLC, whatever
    /// the statistics say; see above).
    static func byHLC(_ hlcs: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT \(unescaped: changeColumns) FROM unnest(\(hlcs)::text[]) AS k(hlc) CROSS JOIN LATERAL (
            SELECT \(unescaped: changeColumns) FROM change WHERE change.project_id = (SELECT \(projectID)::bigint) AND change.hlc = k.hlc LIMIT 1
        ) AS change
        """
    }

    /// The signed batches with these ids.
    static func batchesQuery(ids: [String], projectID: Int64) -> PostgresQuery {
        "SELECT id, node, digests, signature FROM batch WHERE project_id = \(projectID) AND id = ANY(\(ids)::text[])"
    }

    /// The ids of the signed batches that hold the changes with these HLCs, each change found by its key.
    static func batchIDsQuery(_ hlcs: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT DISTINCT c.batch FROM unnest(\(hlcs)::text[]) AS k(hlc) CROSS JOIN LATERAL (
            SELECT batch FROM change WHERE project_id = (SELECT \(projectID)::bigint) AND hlc = k.hlc LIMIT 1) AS c
        WHERE c.batch IS NOT NULL
        """
    }
}
