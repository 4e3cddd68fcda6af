import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// A file for the tests: bytes that differ from chunk to chunk (made from a seed), their hash and chunks.
struct TestFile: Sendable {
    let bytes: [UInt8]
    let sha256: String

    init(size: Int, seed: UInt64 = 1) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        bytes = (0..<size).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        var hasher = RunningHash()
        hasher.update(ByteBuffer(bytes: bytes))
        sha256 = hasher.hex()
    }

    var size: Int64 { Int64(bytes.count) }
    var chunkCount: Int { Int(Wire.Files.chunkCount(size: size)) }

    func chunk(_ index: Int) -> ByteBuffer {
        let start = index * Wire.Files.chunkSize
        return ByteBuffer(bytes: bytes[start..<min(start + Wire.Files.chunkSize, bytes.count)])
    }

    func chunkHash(_ index: Int) -> String { FileController.hash(chunk(index)) }
}

extension ServerHarness {
    /// PUT one chunk; the body, size, chunk hash and name default to the file's own.
    func putChunk(_ client: some TestClientProtocol, as user: String, _ file: TestFile, _ index: Int, body: ByteBuffer? = nil,
                  size: Int64? = nil, chunkHash: String? = nil, sha256: String? = nil, project: String = "kz") async throws -> TestResponse {
        var headers = self.headers(user)
        headers[.contentType] = "application/octet-stream"
        headers[HTTPField.Name(Wire.Files.fileSizeHeader)!] = String(size ?? file.size)
        headers[HTTPField.Name(Wire.Files.chunkHashHeader)!] = chunkHash ?? file.chunkHash(index)
        return try await client.execute(uri: "/v1/projects/\(project)/files/\(sha256 ?? file.sha256)/chunks/\(index)", method: .put,
                                        headers: headers, body: body ?? file.chunk(index))
    }

    /// Uploads every chunk of `file` from `first` on, expecting each to be accepted; returns the last answer.
    @discardableResult
    func upload(_ client: some TestClientProtocol, as user: String, _ file: TestFile, from first: Int = 0) async throws -> Wire.ChunkResponse {
        var last = Wire.ChunkResponse(received: 0, complete: false)
        for index in first..<file.chunkCount {
            let response = try await putChunk(client, as: user, file, index)
            #expect(response.status == .ok, "chunk \(index): \(response.error?.message ?? "")")
            last = try response.decode(Wire.ChunkResponse.self)
        }
        return last
    }

    func fileStatus(_ client: some TestClientProtocol, as user: String, _ hashes: [String]) async throws -> [Wire.FileStatus] {
        let body = try JSONEncoder().encode(Wire.FileStatusRequest(files: hashes))
        let response = try await client.execute(uri: "/v1/projects/kz/files/status", method: .post, headers: headers(user), body: ByteBuffer(bytes: body))
        #expect(response.status == .ok, "\(response.error?.message ?? "")")
        let answer = try response.decode(Wire.FileStatusResponse.self)
        #expect(answer.chunkSize == Wire.Files.chunkSize)
        return answer.files
    }

    /// Downloads every chunk of a complete file, checking each chunk's headers; returns the bytes.
    func download(_ client: some TestClientProtocol, as user: String, _ file: TestFile) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<file.chunkCount {
            let response = try await client.execute(uri: "/v1/projects/kz/files/\(file.sha256)/chunks/\(index)", method: .get, headers: headers(user))
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name(Wire.Files.fileSizeHeader)!] == String(file.size))
            #expect(response.headers[HTTPField.Name(Wire.Files.chunkHashHeader)!] == FileController.hash(response.body))
            #expect(response.headers[.contentType] == "application/octet-stream")
            bytes += Array(buffer: response.body)
        }
        return bytes
    }

    func custody(_ client: some TestClientProtocol, as user: String, after: Int64 = 0, limit: Int? = nil) async throws -> Wire.CustodyPage {
        let query = "after=\(after)" + (limit.map { "&limit=\($0)" } ?? "")
        let response = try await client.execute(uri: "/v1/projects/kz/custody?\(query)", method: .get, headers: headers(user))
        #expect(response.status == .ok, "\(response.error?.message ?? "")")
        return try response.decode(Wire.CustodyPage.self)
    }

    func postCustody(_ client: some TestClientProtocol, as user: String, _ events: [Wire.CustodyEvent]) async throws -> TestResponse {
        let body = try JSONEncoder().encode(Wire.CustodyPush(events: events))
        return try await client.execute(uri: "/v1/projects/kz/custody", method: .post, headers: headers(user), body: ByteBuffer(bytes: body))
    }
}

/// Two chunks and a bit: the smallest file that has a middle chunk boundary and a short last chunk.
let twoChunks = Wire.Files.chunkSize + 1_000
