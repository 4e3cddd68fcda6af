import Foundation
import GRDB
import Shared

// The `file` rows and quotas of the embedded store, inside the caller's transaction.
extension SQLiteSyncStore {
    static let uploadPurgedMessage = "the upload of this file changed meanwhile (another upload of the same file, or files purge): ask for its status and go on from there"

    /// The stored state of each of `hashes` the project holds.
    static func storedFiles(_ db: Database, projectID: Int64, hashes: [String]) throws -> [String: StoredFile] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT sha256, size, received, complete, upload FROM file WHERE project_id = ? AND sha256 IN (SELECT value FROM json_each(?))",
            arguments: [projectID, jsonArray(hashes)])
        var files: [String: StoredFile] = [:]
        for row in rows {
            files[row[0]] = StoredFile(size: row[1], received: row[2], complete: row[3], upload: row[4])
        }
        return files
    }

    /// The project's quota and what its files (complete or not, at their declared sizes) take.
    static func fileUsage(_ db: Database, projectID: Int64) throws -> FileUsage {
        let quota = try Int64.fetchOne(db, sql: "SELECT file_quota FROM project WHERE id = ?", arguments: [projectID])
        let row = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM file WHERE project_id = ?", arguments: [projectID])
        return FileUsage(quota: quota ?? FileUsage.defaultQuota, used: row?[0] ?? 0, files: row?[1] ?? 0, isDefault: quota == nil)
    }

    /// Counts the chunks flushed up to `received` bytes (from `target.counted`). A new file's row is made
    /// here, after the quota is checked again (another file may have taken it since); the answer is the
    /// refusal, nil when counted.
    static func count(_ target: UploadTarget, received: Int64, size: Int64, _ db: Database, now: UInt64) throws -> ChunkAnswer? {
        if let file = target.file {
            try db.execute(sql: "UPDATE file SET received = ? WHERE project_id = ? AND sha256 = ? AND upload = ? AND received = ?",
                           arguments: [received, target.projectID, target.sha256, file.upload, target.counted])
            guard db.changesCount == 1 else { throw StoreError.conflict(uploadPurgedMessage) }
            return nil
        }
        let usage = try fileUsage(db, projectID: target.projectID)
        if usage.used + size > usage.quota { return .quotaExceeded(quota: usage.quota, used: usage.used, size: size) }
        try db.execute(sql: """
            INSERT INTO file (project_id, sha256, size, received, complete, upload, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)
            ON CONFLICT DO NOTHING
            """, arguments: [target.projectID, target.sha256, size, received, target.upload, now])
        guard db.changesCount == 1 else { throw StoreError.conflict(uploadPurgedMessage) }
        return nil
    }

    /// Marks a file complete (its content checked and in place), with its chunks' hashes when known, and
    /// appends its `received` custody event. A file new to the project is checked against the quota first;
    /// the answer is the refusal.
    static func complete(_ target: UploadTarget, size: Int64, chunkHashes: [UInt8]?, _ db: Database, user: String, now: UInt64) throws -> ChunkAnswer? {
        if target.file == nil {
            let usage = try fileUsage(db, projectID: target.projectID)
            if usage.used + size > usage.quota { return .quotaExceeded(quota: usage.quota, used: usage.used, size: size) }
        }
        // Whatever happened to the row meanwhile (a purge), the content is checked: it is the file.
        try db.execute(sql: """
            INSERT INTO file (project_id, sha256, size, received, complete, upload, created_at, completed_at, chunk_hashes)
            VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
            ON CONFLICT (project_id, sha256) DO UPDATE SET size = excluded.size, received = excluded.received, complete = 1,
                upload = excluded.upload, completed_at = excluded.completed_at, chunk_hashes = excluded.chunk_hashes
            """, arguments: [target.projectID, target.sha256, size, size, target.upload, now, now, chunkHashes.map { Data($0) }])
        _ = try appendCustody(db, projectID: target.projectID, events: [CustodyRules.received(target.sha256, size: size, by: user, now: now)], now: now)
        return nil
    }

    func fileUsage(project: String) async throws -> FileUsage {
        try await read { db in try Self.fileUsage(db, projectID: try Self.project(db, name: project, loadSchema: false).0) }
    }

    func setFileQuota(project: String, bytes: Int64?) async throws {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            try db.execute(sql: "UPDATE project SET file_quota = ? WHERE id = ?", arguments: [bytes, projectID])
        }
    }
}
