import Foundation
import Shared

/// What a chunk upload comes to, in the order docs/protocol.md checks it ("PUT .../chunks/{index}").
enum ChunkAnswer: Sendable, Equatable {
    /// 200: the chunk was stored (or the file was already complete, or the chunk already held).
    case held(received: Int64, complete: Bool)
    /// 409: earlier chunks of this file declared another size.
    case sizeConflict(declared: Int64)
    /// 409: the chunk is beyond the next one the server expects; `received` bytes are held.
    case ahead(received: Int64)
    /// 422 chunk_corrupt: the body's length or hash is wrong; nothing kept.
    case corrupt(String)
    /// 422 hash_mismatch: the whole chunk set does not hash to the file's name; all of it dropped.
    case hashMismatch
    /// 507 quota_exceeded: the file would take the project over its quota.
    case quotaExceeded(quota: Int64, used: Int64, size: Int64)
}

/// The checks of a chunk upload as pure decisions: a store reads the file's state and the project's
/// usage, asks these in order, and writes only when none of them answers.
enum ChunkRules {
    /// The answers that need neither the body nor the quota: a complete file, a size that differs, a
    /// chunk ahead of or behind the next expected. Nil: the chunk is the next one.
    static func beforeBody(_ file: StoredFile?, _ upload: ChunkUpload) -> ChunkAnswer? {
        if let file, file.complete { return .held(received: file.size, complete: true) }
        if let file, file.size != upload.size { return .sizeConflict(declared: file.size) }
        let next = file?.nextChunk ?? 0
        if upload.index > next { return .ahead(received: file?.received ?? 0) }
        if upload.index < next { return .held(received: file?.received ?? 0, complete: false) }
        return nil
    }

    /// Everything before the write: `beforeBody`, then the body, then (for a file the project does not
    /// hold yet) the quota against the declared size. Nil: store the chunk.
    static func check(_ file: StoredFile?, _ upload: ChunkUpload, usage: FileUsage) -> ChunkAnswer? {
        if let answer = beforeBody(file, upload) { return answer }
        if let problem = upload.bodyProblem { return .corrupt(problem) }
        if file == nil, usage.used + upload.size > usage.quota {
            return .quotaExceeded(quota: usage.quota, used: usage.used, size: upload.size)
        }
        return nil
    }

    /// The body's problem, if any: its length against the chunk's, then its hash against the declared one.
    static func bodyProblem(length: Int, expected: Int, hash: String, declared: String) -> String? {
        if length != expected {
            return "the chunk has \(length > expected ? "more than \(expected)" : "\(length)") bytes but this chunk of the file has \(expected): send it again"
        }
        return hashProblem(hash: hash, declared: declared)
    }

    /// The body's hash against the declared one: nil when they agree.
    static func hashProblem(hash: String, declared: String) -> String? {
        guard hash != declared else { return nil }
        return "the chunk does not hash to its \(Wire.Files.chunkHashHeader) (damaged on the way?): nothing was kept, send it again"
    }
}
