import Foundation
import Testing
@testable import Client
@testable import Shared

/// Moving files' content and custody with a server in memory: uploads and downloads resume at their
/// last chunk after a cut, every chunk is checked, and a sync with nothing to move asks nothing.
@Suite struct FileSyncTests {
    static let size = 3 * Wire.Files.chunkSize + 999

    func syncer(_ replica: Replica, _ server: FakeFileServer) throws -> FileSyncer {
        FileSyncer(replica: replica, transport: server, settings: try replica.settings(), progress: ProgressLine(enabled: false))
    }

    /// A replica holding a record whose evidence is `ref` (received from another replica), content not here.
    func receiver(_ ref: FileRef) async throws -> TemporaryReplica {
        let local = try TemporaryReplica(user: "bek", node: "00000000000000b2", onDisk: true)
        let change = Change(collection: "incidents", record: "0194910800000000a1b2c3d4e5f60718", field: "evidence", value: .files([ref]),
                            hlc: HLC(millis: 1_737_600_000_000, counter: 0, node: NodeID("00000000000000a1")!), author: "ana", base: nil)
        var state = SyncState()
        state.snapshot = .done
        state.cursor = 1
        _ = try await local.replica.applyPulled([Wire.LoggedChange(seq: 1, change: change, receivedAt: 1_737_600_000_000)],
                                                serverTime: 1_737_600_000_000, state: state, schema: .upr)
        return local
    }

