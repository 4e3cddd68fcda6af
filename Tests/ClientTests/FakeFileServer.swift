import Crypto
import Foundation
import NIOCore
@testable import Client
@testable import Shared

/// The file endpoints in memory, as docs/protocol.md describes them: chunks accepted in order, the
/// whole file checked on the last one, custody events appended with a position. It can cut the
/// connection after a number of chunk requests, and damage what it serves.
final class FakeFileServer: FileTransport, @unchecked Sendable {
    private let lock = NSLock()
    /// What the server holds of each file: the bytes received so far, and the size declared.
    private var uploads: [String: (bytes: [UInt8], size: Int64)] = [:]
    private(set) var complete: [String: [UInt8]] = [:]
    private(set) var custodyLog: [Wire.CustodyEvent] = []
    /// Requests made, by kind ("status", "put", "get", "custody-push", "custody-get").
    private(set) var requests: [String] = []
    /// Fail every chunk request (up or down) once this many have been served.
    var failAfterChunks: Int?
    private var chunksServed = 0
    /// Serve chunk downloads with one byte flipped.
    var damageDownloads = false

    private func count(_ kind: String, chunk: Bool = false) throws {
        try lock.withLock {
            requests.append(kind)
            guard chunk else { return }
            if let failAfterChunks, chunksServed >= failAfterChunks {
                throw ClientError("connection lost (simulated)", exitCode: ClientError.unreachableExitCode)
            }
            chunksServed += 1
        }
    }

    func resetFailures() { lock.withLock { failAfterChunks = nil; chunksServed = 0 } }

    /// Puts a whole file on the server, as if someone had uploaded it.
    func hold(_ bytes: [UInt8]) -> String {
        let sha256 = Self.hash(bytes)
        lock.withLock { complete[sha256] = bytes }
        return sha256
    }

    /// Forgets a file, as an admin's purge does once no record refers to it.
    func purge(_ sha256: String) { lock.withLock { complete[sha256] = nil } }

    func received(_ sha256: String) -> Int64 {
        lock.withLock { complete[sha256].map { Int64($0.count) } ?? Int64(uploads[sha256]?.bytes.count ?? 0) }
    }

    func fileStatus(_ hashes: [String]) async throws -> Wire.FileStatusResponse {
        try count("status")
        return lock.withLock {
            Wire.FileStatusResponse(files: hashes.map { sha256 in
                if let bytes = complete[sha256] { return Wire.FileStatus(sha256: sha256, received: Int64(bytes.count), complete: true) }
                return Wire.FileStatus(sha256: sha256, received: Int64(uploads[sha256]?.bytes.count ?? 0), complete: false)
            })
        }
    }

    /// Chunk requests the client may have on their way at once (`FileTransport.chunksInFlight`).
    var pipelineDepth = 1
    var chunksInFlight: Int { pipelineDepth }
    /// The index of each chunk upload, in the order they arrived.
    private(set) var putIndexes: [Int64] = []
    /// Chunk uploads (by index) to damage on their first arrival, as a bad link would.
    var damageUploadsOnce: Set<Int64> = []

    func putChunk(_ chunk: OutgoingChunk) async throws -> ChunkPut {
        try put(chunk)
    }

    /// Takes the chunk at once, as a server answering pipelined requests in their order does; the
    /// answer is the task's.
    func sendChunk(_ chunk: OutgoingChunk) -> Task<ChunkPut, any Error> {
        let answer = Result { try put(chunk) }
        return Task { try answer.get() }
    }

    private func put(_ original: OutgoingChunk) throws -> ChunkPut {
        try count("put", chunk: true)
        var chunk = original
        lock.withLock {
            putIndexes.append(chunk.index)
            if damageUploadsOnce.remove(chunk.index) != nil, chunk.bytes.readableBytes > 0 {
                let middle = chunk.bytes.readerIndex + chunk.bytes.readableBytes / 2
                chunk.bytes.setInteger(chunk.bytes.getInteger(at: middle, as: UInt8.self)! ^ 1, at: middle)
            }
        }
        let bytes = Array(chunk.bytes.readableBytesView)
        return lock.withLock {
            if let bytes = complete[chunk.sha256] { return .stored(Wire.ChunkResponse(received: Int64(bytes.count), complete: true)) }
            var upload = uploads[chunk.sha256] ?? ([], chunk.size)
            let held = Int64(upload.bytes.count)
            let expected = held / Int64(Wire.Files.chunkSize)
            if chunk.index > expected { return .expects(received: held) }
            if chunk.index < expected { return .stored(Wire.ChunkResponse(received: held, complete: false)) }
            guard Self.hash(bytes) == chunk.hash,
                  bytes.count == Wire.Files.chunkLength(index: chunk.index, size: chunk.size) else { return .corrupt }
            upload.bytes += bytes
            if Int64(upload.bytes.count) == chunk.size {
                uploads[chunk.sha256] = nil
                guard Self.hash(upload.bytes) == chunk.sha256 else { return .corrupt }
                complete[chunk.sha256] = upload.bytes
                custodyLog.append(Wire.CustodyEvent(id: "server-\(custodyLog.count + 1)", sha256: chunk.sha256, event: .received,
                                                    by: "ana", at: 1_737_600_000_000, seq: Int64(custodyLog.count + 1), receivedAt: 1_737_600_000_000))
                return .stored(Wire.ChunkResponse(received: chunk.size, complete: true))
            }
            uploads[chunk.sha256] = upload
            return .stored(Wire.ChunkResponse(received: Int64(upload.bytes.count), complete: false))
        }
    }

    func chunk(_ sha256: String, index: Int64) async throws -> IncomingChunk {
        try count("get", chunk: true)
        return try lock.withLock {
            guard let bytes = complete[sha256], let length = Wire.Files.chunkLength(index: index, size: Int64(bytes.count)) else {
                throw ClientError("not found", status: 404)
            }
            let start = Int(index) * Wire.Files.chunkSize
            var chunk = Array(bytes[start..<start + length])
            let hash = Self.hash(chunk)
            if damageDownloads && !chunk.isEmpty { chunk[chunk.count / 2] ^= 1 }
            return IncomingChunk(bytes: ByteBuffer(bytes: chunk), size: Int64(bytes.count), hash: hash)
        }
    }

    func pushCustody(_ events: [Wire.CustodyEvent]) async throws -> Wire.CustodyPushResponse {
        try count("custody-push")
        return lock.withLock {
            var stored = 0
            for var event in events where !custodyLog.contains(where: { $0.id == event.id }) {
                event.seq = Int64(custodyLog.count + 1)
                event.receivedAt = 1_737_600_000_000
                custodyLog.append(event)
                stored += 1
            }
            return Wire.CustodyPushResponse(stored: stored)
        }
    }

    func custody(after: Int64, limit: Int) async throws -> Wire.CustodyPage {
        try count("custody-get")
        return lock.withLock {
            let events = Array(custodyLog.filter { ($0.seq ?? 0) > after }.prefix(limit))
            let cursor = events.last?.seq ?? after
            return Wire.CustodyPage(events: events, cursor: cursor, more: cursor < Int64(custodyLog.count))
        }
    }

    var custodySeq: Int64 { lock.withLock { Int64(custodyLog.count) } }

    static func hash(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { Hex.encode(Array(SHA256.hash(data: $0))) }
    }
}
