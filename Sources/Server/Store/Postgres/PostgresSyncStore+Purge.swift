import Foundation
import Logging
import PostgresNIO
import Shared

// `files purge` in PostgreSQL: one transaction under the project's row lock (pushes wait, so no
// change can reference a file between the reading of the references and the deletion).
extension PostgresSyncStore {
    func purgeFiles(project: String, dryRun: Bool) async throws -> FilePurge {
        let items = try await transaction { db, logger in
            guard let projectID = try await db.query("SELECT id FROM project WHERE name = \(project) FOR NO KEY UPDATE", logger: logger)
                .decode(Int64.self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            let items = try await Self.unreferencedFiles(db, logger, projectID: projectID)
            if !dryRun {
                let hashes = items.map(\.sha256)
                try await db.query("DELETE FROM file_chunk WHERE project_id = \(projectID) AND sha256 = ANY(\(hashes)::text[])", logger: logger)
                try await db.query("DELETE FROM file WHERE project_id = \(projectID) AND sha256 = ANY(\(hashes)::text[])", logger: logger)
            }
            return items
        }
        return FilePurge(project: project, dryRun: dryRun, files: items, bytes: items.reduce(0) { $0 + $1.bytes })
    }

    private static func unreferencedFiles(_ db: PostgresConnection, _ logger: Logger, projectID: Int64) async throws -> [FilePurge.Item] {
        let heads: PostgresQuery = """
            SELECT head.record, change.value, head.field FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
            WHERE head.project_id = \(projectID) AND (change.value LIKE 'f:%' OR head.field = \(Change.deletedField))
            """
        var fileHeads: [(record: String, value: String)] = [], deletionHeads: [(record: String, value: String)] = []
        for try await (record, value, field) in try await db.query(heads, logger: logger).decode((String, String, String).self) {
            if field == Change.deletedField { deletionHeads.append((record, value)) } else { fileHeads.append((record, value)) }
        }
        var conflicts: [(record: String, state: String)] = []
        for try await (record, state) in try await db.query(
            "SELECT record, state FROM conflict WHERE project_id = \(projectID) AND field = \(Change.deletedField)", logger: logger
        ).decode((String, String).self) {
            conflicts.append((record, state))
        }
        let live = try FileReferences.live(fileHeads: fileHeads, deletionHeads: deletionHeads, deletionConflicts: conflicts)
        var items: [FilePurge.Item] = []
        for try await (sha256, size, received, complete) in try await db.query(
            "SELECT sha256, size, received, complete FROM file WHERE project_id = \(projectID) ORDER BY sha256", logger: logger
        ).decode((String, Int64, Int64, Bool).self) where !live.contains(sha256) {
            items.append(FilePurge.Item(sha256: sha256, size: size, complete: complete, bytes: complete ? size : received, names: []))
        }
        for index in items.indices {
            items[index].names = try await db.query("""
                SELECT DISTINCT name FROM custody WHERE project_id = \(projectID) AND sha256 = \(items[index].sha256)
                AND event = 'added' AND name IS NOT NULL ORDER BY name
                """, logger: logger).decode(String.self).collect()
        }
        return items
    }
}