    @Test func anUploadCutOffResumesAtTheServersChunkAndCustodyGoesBothWays() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "upload")
        let id = try local.add(["title": .text("Upload")])
        _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("video.mp4", bytes)], settings: local.settings)
        let server = FakeFileServer()
        server.failAfterChunks = 2
        await #expect(throws: ClientError.self) { _ = try await syncer(local.replica, server).run(custodySeq: 0) }
        let sha256 = FakeFileServer.hash(bytes)
        #expect(server.received(sha256) == 2 * Int64(Wire.Files.chunkSize))

        server.resetFailures()
        let putsBefore = server.requests.filter { $0 == "put" }.count
        let report = try await syncer(local.replica, server).run(custodySeq: server.custodySeq)
        #expect(report.uploaded == 1 && report.uploadedBytes == Int64(Self.size - 2 * Wire.Files.chunkSize))
        #expect(server.complete[sha256] == bytes)
        #expect(server.requests.filter { $0 == "put" }.count - putsBefore == 2, "\(server.requests)")
        #expect(report.custodySent == 2 && report.custodyReceived == 3)
        let events = try await local.replica.custody(of: sha256).events
        #expect(events.map(\.event).sorted { $0.rawValue < $1.rawValue } == [.added, .received, .uploaded])
        #expect(events.allSatisfy { $0.seq != nil })

        // Nothing left to move: not a single request.
        let before = server.requests.count
        let again = try await syncer(local.replica, server).run(custodySeq: server.custodySeq)
        #expect(again.uploaded == 0 && again.custodySent == 0 && again.custodyReceived == 0)
        #expect(server.requests.count == before)
    }

    @Test func pipelinedChunksAfterOneTheServerRefusedAreSentAgainInOrder() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "pipelined")
        _ = try local.replica.attach(try local.add(["title": .text("Pipelined")]), field: nil,
                                     paths: [try EvidenceFixtures.file("video.mp4", bytes)], settings: local.settings)
        let server = FakeFileServer()
        server.pipelineDepth = 3
        // Chunk 1 arrives damaged: it is refused, and chunks 2 and 3, already on their way behind it, are
        // refused as ahead of what the server holds; the client sends 1, 2 and 3 again, in order.
        server.damageUploadsOnce = [1]
        let report = try await syncer(local.replica, server).run(custodySeq: 0)
        #expect(report.uploaded == 1 && report.uploadedBytes == Int64(Self.size))
        #expect(server.complete[FakeFileServer.hash(bytes)] == bytes)
        #expect(server.putIndexes == [0, 1, 2, 3, 1, 2, 3])

        // Cut off with three chunks on their way: what the server took is kept, the rest resumes.
        let other = EvidenceFixtures.bytes(Self.size, marker: "pipelined-cut", seed: 2)
        _ = try local.replica.attach(try local.add(["title": .text("Cut")]), field: nil,
                                     paths: [try EvidenceFixtures.file("audio.m4a", other)], settings: local.settings)
        server.failAfterChunks = server.putIndexes.count + 2
        await #expect(throws: ClientError.self) { _ = try await syncer(local.replica, server).run(custodySeq: server.custodySeq) }
        #expect(server.received(FakeFileServer.hash(other)) == 2 * Int64(Wire.Files.chunkSize))
        server.resetFailures()
        let resumed = try await syncer(local.replica, server).run(custodySeq: server.custodySeq)
        #expect(resumed.uploaded == 1 && resumed.uploadedBytes == Int64(Self.size - 2 * Wire.Files.chunkSize))
        #expect(server.complete[FakeFileServer.hash(other)] == other)
    }

    @Test func aFileTheServerHoldsAlreadyIsNotSentAgain() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let bytes = EvidenceFixtures.bytes(50_000, marker: "known")
        let server = FakeFileServer()
        _ = server.hold(bytes)
        let id = try local.add(["title": .text("Known")])
        _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("same.jpg", bytes)], settings: local.settings)
        let report = try await syncer(local.replica, server).run(custodySeq: 0)
        #expect(report.uploaded == 0 && !server.requests.contains("put"))
        #expect(try await local.replica.filesNotOnServer().isEmpty)
    }

    @Test func contentAttachedAgainAfterTheServerPurgedItIsSentAgain() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let bytes = EvidenceFixtures.bytes(10_000, marker: "purged")
        let path = try EvidenceFixtures.file("leaflet.pdf", bytes)
        let server = FakeFileServer()
        _ = try local.replica.attach(try local.add(["title": .text("First")]), field: nil, paths: [path], settings: local.settings)
        #expect(try await syncer(local.replica, server).run(custodySeq: 0).uploaded == 1)
        server.purge(FakeFileServer.hash(bytes))
        _ = try local.replica.attach(try local.add(["title": .text("Second")]), field: nil, paths: [path], settings: local.settings)
        #expect(try await syncer(local.replica, server).run(custodySeq: server.custodySeq).uploaded == 1)
        #expect(server.complete[FakeFileServer.hash(bytes)] == bytes)
    }

    @Test func aDownloadCutOffResumesAfterTheStoredChunksAndChecksTheWhole() async throws {
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "download")
        let server = FakeFileServer()
        let sha256 = server.hold(bytes)
        let ref = FileRef(sha256: sha256, name: "audio.m4a", size: Int64(Self.size), mime: "audio/mp4")
        let local = try await receiver(ref)
        defer { local.cleanUp() }
        let (_, before) = try await local.replica.files(of: "0194910800000000a1b2c3d4e5f60718", schema: .upr)
        #expect(before.map(\.local) == [false])

        server.failAfterChunks = 2
        let wanted = try await local.replica.filesToFetch(["01949108"], all: false, schema: .upr)
        #expect(wanted == [ref])
        await #expect(throws: ClientError.self) { _ = try await syncer(local.replica, server).download(wanted) }
        let partial = local.replica.files.partialURL(sha256)
        #expect(FileManager.default.fileExists(atPath: partial.path))

        server.resetFailures()
        let (fetched, received) = try await syncer(local.replica, server).download(wanted)
        #expect(fetched == 1 && received == Int64(Self.size - 2 * Wire.Files.chunkSize))
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(try await local.replica.files(of: "01949108", schema: .upr).files.map(\.local) == [true])
        #expect(try StoredFile(store: local.replica.files, sha256: sha256, size: ref.size).chunk(3) == Array(bytes[(3 * Wire.Files.chunkSize)...]))
        #expect(try await local.replica.verify().failures.isEmpty)
        #expect(try await local.replica.custody(of: sha256).events.map(\.event) == [.downloaded])
        #expect(try await local.replica.filesToFetch([], all: true, schema: .upr).isEmpty)
        // A stored file that went missing from the folder is fetched again.
        try FileManager.default.removeItem(at: local.replica.files.url(sha256))
        #expect(try await local.replica.filesToFetch([], all: true, schema: .upr) == [ref])
    }

    @Test func aDamagedChunkFromTheServerIsRefusedAndNotStored() async throws {
        let bytes = EvidenceFixtures.bytes(Wire.Files.chunkSize + 10, marker: "damaged")
        let server = FakeFileServer()
        let sha256 = server.hold(bytes)
        let local = try await receiver(FileRef(sha256: sha256, name: "x.pdf", size: Int64(bytes.count), mime: "application/pdf"))
        defer { local.cleanUp() }
        server.damageDownloads = true
        let wanted = try await local.replica.filesToFetch([String(sha256.prefix(7))], all: false, schema: .upr)
        await #expect { _ = try await syncer(local.replica, server).download(wanted) } throws: {
            ($0 as? ClientError)?.message.contains("does not hash to what the server announced") == true
        }
        #expect(try await local.replica.read { db in try FileCatalog.allHeld(db) }.isEmpty)
        let size = (try? FileManager.default.attributesOfItem(atPath: local.replica.files.partialURL(sha256).path)[.size] as? Int) ?? 0
        #expect(size == 0)
    }

    @Test func aSyncWithManyFilesOnTheServerMakesNoRequest() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Many")])
        let paths = try (0..<40).map { try EvidenceFixtures.file("f\($0).txt", EvidenceFixtures.bytes(100, marker: "f\($0)", seed: UInt64($0))) }
        _ = try local.replica.attach(id, field: nil, paths: paths, settings: local.settings)
        let server = FakeFileServer()
        _ = try await syncer(local.replica, server).run(custodySeq: 0)
        #expect(server.requests.filter { $0 == "status" }.count == 1)
        let before = server.requests.count
        _ = try await syncer(local.replica, server).run(custodySeq: server.custodySeq)
        #expect(server.requests.count == before)
    }
}
