import Foundation
import GRDB
import NIOCore
import NIOPosix
import Shared

// Evidence files on the embedded store: a row per file in `file`, the content in `FileFolder`. A
// chunk is written and fsynced before its row counts it, and a row only changes after its write
// succeeded: a crash or a full disk leaves at most bytes beyond what the row counts, which the next
// write cuts off. File I/O runs on NIO's thread pool, off the request threads.
extension SQLiteSyncStore {
    func fileStatus(project: String, hashes: [String]) async throws -> [Wire.FileStatus] {
        let stored = try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Self.storedFiles(db, projectID: projectID, hashes: hashes)
        }
        return hashes.map { held(stored[$0], project: project, sha256: $0)?.status($0) ?? Wire.FileStatus(sha256: $0, received: 0, complete: false) }
    }

    func storedFile(project: String, sha256: String) async throws -> StoredFile? {
        let row = try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Self.storedFiles(db, projectID: projectID, hashes: [sha256])[sha256]
        }
        return held(row, project: project, sha256: sha256)
    }

    func putChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer {
        let key = project + "/" + upload.sha256
        try await fileQueues.acquire(key)
        do {
            let lock = try await files.lock(exclusive: false)
            defer { lock.release() }
            let answer = try await storeChunk(project: project, upload: upload, user: user, now: now)
            await fileQueues.release(key)
            return answer
        } catch {
            await fileQueues.release(key)
            throw error
        }
    }

    func chunk(project: String, sha256: String, index: Int64) async throws -> ServedChunk? {
        let row = try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let row = try Row.fetchOne(db, sql: "SELECT size, substr(chunk_hashes, ? * 32 + 1, 32) FROM file WHERE project_id = ? AND sha256 = ? AND complete = 1",
                                       arguments: [index, projectID, sha256])
            return row.map { ($0[0] as Int64, $0[1] as Data?) }
        }
        guard let (size, stored) = row, let length = Wire.Files.chunkLength(index: index, size: size) else { return nil }
        let path = files.complete(project, sha256), files = self.files
        guard let bytes = try await Self.blocking({ try files.read(path, offset: index * Int64(Wire.Files.chunkSize), length: length) }) else {
            throw StoreDefect(description: "the content of file \(sha256) of project \(project) is missing or shorter than \(size) bytes: run casebook-server doctor")
        }
        return ServedChunk(bytes: bytes, size: size, storedHash: stored.flatMap { $0.count == 32 ? Hex.encode(Array($0)) : nil })
    }

    /// Runs blocking file I/O on NIO's thread pool.
    static func blocking<T: Sendable>(_ body: @Sendable @escaping () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    // MARK: One chunk

    /// Stores one chunk, with the file's queue held. The chunk is flushed, and the database counts what
    /// the upload holds, every `flushInterval` bytes and on the last chunk; in between this
    /// process alone knows of the chunks written (the running hash's position, `held`).
    ///
    /// The chunk's own hash (`ChunkUpload.pendingHash`) is checked before anything else is decided for
    /// a new file's first chunk (the quota comes after it), on the way to a recovery and before the held
    /// part of a file is hashed again for its last chunk (after a restart); otherwise it
    /// runs beside the chunk's write and the running hash, on a third thread, and a chunk that fails it
    /// is cut off again before anything counts it.
    private func storeChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer {
        var upload = upload
        let sha256 = upload.sha256
        let (projectID, row, usage) = try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return (projectID, try Self.storedFiles(db, projectID: projectID, hashes: [sha256])[sha256], try Self.fileUsage(db, projectID: projectID))
        }
        let file = held(row, project: project, sha256: sha256)
        if file == nil { await upload.settleHash() }
        if let answer = ChunkRules.check(file, upload, usage: usage) { return answer }
        let target = UploadTarget(project: project, projectID: projectID, sha256: sha256, file: file, counted: row?.received)
        let partial = files.partial(project, sha256, upload: target.upload), files = self.files
        if let file, (files.length(partial) ?? 0) < file.received {
            await upload.settleHash()
            if let problem = upload.bodyProblem { return .corrupt(problem) }
            return try await recover(target, user: user, now: now)
        }
        let key = UploadHashers.key(project: project, sha256: sha256, upload: target.upload)
        var hasher = hashers.hasher(key, at: target.offset) ?? (target.offset == 0 ? RunningHash() : nil)
        if hasher == nil, upload.isLast {
            // After a restart: the held part is read and hashed again, so a damaged last chunk is refused first.
            await upload.settleHash()
            if let problem = upload.bodyProblem { return .corrupt(problem) }
            hasher = try await Self.blocking { try files.hash(partial, length: target.offset) }
        }
        let received = target.offset + Int64(upload.bytes.readableBytes)
        // Without a running hash (after a restart) every chunk is flushed and counted, as it comes.
        let flush = upload.isLast || hasher == nil || received - target.counted >= flushInterval
        // The running hash takes the chunk in on another thread while the chunk is written.
        let before = hasher, bytes = upload.bytes
        async let hashed = Self.blocking {
            before.map { running in
                var running = running
                running.update(bytes)
                return running
            }
        }
        try await write(upload.bytes, to: partial, at: target.offset, flush: flush)
        hasher = try await hashed
        await upload.settleHash()
        if let problem = upload.bodyProblem {
            files.cutBack(partial, to: target.offset)
            return .corrupt(problem)
        }
        if upload.isLast {
            let chunkHashes = hashers.finish(key, lastChunk: upload.index, hash: upload.chunkHash)
            return try await finish(target, upload: upload, digest: hasher?.hex(), chunkHashes: chunkHashes, user: user, now: now)
        }
        if flush || row == nil {
            let counted = flush ? received : 0
            if let refused = try await count(target, received: counted, size: upload.size, partial: partial, now: now) { return refused }
        }
        if let hasher { hashers.keep(key, at: received, hasher, chunk: upload.index, hash: upload.chunkHash) }
        return .held(received: received, complete: false)
    }

    /// What is held of a file: the database's row, with the chunks this process wrote beyond what it
    /// counts (not flushed yet) added.
    func held(_ row: StoredFile?, project: String, sha256: String) -> StoredFile? {
        guard var file = row, !file.complete,
              let position = hashers.position(UploadHashers.key(project: project, sha256: sha256, upload: file.upload)),
              position > file.received, position < file.size else { return row }
        file.received = position
        return file
    }

    /// Writes a chunk of an upload at `offset` of its partial file; nothing of it is kept when that fails.
    private func write(_ bytes: ByteBuffer, to partial: String, at offset: Int64, flush: Bool) async throws {
        let faults = self.faults, files = self.files
        try await Self.blocking {
            do {
                try faults.checkStorage("file-write")
                try files.write(bytes, to: partial, at: offset, flush: flush)
            } catch {
                files.cutBack(partial, to: offset)
                throw error
            }
        }
    }

    /// Has the database count `received` bytes of the upload (a new file's row made); the answer is the
    /// refusal, nil when counted. What was written of the chunk goes when the count fails.
    private func count(_ target: UploadTarget, received: Int64, size: Int64, partial: String, now: UInt64) async throws -> ChunkAnswer? {
        let refused: ChunkAnswer?
        do {
            refused = try await write(fullIsStorage: true) { db in try Self.count(target, received: received, size: size, db, now: now) }
        } catch StoreError.conflict(let message) {
            // The row changed meanwhile. When it went (a purge), its partial content goes with it; when
            // another writer counted the same chunk, the bytes are its.
            if try await storedFile(project: target.project, sha256: target.sha256)?.upload != target.upload { files.remove(partial) }
            throw StoreError.conflict(message)
        } catch {
            files.cutBack(partial, to: target.offset)
            throw error
        }
        if refused != nil { files.cutBack(partial, to: target.offset) }
        return refused
    }

    /// The last chunk is written: the file becomes complete if the whole hashes to its name (with the
    /// hash of each of its chunks, when all are known), else everything held of the upload goes.
    private func finish(_ target: UploadTarget, upload: ChunkUpload, digest: String?, chunkHashes: [UInt8]?,
                        user: String, now: UInt64) async throws -> ChunkAnswer {
        let partial = files.partial(target.project, target.sha256, upload: target.upload)
        let complete = files.complete(target.project, target.sha256)
        guard digest == target.sha256 else {
            try await write(fullIsStorage: true) { db in
                try db.execute(sql: "DELETE FROM file WHERE project_id = ? AND sha256 = ? AND upload = ?",
                               arguments: [target.projectID, target.sha256, target.upload])
            }
            files.remove(partial)
            return .hashMismatch
        }
        let files = self.files
        try await Self.blocking { try files.promote(partial, to: complete) }
        let refused = try await write(fullIsStorage: true) { db in
            try Self.complete(target, size: upload.size, chunkHashes: chunkHashes, db, user: user, now: now)
        }
        if refused != nil { files.remove(complete) }
        return refused ?? .held(received: upload.size, complete: true)
    }

    /// The row counts bytes its partial file no longer holds (lost in a crash between the rename and
    /// the commit of a completion, or by hand): complete it if the whole file is there, else start over.
    private func recover(_ target: UploadTarget, user: String, now: UInt64) async throws -> ChunkAnswer {
        guard let file = target.file else { return .ahead(received: 0) }
        let path = files.complete(target.project, target.sha256), files = self.files
        let whole = try await Self.blocking { files.length(path) == file.size ? try files.hash(path, length: file.size) : nil }
        if whole?.hex() == target.sha256 {
            _ = try await write(fullIsStorage: true) { db in try Self.complete(target, size: file.size, chunkHashes: nil, db, user: user, now: now) }
            return .held(received: file.size, complete: true)
        }
        try await write(fullIsStorage: true) { db in
            try db.execute(sql: "DELETE FROM file WHERE project_id = ? AND sha256 = ? AND upload = ?",
                           arguments: [target.projectID, target.sha256, target.upload])
        }
        files.remove(files.partial(target.project, target.sha256, upload: target.upload))
        return .ahead(received: 0)
    }
}

/// The upload a chunk goes to: its project, file and upload id, and where the chunk starts.
struct UploadTarget: Sendable {
    var project: String
    var projectID: Int64
    var sha256: String
    /// The stored state before this chunk, nil for a file new to the project.
    var file: StoredFile?
    var upload: String
    /// Bytes held before this chunk.
    var offset: Int64 { file?.received ?? 0 }
    /// Bytes of them the database counts (flushed); fewer than `offset` when chunks since are not flushed yet.
    var counted: Int64

    init(project: String, projectID: Int64, sha256: String, file: StoredFile?, counted: Int64? = nil) {
        self.project = project
        self.projectID = projectID
        self.sha256 = sha256
        self.file = file
        self.counted = counted ?? file?.received ?? 0
        upload = file?.upload ?? StoredFile.newUpload()
    }
}
