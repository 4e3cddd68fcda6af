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
}

/// One chunk of a file on its way up.
struct OutgoingChunk: Sendable {
    var sha256: String
    var index: Int64
    /// The whole file's size.
    var size: Int64
    var bytes: [UInt8]
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
    var bytes: [UInt8]
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

    func putChunk(_ chunk: OutgoingChunk) async throws -> ChunkPut {
        let answer = try await exchange(.PUT, "files/\(chunk.sha256)/chunks/\(chunk.index)", contentType: "application/octet-stream",
                                        body: ByteBuffer(bytes: chunk.bytes),
                                        headers: [(Wire.Files.fileSizeHeader, String(chunk.size)), (Wire.Files.chunkHashHeader, chunk.hash)])
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
        let answer = try await exchange(.GET, "files/\(sha256)/chunks/\(index)")
        if answer.status == 404 {
            throw ClientError("the server does not hold \(sha256.prefix(12)) (yet): whoever attached it must sync first", status: 404)
        }
        guard (200..<300).contains(answer.status) else {
            return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server) { _ in
                IncomingChunk(bytes: [], size: nil, hash: nil)
            }
        }
        return IncomingChunk(bytes: Array(answer.body.readableBytesView),
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
