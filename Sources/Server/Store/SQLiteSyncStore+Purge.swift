import Foundation
import GRDB
import Shared

// `files purge` on the embedded store: the rows go in one write transaction (which also keeps pushes
// out while the references are read), the content after it commits, all under the files folder's
// exclusive lock, which chunk uploads take shared: no chunk is stored meanwhile, in any process.
extension SQLiteSyncStore {
    func purgeFiles(project: String, dryRun: Bool) async throws -> FilePurge {
        // Exclusive: no chunk is being stored (by this process or `serve`) while rows and content go.
        let lock = try await files.lock(exclusive: !dryRun)
        defer { lock.release() }
        var purge = try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let items = try Self.unreferencedFiles(db, projectID: projectID)
            if !dryRun {
                for item in items {
                    try db.execute(sql: "DELETE FROM file WHERE project_id = ? AND sha256 = ?", arguments: [projectID, item.file.sha256])
                }
            }
            return items
        }
        // An upload in progress takes what its partial file holds, flushed and counted or not yet.
        for (index, item) in purge.enumerated() where !item.file.complete {
            purge[index].file.bytes = max(item.file.bytes, files.length(files.partial(project, item.file.sha256, upload: item.upload)) ?? 0)
        }
        if !dryRun {
            for item in purge {
                files.remove(files.complete(project, item.file.sha256))
                files.remove(files.partial(project, item.file.sha256, upload: item.upload))
            }
        }
        return FilePurge(project: project, dryRun: dryRun, files: purge.map(\.file), bytes: purge.reduce(0) { $0 + $1.file.bytes })
    }

    /// The project's files that no live record references, with the names custody knows them by.
    private static func unreferencedFiles(_ db: Database, projectID: Int64) throws -> [(file: FilePurge.Item, upload: String)] {
        let heads = """
            SELECT record.id, change.value FROM head JOIN record ON record.key = head.record_key
            JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc WHERE head.project_id = ?
            """
        let fileHeads = try Row.fetchAll(db, sql: heads + " AND change.value LIKE 'f:%'", arguments: [projectID]).map { (record: $0[0] as String, value: $0[1] as String) }
        let deletionHeads = try Row.fetchAll(db, sql: heads + " AND head.field = ?", arguments: [projectID, Change.deletedField])
            .map { (record: $0[0] as String, value: $0[1] as String) }
        let conflicts = try Row.fetchAll(db, sql: "SELECT record, state FROM conflict WHERE project_id = ? AND field = ?", arguments: [projectID, Change.deletedField])
            .map { (record: $0[0] as String, state: $0[1] as String) }
        let live = try FileReferences.live(fileHeads: fileHeads, deletionHeads: deletionHeads, deletionConflicts: conflicts)
        let rows = try Row.fetchAll(db, sql: "SELECT sha256, size, received, complete, upload FROM file WHERE project_id = ? ORDER BY sha256", arguments: [projectID])
        let names = try db.cachedStatement(sql: """
            SELECT DISTINCT name FROM custody WHERE project_id = ? AND sha256 = ? AND event = 'added' AND name IS NOT NULL ORDER BY name
            """)
        return try rows.filter { !live.contains($0["sha256"]) }.map { row in
            let sha256: String = row["sha256"], complete: Bool = row["complete"]
            let item = FilePurge.Item(sha256: sha256, size: row["size"], complete: complete, bytes: complete ? row["size"] : row["received"],
                                      names: try String.fetchAll(names, arguments: [projectID, sha256]))
            return (item, row["upload"])
        }
    }
}
