import Crypto
import Foundation
import NIOCore
import Shared

/// Downloads: chunk by chunk into the file's partial file, each chunk checked against the hash and
/// size the server announced before it is stored, the next ones asked for while this one is stored, and
/// the whole file checked against its name before it counts. An interrupted download resumes after the
/// chunks it stored.
extension FileSyncer {
    /// Fetches `files` (those not held here). Returns how many were fetched and the bytes received.
    func download(_ files: [FileRef]) async throws -> (Int, Int64) {
        guard !files.isEmpty else { return (0, 0) }
        let total = files.reduce(Int64(0)) { $0 + $1.size }
        var received: Int64 = 0, fetched = 0, before: Int64 = 0
        progress.start(bytes: 0)
        for file in files {
            received += try await download(file) { done in
                progress.bytes("fetching \(files.count) file\(files.count == 1 ? "" : "s")", done: before + done, total: total)
            }
            before += file.size
            fetched += 1
        }
        return (fetched, received)
    }

    /// Fetches one file, with up to `transport.chunksInFlight` chunks asked for ahead of the one being
    /// stored; returns the bytes received (a resumed download receives fewer than its size).
    private func download(_ file: FileRef, progress: (Int64) -> Void) async throws -> Int64 {
        let writer = try replica.files.resumeDownload(file.sha256, size: file.size)
        var received: Int64 = 0
        defer { writer.keep() }
        let count = Wire.Files.chunkCount(size: file.size)
        var asked = writer.index
        var ahead: [Task<(IncomingChunk, String), any Error>] = []
        defer { for task in ahead { task.cancel() } }
        progress(writer.written)
        while writer.index < count {
            while asked < count, ahead.count < max(2, transport.chunksInFlight) {
                ahead.append(fetch(file.sha256, asked))
                asked += 1
            }
            let (chunk, hash) = try await ahead.removeFirst().value
            try check(chunk, hash: hash, of: file, index: writer.index)
            try chunk.bytes.withUnsafeReadableBytes { try writer.append($0) }
            received += Int64(chunk.bytes.readableBytes)
            progress(writer.written)
        }
        try replica.files.finishDownload(writer)
        try await replica.recordDownloaded(file.sha256, size: file.size, settings: settings)
        return received
    }

    /// Asks for a chunk and hashes it when it arrives, off the caller's path (the caller meanwhile
    /// hashes, seals and writes the chunk before it, so the two hashes run on two cores).
    private func fetch(_ sha256: String, _ index: Int64) -> Task<(IncomingChunk, String), any Error> {
        let answer = transport.requestChunk(sha256, index: index)
        return Task {
            let chunk = try await answer.value
            return (chunk, chunk.bytes.withUnsafeReadableBytes { Hex.encode(Array(SHA256.hash(data: $0))) })
        }
    }

    /// A chunk must be the length its index has in a file of the expected size, and hash (`hash`) to
    /// what the server announced; nothing of a chunk that fails is stored.
    private func check(_ chunk: IncomingChunk, hash: String, of file: FileRef, index: Int64) throws {
        let expected = Wire.Files.chunkLength(index: index, size: file.size) ?? -1
        let problem: String? =
            chunk.size != file.size ? "the server gives its size as \(chunk.size.map(String.init) ?? "nothing"), the record as \(file.size)"
            : chunk.bytes.readableBytes != expected ? "chunk \(index) has \(chunk.bytes.readableBytes) bytes instead of \(expected)"
            : chunk.hash != hash ? "chunk \(index) does not hash to what the server announced"
            : nil
        if let problem {
            throw ClientError("the file \(file.sha256.prefix(12)) from \(server) arrived damaged (\(problem)): the chunks before it are kept; fetch again to resume")
        }
    }
}
