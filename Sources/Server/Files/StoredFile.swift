import Foundation
import NIOCore
import Shared

/// What a store holds of one file of a project: an upload in progress, or the whole file.
struct StoredFile: Sendable, Equatable {
    /// The size the upload's first chunk declared.
    var size: Int64
    /// Bytes held: a whole number of chunks, or `size` once complete.
    var received: Int64
    /// Whether the whole file is held and hashed to its name.
    var complete: Bool
    /// Names this upload (a new one after a purge or a dropped chunk set): its partial content and
    /// its running hash are keyed by it, so nothing of an earlier upload of the same hash is mixed in.
    var upload: String

    /// The index of the next chunk the store expects.
    var nextChunk: Int64 { received / Int64(Wire.Files.chunkSize) }

    /// What the status endpoint says of it.
    func status(_ sha256: String) -> Wire.FileStatus {
        Wire.FileStatus(sha256: sha256, received: received, complete: complete)
    }

    /// A fresh upload id.
    static func newUpload() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16).description
    }
}

/// One chunk of a complete file, as a download is answered.
struct ServedChunk: Sendable {
    var bytes: ByteBuffer
    /// The whole file's size.
    var size: Int64
    /// The chunk's SHA-256 (64 hex digits) as checked when it arrived; nil when the store did not keep it.
    var storedHash: String?
}

/// One chunk as the client sent it: the path, the headers, and the body once read.
struct ChunkUpload: Sendable {
    var sha256: String
    var index: Int64
    /// The whole file's size (`Casebook-File-Size`).
    var size: Int64
    /// The chunk's hash as the client declared it (`Casebook-Chunk-SHA256`).
    var chunkHash: String
    /// The body, at most the chunk's length (`Wire.Files.chunkLength`) plus one byte.
    var bytes = ByteBuffer()
    /// What is wrong with the body (its length, or its hash against `chunkHash`), nil when nothing is
    /// (or when its hash is still `pendingHash`).
    var bodyProblem: String?
    /// The body's SHA-256 being computed, from when the body was read until `settleHash` takes it in: a
    /// store may write the chunk meanwhile, and must settle it before the chunk counts.
    var pendingHash: Task<String, Never>?

    /// Waits for the body's hash and notes a mismatch with `chunkHash` in `bodyProblem`.
    mutating func settleHash() async {
        guard let pendingHash else { return }
        self.pendingHash = nil
        let hash = await pendingHash.value
        if bodyProblem == nil { bodyProblem = ChunkRules.hashProblem(hash: hash, declared: chunkHash) }
    }

    /// The chunk's length for the declared size, nil when the file has no such chunk.
    var expectedLength: Int? { Wire.Files.chunkLength(index: index, size: size) }
    /// Whether this is the file's last chunk.
    var isLast: Bool { index == Wire.Files.chunkCount(size: size) - 1 }
}
