import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

// Evidence files in PostgreSQL: a row per file in `file`, the content in `file_chunk` (one bytea row
// per chunk). A chunk is checked and stored in one transaction holding the file's row lock, so two
// uploads of one file racing (on any instances) store each chunk once; a new file's row is made under
// the project's new-file lock, which also orders quota checks.
extension PostgresSyncStore {
    func fileStatus(project: String, hashes: [String]) async throws -> [Wire.FileStatus] {
        try await statement { db, logger in
            var stored: [String: StoredFile] = [:]
            for try await (sha256, size, received, complete, upload) in try await db.query("""
                SELECT file.sha256, file.size, file.received, file.complete, file.upload FROM file JOIN project ON project.id = file.project_id
                WHERE project.name = \(project) AND file.sha256 = ANY(\(hashes)::text[])
                """, logger: logger).decode((String, Int64, Int64, Bool, String).self) {
                stored[sha256] = StoredFile(size: size, received: received, complete: complete, upload: upload)
            }
            return hashes.map { stored[$0]?.status($0) ?? Wire.FileStatus(sha256: $0, received: 0, complete: false) }
        }
    }

    func storedFile(project: String, sha256: String) async throws -> StoredFile? {
        try await fileRow(project: project, sha256: sha256)
    }

    func chunk(project: String, sha256: String, index: Int64) async throws -> ServedChunk? {
        let row = try await statement { db, logger in
            try await db.query("""
                SELECT file.size, file_chunk.data, file_chunk.hash FROM file JOIN project ON project.id = file.project_id
                LEFT JOIN file_chunk ON file_chunk.project_id = file.project_id AND file_chunk.sha256 = file.sha256 AND file_chunk.chunk = \(index)
                WHERE project.name = \(project) AND file.sha256 = \(sha256) AND file.complete
                """, logger: logger).decode((Int64, ByteBuffer?, ByteBuffer?).self).collect().first
        }
        guard let (size, data, hash) = row, let length = Wire.Files.chunkLength(index: index, size: size) else { return nil }
        guard let data, data.readableBytes == length else {
            throw StoreDefect(description: "chunk \(index) of file \(sha256) of project \(project) is missing or of the wrong length: run casebook-server doctor")
        }
        let stored = hash.flatMap { $0.readableBytes == 32 ? Hex.encode(Array(buffer: $0)) : nil }
        return ServedChunk(bytes: data, size: size, storedHash: stored)
    }

    func putChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer {
        // One chunk of a file at a time on this instance: racing uploads wait here, not on a pooled
        // connection (the queue's keys for pushes are project names, which never hold a ':').
        let key = project + "/" + upload.sha256
        try await pushQueues.acquire("file:" + key)
        do {
            var settled = upload
            await settled.settleHash()
            let upload = settled
            try await prepareHash(project: project, upload: upload)
            let (answer, kept) = try await transaction(fullIsStorage: true) { db, logger in
                try await Self.storeChunk(db, logger, project: project, upload: upload, user: user, now: now, hashers: self.hashers, faults: self.faults)
            }
            if let kept { hashers.keep(kept.key, at: kept.position, kept.hash, chunk: kept.chunk, hash: kept.chunkHash) }
            await pushQueues.release("file:" + key)
            return answer
        } catch {
            await pushQueues.release("file:" + key)
            throw error
        }
    }

    /// The stored state of one file, nil when the project holds nothing of it.
    private func fileRow(project: String, sha256: String) async throws -> StoredFile? {
        try await statement { db, logger in
            try await db.query("""
                SELECT file.size, file.received, file.complete, file.upload FROM file JOIN project ON project.id = file.project_id
                WHERE project.name = \(project) AND file.sha256 = \(sha256)
                """, logger: logger).decode((Int64, Int64, Bool, String).self).collect().first
                .map { StoredFile(size: $0.0, received: $0.1, complete: $0.2, upload: $0.3) }
        }
    }

    /// Before a last chunk: when this instance has no running hash of what is held (after a restart,
    /// or the earlier chunks went to another instance), hashes the held chunks, one statement each.
    private func prepareHash(project: String, upload: ChunkUpload) async throws {
        guard upload.isLast, let file = try await fileRow(project: project, sha256: upload.sha256),
              !file.complete, file.size == upload.size, upload.index == file.nextChunk, file.received > 0 else { return }
        let key = UploadHashers.key(project: project, sha256: upload.sha256, upload: file.upload)
        guard hashers.hasher(key, at: file.received) == nil else { return }
        var hasher = RunningHash()
        for index in 0..<file.nextChunk {
            let data = try await statement { db, logger in
                try await db.query("""
                    SELECT file_chunk.data FROM file_chunk JOIN project ON project.id = file_chunk.project_id
                    WHERE project.name = \(project) AND file_chunk.sha256 = \(upload.sha256) AND file_chunk.chunk = \(index)
                    """, logger: logger).decode(ByteBuffer.self).collect().first
            }
            guard let data else { return }  // the upload changed meanwhile: the transaction decides
            hasher.update(data)
        }
        hashers.keep(key, at: file.received, readBack: hasher)
    }
}
