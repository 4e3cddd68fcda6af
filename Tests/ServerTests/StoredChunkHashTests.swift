import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// A download announces each chunk's hash as it was checked on arrival, kept with the file, not a hash of
/// what the server reads back: a chunk damaged on the server's disk since is then refused by the client
/// (`FileSyncer.check`) instead of passing until the whole file's hash fails.
@Suite struct StoredChunkHashTests {
    @Test(arguments: StoreKind.allCases) func aChunkDamagedOnTheServerIsAnnouncedWithTheHashItArrivedWith(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks)
        try await harness.app.test(.router) { client in
            let answer = try await harness.upload(client, as: "ana", file)
            #expect(answer.complete)
        }
        try damageChunk(1, of: file, in: harness)
        try await harness.app.test(.router) { client in
            let first = try await getChunk(client, harness, file, 0)
            #expect(first.announced == file.chunkHash(0))
            #expect(first.announced == FileController.hash(first.body))
            let damaged = try await getChunk(client, harness, file, 1)
            #expect(damaged.body.readableBytes == file.chunk(1).readableBytes)
            #expect(damaged.body != file.chunk(1))
            #expect(damaged.announced == file.chunkHash(1))
        }
    }

    @Test(arguments: StoreKind.allCases) func aFileStoredWithoutItsChunksHashesHasThemHashedAsServed(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks)
        try await harness.app.test(.router) { client in
            let answer = try await harness.upload(client, as: "ana", file)
            #expect(answer.complete)
        }
        // As a file completed before the hashes were kept (or, on the embedded store, after a restart).
        if let sqlite = harness.store as? SQLiteSyncStore {
            try await sqlite.pool.write { db in try db.execute(sql: "UPDATE file SET chunk_hashes = NULL") }
        } else {
            _ = try harness.psql("UPDATE file_chunk SET hash = NULL")
        }
        try damageChunk(1, of: file, in: harness)
        try await harness.app.test(.router) { client in
            #expect(try await getChunk(client, harness, file, 0).announced == file.chunkHash(0))
            let damaged = try await getChunk(client, harness, file, 1)
            #expect(damaged.announced == FileController.hash(damaged.body))
            #expect(damaged.announced != file.chunkHash(1))
        }
    }

    @Test func anUploadGoingOnAfterARestartCompletesWithoutChunkHashesAndIsServedWhole() async throws {
        let harness = try await ServerHarness(store: .sqlite, flushInterval: Int64(Wire.Files.chunkSize))
        defer { harness.cleanUp() }
        let file = TestFile(size: 2 * Wire.Files.chunkSize + 5)
        try await harness.app.test(.router) { client in
            let answer = try await harness.putChunk(client, as: "ana", file, 0)
            #expect(answer.status == .ok)
        }
        let (second, stop) = try await harness.reopen()
        defer { stop() }
        let app = try buildApplication(store: second, settings: harness.settings, port: 0, logger: ServerHarness.logger)
        try await app.test(.router) { client in
            let answer = try await harness.upload(client, as: "ana", file, from: 1)
            #expect(answer.complete)
            let downloaded = try await harness.download(client, as: "bek", file)
            #expect(downloaded == file.bytes)
        }
        let sqlite = try #require(second as? SQLiteSyncStore)
        let stored = try await sqlite.pool.read { db in try Row.fetchOne(db, sql: "SELECT chunk_hashes IS NULL FROM file") }
        #expect(stored?[0] == true)
    }

    @Test func anUploadKeepsItsChunksHashesOnlyAsAnUnbrokenRunFromTheFirst() throws {
        let hashes = (0..<3).map { index in String(repeating: String(index), count: 64) }
        let whole = UploadHashers()
        for index in 0..<2 {
            whole.keep("a", at: Int64(index + 1) * 10, RunningHash(), chunk: Int64(index), hash: hashes[index])
        }
        #expect(whole.finish("a", lastChunk: 2, hash: hashes[2]) == hashes.flatMap { Hex.decode($0)! })
        #expect(whole.finish("a", lastChunk: 2, hash: hashes[2]) == nil)

        #expect(UploadHashers().finish("one chunk", lastChunk: 0, hash: hashes[0]) == Hex.decode(hashes[0]))
        #expect(UploadHashers().finish("no entry", lastChunk: 1, hash: hashes[1]) == nil)

        let gap = UploadHashers()
        gap.keep("b", at: 10, RunningHash(), chunk: 0, hash: hashes[0])
        gap.keep("b", at: 30, RunningHash(), chunk: 2, hash: hashes[2])
        gap.keep("b", at: 40, RunningHash(), chunk: 3, hash: hashes[0])
        #expect(gap.finish("b", lastChunk: 4, hash: hashes[1]) == nil)

        let readBack = UploadHashers()
        readBack.keep("c", at: 20, readBack: RunningHash())
        readBack.keep("c", at: 30, RunningHash(), chunk: 2, hash: hashes[2])
        #expect(readBack.finish("c", lastChunk: 3, hash: hashes[0]) == nil)
    }

    /// Flips one byte of chunk `index` where the store keeps it, past the server's back.
    private func damageChunk(_ index: Int, of file: TestFile, in harness: ServerHarness) throws {
        if let folder = harness.filesFolder {
            let url = folder.appendingPathComponent("kz").appendingPathComponent(file.sha256)
            var bytes = try Data(contentsOf: url)
            bytes[index * Wire.Files.chunkSize + 10] ^= 1
            try bytes.write(to: url)
        } else {
            _ = try harness.psql("UPDATE file_chunk SET data = set_byte(data, 10, get_byte(data, 10) # 1) WHERE chunk = \(index)")
        }
    }

    private func getChunk(_ client: some TestClientProtocol, _ harness: ServerHarness, _ file: TestFile, _ index: Int) async throws
        -> (body: ByteBuffer, announced: String?) {
        let response = try await client.execute(uri: "/v1/projects/kz/files/\(file.sha256)/chunks/\(index)", method: .get, headers: harness.headers("bek"))
        #expect(response.status == .ok)
        return (response.body, response.headers[HTTPField.Name(Wire.Files.chunkHashHeader)!])
    }
}
