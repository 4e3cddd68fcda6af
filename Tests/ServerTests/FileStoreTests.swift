import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Evidence files beyond one upload: racing uploaders, a killed upload resumed by another store
/// instance, quotas, custody, and purges, on both stores.
@Suite struct FileStoreTests {
    @Test(arguments: StoreKind.allCases) func twoResearchersUploadingTheSameFileAtOnceEndWithOneCopy(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 3 * Wire.Files.chunkSize + 17)
        try await harness.app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in ["ana", "bek"] {
                    group.addTask { try await Self.uploadAsAClientDoes(harness, client, as: user, file) }
                }
                try await group.waitForAll()
            }
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.complete == true)
            #expect(try await harness.download(client, as: "vera", file) == file.bytes)
            #expect(try await harness.custody(client, as: "ana").events.map(\.event) == [.received])
            #expect(try await harness.store.fileUsage(project: "kz").files == 1)
            #expect(try await harness.store.fileUsage(project: "kz").used == file.size)
        }
        if let folder = harness.filesFolder {
            let listed = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz").path).sorted()
            #expect(listed == ["partial", file.sha256].sorted())
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz/partial").path).isEmpty)
        }
    }

    @Test func twoInstancesBehindALoadBalancerRacingOverOneFileEndWithOneCopy() async throws {
        let harness = try await ServerHarness(store: .postgres)
        defer { harness.cleanUp() }
        let (second, stop) = try await harness.reopen()
        defer { stop() }
        let other = try buildApplication(store: second, settings: harness.settings, port: 0, logger: ServerHarness.logger)
        let file = TestFile(size: 3 * Wire.Files.chunkSize + 17)
        try await harness.app.test(.router) { first in
            try await other.test(.router) { secondClient in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await Self.uploadAsAClientDoes(harness, first, as: "ana", file) }
                    group.addTask { try await Self.uploadAsAClientDoes(harness, secondClient, as: "bek", file) }
                    try await group.waitForAll()
                }
                #expect(try await harness.download(secondClient, as: "vera", file) == file.bytes)
            }
            #expect(try await harness.download(first, as: "vera", file) == file.bytes)
            #expect(try await harness.custody(first, as: "ana").events.map(\.event) == [.received])
        }
    }

    /// Uploads `file`, going on from what the server holds after any answer but 200, as a client does.
    static func uploadAsAClientDoes(_ harness: ServerHarness, _ client: some TestClientProtocol, as user: String, _ file: TestFile) async throws {
        var index = 0
        while index < file.chunkCount {
            let response = try await harness.putChunk(client, as: user, file, index)
            if response.status == .ok {
                let answer = try response.decode(Wire.ChunkResponse.self)
                if answer.complete { return }
                index = Int(answer.received) / Wire.Files.chunkSize
            } else {
                #expect(response.status == .conflict, "\(user) chunk \(index): \(response.error?.message ?? "")")
                index = Int(try await harness.fileStatus(client, as: user, [file.sha256])[0].received) / Wire.Files.chunkSize
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func anUploadCutOffGoesOnWithAnotherServerProcess(store: StoreKind) async throws {
        // Every chunk flushed and counted as it comes (see the next test for chunks not flushed yet).
        let harness = try await ServerHarness(store: store, flushInterval: Int64(Wire.Files.chunkSize))
        defer { harness.cleanUp() }
        let file = TestFile(size: 3 * Wire.Files.chunkSize + 5)
        try await harness.app.test(.router) { client in
            for index in 0..<2 {
                let response = try await harness.putChunk(client, as: "ana", file, index)
                #expect(response.status == .ok)
            }
        }
        // The process died: a new one opens the same store, with no running hash of the upload.
        let (second, stop) = try await harness.reopen()
        defer { stop() }
        let app = try buildApplication(store: second, settings: harness.settings, port: 0, logger: ServerHarness.logger)
        try await app.test(.router) { client in
            let status = try await harness.fileStatus(client, as: "ana", [file.sha256])
            #expect(status.first?.received == 2 * Int64(Wire.Files.chunkSize))
            #expect(try await harness.upload(client, as: "ana", file, from: 2).complete)
            #expect(try await harness.download(client, as: "bek", file) == file.bytes)
            #expect(try await harness.custody(client, as: "ana").events.count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func afterARestartOnlyFlushedChunksCountAndTheUploadGoesOn(store: StoreKind) async throws {
        let chunk = Int64(Wire.Files.chunkSize)
        let harness = try await ServerHarness(store: store, flushInterval: 2 * chunk)
        defer { harness.cleanUp() }
        let file = TestFile(size: 3 * Wire.Files.chunkSize + 5)
        try await harness.app.test(.router) { client in
            for index in 0..<3 {
                #expect(try await harness.putChunk(client, as: "ana", file, index).status == .ok)
            }
            // This process holds three chunks, the last not flushed yet on the embedded store: it counts it.
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == 3 * chunk)
            let again = try await harness.putChunk(client, as: "ana", file, 1)
            #expect(try again.decode(Wire.ChunkResponse.self) == Wire.ChunkResponse(received: 3 * chunk, complete: false))
        }
        // The process died with chunk 2 written but not flushed: a new one counts only the flushed chunks
        // on the embedded store; PostgreSQL committed each chunk (a crash loses whole transactions only).
        let (second, stop) = try await harness.reopen()
        defer { stop() }
        let counted = store == .sqlite ? 2 * chunk : 3 * chunk
        let app = try buildApplication(store: second, settings: harness.settings, port: 0, logger: ServerHarness.logger)
        try await app.test(.router) { client in
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == counted)
            if store == .sqlite {
                // Chunk 2 again first, not 3: what was not flushed is not held.
                let ahead = try await harness.putChunk(client, as: "ana", file, 3)
                #expect(ahead.status == .conflict)
                #expect(ahead.headers[HTTPField.Name(Wire.Files.receivedHeader)!] == String(counted))
            }
            #expect(try await harness.upload(client, as: "ana", file, from: Int(counted / chunk)).complete)
            #expect(try await harness.download(client, as: "bek", file) == file.bytes)
            #expect(try await harness.custody(client, as: "ana").events.count == 1)
        }
        if let folder = harness.filesFolder {
            let partials = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz/partial").path)) ?? []
            #expect(partials.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz").path).filter { $0 != "partial" } == [file.sha256])
        }
    }

    @Test(arguments: StoreKind.allCases) func aFileOverTheProjectsQuotaIsRefusedOnItsFirstChunk(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let small = TestFile(size: 1 << 20, seed: 1), large = TestFile(size: twoChunks, seed: 2)
        #expect(try await harness.store.fileUsage(project: "kz") == FileUsage(quota: FileUsage.defaultQuota, used: 0, files: 0, isDefault: true))
        try await harness.store.setFileQuota(project: "kz", bytes: 3 << 20)
        try await harness.app.test(.router) { client in
            #expect(try await harness.upload(client, as: "ana", small).complete)
            // The body before the quota (the protocol's order): a damaged first chunk of a file over it is answered as damaged.
            var damaged = large.chunk(0)
            damaged.setInteger(UInt8(7) ^ damaged.getInteger(at: 100)!, at: 100)
            #expect(try await harness.putChunk(client, as: "ana", large, 0, body: damaged).error?.code == "chunk_corrupt")
            let refused = try await harness.putChunk(client, as: "ana", large, 0)
            #expect(refused.status.code == 507)
            #expect(refused.error?.code == "quota_exceeded")
            #expect(refused.error?.message.contains("3.0 MiB") == true)
            #expect(refused.error?.message.contains("1.0 MiB") == true)
            #expect(try await harness.fileStatus(client, as: "ana", [large.sha256]).first?.received == 0)
            // Another project's quota is its own.
            #expect(try await harness.putChunk(client, as: "olga", large, 0, project: "other").status == .ok)
            try await harness.store.setFileQuota(project: "kz", bytes: nil)
            #expect(try await harness.upload(client, as: "ana", large).complete)
        }
        let usage = try await harness.store.fileUsage(project: "kz")
        #expect(usage == FileUsage(quota: FileUsage.defaultQuota, used: small.size + large.size, files: 2, isDefault: true))
        await #expect(throws: StoreError.self) { try await harness.store.setFileQuota(project: "nope", bytes: 1) }
    }

    @Test(arguments: StoreKind.allCases) func custodyEventsAreAppendedOnceByTheirAuthorAndPaged(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 10)
        try await harness.app.test(.router) { client in
            let events = [FileRouteTests.event("a1", file, .added), FileRouteTests.event("a2", file, .uploaded)]
            let first = try await harness.postCustody(client, as: "ana", events)
            #expect(try first.decode(Wire.CustodyPushResponse.self).stored == 2)
            let retry = try await harness.postCustody(client, as: "ana", events + [FileRouteTests.event("v1", file, .downloaded)])
            #expect(try retry.decode(Wire.CustodyPushResponse.self).stored == 1)
            let page = try await harness.custody(client, as: "vera", limit: 2)
            #expect(page.events.map(\.id) == ["a1", "a2"])
            #expect(page.events.map(\.by) == ["ana", "ana"])  // the token's user, not the claim
            #expect(page.events.map(\.seq) == [1, 2])
            #expect(page.events.allSatisfy { $0.receivedAt == ServerHarness.now })
            #expect(page.events[0].name == "photo.jpg" && page.events[0].record == recordA && page.events[0].size == 10)
            #expect(page.cursor == 2 && page.more)
            let rest = try await harness.custody(client, as: "vera", after: page.cursor)
            #expect(rest.events.map(\.id) == ["v1"] && rest.cursor == 3 && !rest.more)
            #expect(try await harness.custody(client, as: "vera", after: 3) == Wire.CustodyPage(events: [], cursor: 3, more: false))
            #expect(try await harness.pull(client, as: "vera").custodySeq == 3)

            let refused: [[Wire.CustodyEvent]] = [
                [FileRouteTests.event("r1", file, .received)],
                [Wire.CustodyEvent(id: "h1", sha256: "ABC", event: .added, by: "x", at: 1)],
                [Wire.CustodyEvent(id: "", sha256: file.sha256, event: .added, by: "x", at: 1)],
                Array(repeating: FileRouteTests.event("n", file, .downloaded), count: 1_001),
            ]
            for batch in refused {
                let response = try await harness.postCustody(client, as: "ana", batch)
                #expect(response.status == .badRequest, "\(batch.first?.id ?? "")")
            }
            let unknown = try await client.execute(uri: "/v1/projects/kz/custody", method: .post, headers: harness.headers("ana"), body: ByteBuffer(string: """
                {"events":[{"id":"x","sha256":"\(file.sha256)","event":"edited","by":"ana","at":1}]}
                """))
            #expect(unknown.status == .badRequest)
            #expect(try await harness.custody(client, as: "vera").events.count == 3)
            for query in ["after=-1", "limit=0", "after=x"] {
                #expect(try await client.execute(uri: "/v1/projects/kz/custody?\(query)", method: .get, headers: harness.headers("ana")).status == .badRequest)
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func purgeRemovesOnlyFilesNoLiveRecordReferences(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let kept = TestFile(size: 100, seed: 1), ofDeleted = TestFile(size: 200, seed: 2), orphan = TestFile(size: 300, seed: 3)
        let partial = TestFile(size: twoChunks, seed: 4), replaced = TestFile(size: 50, seed: 5)
        try await harness.app.test(.router) { client in
            for file in [kept, ofDeleted, orphan, replaced] { try await harness.upload(client, as: "ana", file) }
            #expect(try await harness.putChunk(client, as: "ana", partial, 0).status == .ok)
            var ana = ChangeMaker(node: "000000000000000a")
            let first = ana.change(recordA, "evidence", .files([Self.ref(replaced)]))
            let changes = [first, ana.change(recordA, "evidence", .files([Self.ref(kept)]), base: first.hlc),
                           ana.change(recordB, "evidence", .files([Self.ref(ofDeleted)]))]
            let deletion = ana.change(recordB, Change.deletedField, .bool(true), covers: [changes[2].hlc])
            #expect(try await harness.push(client, as: "ana", changes + [deletion]).status == .ok)
            _ = try await harness.postCustody(client, as: "ana", [Wire.CustodyEvent(id: "o1", sha256: orphan.sha256, event: .added, by: "", at: 1, name: "scan.pdf")])

            let dry = try await harness.store.purgeFiles(project: "kz", dryRun: true)
            let expected = [ofDeleted, orphan, partial, replaced].sorted { $0.sha256 < $1.sha256 }
            #expect(dry.files.map(\.sha256) == expected.map(\.sha256))
            #expect(dry.bytes == 200 + 300 + Int64(Wire.Files.chunkSize) + 50)
            #expect(dry.files.first { $0.sha256 == orphan.sha256 }?.names == ["scan.pdf"])
            #expect(dry.files.first { $0.sha256 == partial.sha256 }?.complete == false)
            #expect(try await harness.fileStatus(client, as: "ana", [orphan.sha256]).first?.complete == true)  // a dry run removes nothing

            let purge = try await harness.store.purgeFiles(project: "kz", dryRun: false)
            #expect(purge.files == dry.files.map { item in item } && !purge.dryRun)
            let statuses = try await harness.fileStatus(client, as: "ana", [kept, ofDeleted, orphan, partial, replaced].map(\.sha256))
            #expect(statuses.map(\.received) == [100, 0, 0, 0, 0])
            #expect(try await harness.download(client, as: "ana", kept) == kept.bytes)
            #expect(try await harness.custody(client, as: "ana").events.count == 5)  // four received and one added: logs stay
            #expect(try await harness.store.purgeFiles(project: "kz", dryRun: false).files.isEmpty)
            // A purged file can be uploaded again.
            #expect(try await harness.upload(client, as: "ana", orphan).complete)
        }
        if let folder = harness.filesFolder {
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz").path).sorted()
                    == ["partial", kept.sha256, orphan.sha256].sorted())
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kz/partial").path).isEmpty)
        }
    }

    @Test func aPurgeWaitsForTheChunksBeingStoredInAnyProcess() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        let serving = try #require(harness.store as? SQLiteSyncStore)
        // An admin process's store on the same folder, and a chunk being stored by serve meanwhile.
        let admin = try SQLiteSyncStore(folder: harness.folder)
        let storing = try await serving.files.lock(exclusive: false)
        let finished = ManagedFlag()
        let purge = Task {
            defer { finished.set() }
            return try await admin.purgeFiles(project: "kz", dryRun: false)
        }
        try await Task.sleep(for: .milliseconds(300))
        let another = try await serving.files.lock(exclusive: false)  // chunks do not wait for each other
        another.release()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!finished.isSet)
        storing.release()
        #expect(try await purge.value.files.isEmpty)
    }

    static func ref(_ file: TestFile) -> FileRef {
        FileRef(sha256: file.sha256, name: "file.bin", size: file.size, mime: FileRef.unknownMime)
    }
}

/// A flag set once, read from any task.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
