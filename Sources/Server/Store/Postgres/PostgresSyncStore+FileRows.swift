import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

// One chunk's transaction, and the quota.
extension PostgresSyncStore {
    /// A running hash to keep once the transaction committed.
    struct KeptHash: Sendable {
        var key: String
        var position: Int64
        var hash: RunningHash
        /// The chunk it took in last, and that chunk's own hash.
        var chunk: Int64
        var chunkHash: String
    }

    /// Checks and stores one chunk in the caller's transaction: the file's row is locked first (made,
    /// for a new file, under the project's new-file lock after the quota is checked). Only the last
    /// chunk's commit waits for the disk.
    static func storeChunk(_ db: PostgresConnection, _ logger: Logger, project: String, upload: ChunkUpload, user: String, now: UInt64,
                           hashers: UploadHashers, faults: FaultInjector) async throws -> (ChunkAnswer, KeptHash?) {
        if !upload.isLast {
            // A chunk before the last does not wait for the WAL's flush: a crash loses whole transactions
            // (a chunk with its count), so what is counted after one was flushed; the last chunk's commit
            // flushes every one before it, before the file counts as received.
            try await db.query("SET LOCAL synchronous_commit = off", logger: logger)
        }
        let projectID = try await projectID(db, project, logger)
        var file = try await lockedFile(db, logger, projectID: projectID, sha256: upload.sha256)
        if file == nil {
            try await lock(db, logger, PostgresMigrations.newFileLock, projectID: projectID)
            file = try await lockedFile(db, logger, projectID: projectID, sha256: upload.sha256)
        }
        if let answer = ChunkRules.check(file, upload, usage: try await fileUsage(db, logger, projectID: projectID)) { return (answer, nil) }
        try faults.checkStorage("file-write")
        let target = UploadTarget(project: project, projectID: projectID, sha256: upload.sha256, file: file)
        try await db.query("""
            INSERT INTO file_chunk (project_id, sha256, chunk, data, hash)
            VALUES (\(projectID), \(upload.sha256), \(upload.index), \(upload.bytes), \(Hex.decode(upload.chunkHash).map { ByteBuffer(bytes: $0) }))
            """, logger: logger)
        let key = UploadHashers.key(project: project, sha256: upload.sha256, upload: target.upload)
        var hasher = hashers.hasher(key, at: target.offset) ?? (target.offset == 0 ? RunningHash() : nil)
        hasher?.update(upload.bytes)
        let received = target.offset + Int64(upload.bytes.readableBytes)
        if upload.isLast {
            hashers.forget(key)
            guard hasher?.hex() == upload.sha256 else {
                try await db.query("DELETE FROM file_chunk WHERE project_id = \(projectID) AND sha256 = \(upload.sha256)", logger: logger)
                try await db.query("DELETE FROM file WHERE project_id = \(projectID) AND sha256 = \(upload.sha256)", logger: logger)
                return (.hashMismatch, nil)
            }
            try await db.query("""
                INSERT INTO file (project_id, sha256, size, received, complete, upload, created_at, completed_at)
                VALUES (\(projectID), \(upload.sha256), \(upload.size), \(upload.size), true, \(target.upload), \(Int64(now)), \(Int64(now)))
                ON CONFLICT (project_id, sha256) DO UPDATE SET received = excluded.received, complete = true, completed_at = excluded.completed_at
                """, logger: logger)
            _ = try await appendCustody(db, logger, projectID: projectID, events: [CustodyRules.received(upload.sha256, size: upload.size, by: user, now: now)], now: now)
            return (.held(received: upload.size, complete: true), nil)
        }
        try await db.query("""
            INSERT INTO file (project_id, sha256, size, received, complete, upload, created_at)
            VALUES (\(projectID), \(upload.sha256), \(upload.size), \(received), false, \(target.upload), \(Int64(now)))
            ON CONFLICT (project_id, sha256) DO UPDATE SET received = excluded.received
            """, logger: logger)
        return (.held(received: received, complete: false), hasher.map { KeptHash(key: key, position: received, hash: $0, chunk: upload.index, chunkHash: upload.chunkHash) })
    }

    /// The file's row, locked until the transaction ends; nil when there is none.
    private static func lockedFile(_ db: PostgresConnection, _ logger: Logger, projectID: Int64, sha256: String) async throws -> StoredFile? {
        try await db.query("""
            SELECT size, received, complete, upload FROM file WHERE project_id = \(projectID) AND sha256 = \(sha256) FOR UPDATE
            """, logger: logger).decode((Int64, Int64, Bool, String).self).collect().first
            .map { StoredFile(size: $0.0, received: $0.1, complete: $0.2, upload: $0.3) }
    }

    /// Takes one of the project's advisory locks until the transaction ends.
    static func lock(_ db: PostgresConnection, _ logger: Logger, _ kind: Int32, projectID: Int64) async throws {
        // Read the result: a failure must surface here, not as an aborted transaction later.
        for try await _ in try await db.query("SELECT pg_advisory_xact_lock(\(kind), \(Int32(truncatingIfNeeded: projectID)))", logger: logger) {}
    }

    static func projectID(_ db: PostgresConnection, _ project: String, _ logger: Logger) async throws -> Int64 {
        guard let id = try await db.query("SELECT id FROM project WHERE name = \(project)", logger: logger).decode(Int64.self).collect().first else {
            throw StoreError.notFound("there is no project named '\(project)'")
        }
        return id
    }

    static func fileUsage(_ db: PostgresConnection, _ logger: Logger, projectID: Int64) async throws -> FileUsage {
        let quota = try await db.query("SELECT file_quota FROM project WHERE id = \(projectID)", logger: logger).decode(Int64?.self).collect().first ?? nil
        let (used, files) = try await db.query("SELECT COALESCE(SUM(size), 0)::bigint, COUNT(*) FROM file WHERE project_id = \(projectID)", logger: logger)
            .decode((Int64, Int64).self).collect().first ?? (Int64(0), Int64(0))
        return FileUsage(quota: quota ?? FileUsage.defaultQuota, used: used, files: Int(files), isDefault: quota == nil)
    }

    func fileUsage(project: String) async throws -> FileUsage {
        try await transaction(readOnly: true) { db, logger in
            try await Self.fileUsage(db, logger, projectID: try await Self.projectID(db, project, logger))
        }
    }

    func setFileQuota(project: String, bytes: Int64?) async throws {
        try await transaction { db, logger in
            let projectID = try await Self.projectID(db, project, logger)
            try await db.query("UPDATE project SET file_quota = \(bytes) WHERE id = \(projectID)", logger: logger)
        }
    }
}
