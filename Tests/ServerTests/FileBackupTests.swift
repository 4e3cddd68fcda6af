import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The embedded store's files in its backup and in doctor's checks.
@Suite struct FileBackupTests {
    @Test func aBackupHoldsTheCompleteFilesAndRestoresToAServerThatServesThem() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks, seed: 1), empty = TestFile(size: 0), unfinished = TestFile(size: twoChunks, seed: 3)
        try await harness.app.test(.router) { client in
            try await harness.upload(client, as: "ana", file)
            try await harness.upload(client, as: "ana", empty)
            let response = try await harness.putChunk(client, as: "ana", unfinished, 0)
            #expect(response.status == .ok)
        }
        let sqlite = try #require(harness.store as? SQLiteSyncStore)
        let target = harness.folder.appendingPathComponent("backup.sqlite")
        let summary = try sqlite.backup(to: target)
        #expect(summary == SQLiteSyncStore.BackupSummary(projects: 2, changes: 0, files: 2, bytes: file.size))
        let copied = SQLiteSyncStore.backupFilesFolder(target)
        #expect(try FileManager.default.contentsOfDirectory(atPath: copied.appendingPathComponent("kz").path).sorted() == [file.sha256, empty.sha256].sorted())

        // Restored as a data folder: the complete files are served; the upload in progress starts again.
        let restored = harness.folder.appendingPathComponent("restored")
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: target, to: restored.appendingPathComponent("casebook.sqlite"))
        try FileManager.default.copyItem(at: copied, to: restored.appendingPathComponent("files"))
        let app = try buildApplication(store: try SQLiteSyncStore(folder: restored), settings: harness.settings, port: 0, logger: ServerHarness.logger)
        try await app.test(.router) { client in
            let bytes = try await harness.download(client, as: "bek", file)
            #expect(bytes == file.bytes)
            #expect(try await harness.download(client, as: "bek", empty) == [])
            #expect(try await harness.fileStatus(client, as: "bek", [unfinished.sha256]).first?.received == 0)
            #expect(try await harness.custody(client, as: "bek").events.count == 2)
        }
        #expect(Doctor.checkEvidenceFiles(folder: restored, verify: true).map(\.status) == [.ok])
    }

    @Test func aBackupOfAStoreWithoutFilesIsTheDatabaseAlone() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        let target = harness.folder.appendingPathComponent("backup.sqlite")
        let summary = try #require(harness.store as? SQLiteSyncStore).backup(to: target)
        #expect(summary.files == 0)
        #expect(FileManager.default.fileExists(atPath: target.path))
        #expect(!FileManager.default.fileExists(atPath: SQLiteSyncStore.backupFilesFolder(target).path))
        #expect(Doctor.checkEvidenceFiles(folder: harness.folder, verify: true).isEmpty)
    }

    @Test func doctorReportsMissingAndDamagedFiles() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        let first = TestFile(size: 1_000, seed: 1), second = TestFile(size: 2_000, seed: 2)
        try await harness.app.test(.router) { client in
            try await harness.upload(client, as: "ana", first)
            try await harness.upload(client, as: "ana", second)
        }
        let folder = try #require(harness.filesFolder).appendingPathComponent("kz")
        #expect(Doctor.checkEvidenceFiles(folder: harness.folder, verify: true).map(\.status) == [.ok])
        // A flipped byte: same size, so only the hash shows it.
        let damaged = folder.appendingPathComponent(first.sha256)
        var bytes = try Data(contentsOf: damaged)
        bytes[10] ^= 1
        try bytes.write(to: damaged)
        #expect(Doctor.checkEvidenceFiles(folder: harness.folder, verify: false).map(\.status) == [.ok])
        let hashed = try #require(Doctor.checkEvidenceFiles(folder: harness.folder, verify: true).first)
        #expect(hashed.status == .failed)
        #expect(hashed.message.contains("\(first.sha256) of kz does not hash to its name"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent(second.sha256))
        let missing = try #require(Doctor.checkEvidenceFiles(folder: harness.folder, verify: false).first)
        #expect(missing.status == .failed)
        #expect(missing.message.contains("\(second.sha256) of kz is missing"))
    }

    @Test func doctorReportsFilesWhoseChunksAreMissingFromPostgreSQL() async throws {
        let harness = try await ServerHarness(store: .postgres)
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks)
        try await harness.app.test(.router) { client in
            try await harness.upload(client, as: "ana", file)
        }
        let url = try #require(harness.databaseURL)
        #expect(await Doctor.checkPostgres(url: url, timeout: .seconds(10), now: { Date() }).allSatisfy { $0.check != "evidence files" })
        _ = try harness.psql("DELETE FROM file_chunk WHERE chunk = 1")
        let findings = await Doctor.checkPostgres(url: url, timeout: .seconds(10), now: { Date() })
        let damaged = try #require(findings.first { $0.check == "evidence files" })
        #expect(damaged.status == .failed)
        #expect(damaged.message.hasPrefix("1 complete file(s)"))
    }
}
