import Foundation
import Logging
import PostgresNIO
import Shared

extension PostgresMigrations {
    /// Computes the digest and chain value of every stored change, project by project in sequence
    /// order, exactly as a push would have appended them (in the migration's transaction).
    static func chainStoredChanges(_ connection: PostgresConnection, logger: Logger) async throws {
        let projects = try await connection.query("SELECT id, name FROM project ORDER BY id", logger: logger).decode((Int64, String).self).collect()
        for (projectID, name) in projects {
            var head = LogChain.genesis
            var after: Int64 = 0
            // A thousand at a time, so a large log is not held in memory at once.
            while true {
                let rows = try await PostgresSyncStore.rows(connection.query("""
                    SELECT \(unescaped: PostgresSyncStore.changeColumns) FROM change
                    WHERE project_id = \(projectID) AND seq > \(after) ORDER BY seq LIMIT 1000
                    """, logger: logger))
                guard !rows.isEmpty else { break }
                let changes = try rows.map(PostgresSyncStore.loggedChange)
                let links = ChainLinks(changes, project: name, after: head)
                try await connection.query("""
                    UPDATE change SET digest = t.d, chain = t.c
                    FROM unnest(\(changes.map(\.seq))::bigint[], \(links.links.map(\.digestHex))::text[], \(links.links.map(\.chainHex))::text[]) AS t(s, d, c)
                    WHERE change.project_id = \(projectID) AND change.seq = t.s
                    """, logger: logger)
                head = links.head
                after = changes.last?.seq ?? after
            }
        }
    }
}
