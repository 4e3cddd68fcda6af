import Foundation
import NIOCore
import NIOHTTP1
import Shared

/// What moving files' content and custody logs needs from the server (docs/protocol.md, "Evidence
/// files"). `SyncClient` speaks HTTP; tests substitute their own.
protocol FileTransport: Sendable {
    func fileStatus(_ hashes: [String]) async throws -> Wire.FileStatusResponse
    func putChunk(_ chunk: OutgoingChunk) async throws -> ChunkPut
    func chunk(_ sha256: String, index: Int64) async throws -> IncomingChunk
    func pushCustody(_ events: [Wire.CustodyEvent]) async throws -> Wire.CustodyPushResponse
    func custody(after: Int64, limit: Int) async throws -> Wire.CustodyPage
    /// How many chunk requests may be on their way at once (1: each waits for the answer before it).
    var chunksInFlight: Int { get }
    /// Sends a chunk behind the chunk requests made before this call, whose answers may not be in yet.
    func sendChunk(_ chunk: OutgoingChunk) -> Task<ChunkPut, any Error>
    /// Asks for a chunk behind the chunk requests made before this call, whose answers may not be in yet.
    func requestChunk(_ sha256: String, index: Int64) -> Task<IncomingChunk, any Error>
}

extension FileTransport {
    var chunksInFlight: Int { 1 }

    func sendChunk(_ chunk: OutgoingChunk) -> Task<ChunkPut, any Error> {
        Task { try await putChunk(chunk) }
    }

    func requestChunk(_ sha256: String, index: Int64) -> Task<IncomingChunk, any Error> {
        Task { try await self.chunk(sha256, index: index) }
    }
}

/// One chunk of a file on its way up.
struct OutgoingChunk: Sendable {
    var sha256: String
    var index: Int64
    /// The whole file's size.
    var size: Int64
    var bytes: ByteBuffer
    /// The SHA-256 of `bytes`.
    var hash: String
}

/// What the server made of an uploaded chunk.
enum ChunkPut: Sendable, Equatable {
    /// Stored (or held already): the server holds `received` bytes, the whole file when `complete`.
    case stored(Wire.ChunkResponse)
    /// Not the chunk the server expects next: it holds `received` bytes (go on from there).
    case expects(received: Int64)
    /// The chunk arrived damaged (its length or hash): nothing was kept, send it again.
    case corrupt
}

/// One chunk of a file on its way down, as the server sent it (checked by the caller).
struct IncomingChunk: Sendable {
    var bytes: ByteBuffer
    /// The whole file's size, as the server announced it.
    var size: Int64?
    /// The chunk's SHA-256, as the server announced it.
    var hash: String?
}

extension SyncClient: FileTransport {
    func fileStatus(_ hashes: [String]) async throws -> Wire.FileStatusResponse {
        let body = try JSONEncoder().encode(Wire.FileStatusRequest(files: hashes))
        let answer = try await exchange(.POST, "files/status", body: ByteBuffer(bytes: body))
        return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server) {
            try JSONDecoder().decode(Wire.FileStatusResponse.self, from: $0)
        }
    }

    /// Three chunks on their way: enough to keep the server busy while the client reads the next one.
    var chunksInFlight: Int { 3 }

    func putChunk(_ chunk: OutgoingChunk) async throws -> ChunkPut {
        try await sendChunk(chunk).value
    }

    func sendChunk(_ chunk: OutgoingChunk) -> Task<ChunkPut, any Error> {
        let answer = pipelined(.PUT, "files/\(chunk.sha256)/chunks/\(chunk.index)", contentType: "application/octet-stream", body: chunk.bytes,
                               headers: [(Wire.Files.fileSizeHeader, String(chunk.size)), (Wire.Files.chunkHashHeader, chunk.hash)])
        return Task { try self.interpretPut(try await answer.value, chunk) }
    }

    private func interpretPut(_ answer: HTTPAnswer, _ chunk: OutgoingChunk) throws -> ChunkPut {
        let data = Data(answer.body.readableBytesView)
        if answer.status == 409, let held = answer.headers.first(name: Wire.Files.receivedHeader).flatMap(Int64.init), held >= 0 {
            return .expects(received: held)
        }
        if answer.status == 422, Self.errorCode(data) == "chunk_corrupt" { return .corrupt }
        if answer.status == 422, Self.errorCode(data) == "hash_mismatch" {
            throw ClientError("the server refused \(chunk.sha256.prefix(12)): what was sent does not hash to its name. Run 'casebook verify': this replica's copy may be damaged")
        }
        if answer.status == 507 {
            throw ClientError("the server has no room for \(chunk.sha256.prefix(12)) (\(Self.errorMessage(data) ?? "HTTP 507")): nothing more was sent; ask the server's admin, then sync again (the upload resumes)")
        }
        return .stored(try Self.interpret(status: answer.status, data: data, server: server) {
            try JSONDecoder().decode(Wire.ChunkResponse.self, from: $0)
        })
    }

    func chunk(_ sha256: String, index: Int64) async throws -> IncomingChunk {
        try await requestChunk(sha256, index: index).value
    }

    func requestChunk(_ sha256: String, index: Int64) -> Task<IncomingChunk, any Error> {
        let answer = pipelined(.GET, "files/\(sha256)/chunks/\(index)")
        return Task { try self.interpretChunk(try await answer.value, sha256) }
    }

    private func interpretChunk(_ answer: HTTPAnswer, _ sha256: String) throws -> IncomingChunk {
        if answer.status == 404 {
            throw ClientError("the server does not hold \(sha256.prefix(12)) (yet): whoever attached it must sync first", status: 404)
        }
        guard (200..<300).contains(answer.status) else {
            return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server) { _ in
                IncomingChunk(bytes: ByteBuffer(), size: nil, hash: nil)
            }
        }
        return IncomingChunk(bytes: answer.body,
                             size: answer.headers.first(name: Wire.Files.fileSizeHeader).flatMap(Int64.init),
                             hash: answer.headers.first(name: Wire.Files.chunkHashHeader))
    }

    func pushCustody(_ events: [Wire.CustodyEvent]) async throws -> Wire.CustodyPushResponse {
        let body = try JSONEncoder().encode(Wire.CustodyPush(events: events))
        let answer = try await exchange(.POST, "custody", body: ByteBuffer(bytes: body))
        return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server) {
            try JSONDecoder().decode(Wire.CustodyPushResponse.self, from: $0)
        }
    }

    func custody(after: Int64, limit: Int) async throws -> Wire.CustodyPage {
        let answer = try await exchange(.GET, "custody", query: "after=\(after)&limit=\(limit)")
        return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server) {
            try JSONDecoder().decode(Wire.CustodyPage.self, from: $0)
        }
    }

    private static func errorCode(_ data: Data) -> String? {
        (try? JSONDecoder().decode(Wire.ErrorResponse.self, from: data))?.error.code
    }

    private static func errorMessage(_ data: Data) -> String? {
        (try? JSONDecoder().decode(Wire.ErrorResponse.self, from: data))?.error.message
    }
}
