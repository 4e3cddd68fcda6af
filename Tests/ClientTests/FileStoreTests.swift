import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Files for the attach tests: several chunks of random bytes with a recognisable phrase in each chunk.
enum EvidenceFixtures {
    /// The test run's folder of source files: made on first use, removed at exit.
    private static let sources: URL = {
        atexit { try? FileManager.default.removeItem(at: EvidenceFixtures.sourcesFolder) }
        return sourcesFolder
    }()
    private static let sourcesFolder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-sources-\(getpid())")

    /// `size` bytes: random, with `marker` written every MiB.
    static func bytes(_ size: Int, marker: String, seed: UInt64 = 7) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: size)
        // Eight bytes at a time: a debug build makes a byte-wise loop over megabytes slow.
        bytes.withUnsafeMutableBytes { raw in
            for offset in stride(from: 0, to: size - 7, by: 8) { raw.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self) }
        }
        let phrase = Array(marker.utf8)
        for start in stride(from: 0, to: size - phrase.count, by: 1 << 20) { bytes.replaceSubrange(start..<start + phrase.count, with: phrase) }
        return bytes
    }

    /// Writes `bytes` as `name` in a new folder; returns its path. The folders are in one folder of
    /// the test run's own, removed when the run ends (tests attach from them, so they must outlive
    /// the helper; they used to stay in /tmp after every run: 1 GB of them here after a day).
    static func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let folder = sources.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func settings(_ replica: Replica) throws -> ReplicaSettings { try replica.settings() }
}

@Suite struct FileStoreTests {
    /// 2 full chunks and a short one.
    static let size = 2 * Wire.Files.chunkSize + 123_457

    @Test func attachStoresTheFileSealedAndNothingUnderTheFolderShowsItsBytesOrItsHash() throws {
        let home = VaultFixtures.home("files-sealed")
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        let marker = "Statement of witness Aigerim \(UUID().uuidString.prefix(8))"
        let bytes = EvidenceFixtures.bytes(Self.size, marker: marker)
        let path = try EvidenceFixtures.file("statement-0412.pdf", bytes)
        let id = try VaultFixtures.add(replica, ["title": .text("Detention at the checkpoint")])
        let attached = try replica.attach(String(id.prefix(8)), field: nil, paths: [path], settings: try replica.settings())
        let sha256 = FakeFileServer.hash(bytes)
        #expect(attached == [FileRef(sha256: sha256, name: "statement-0412.pdf", size: Int64(Self.size), mime: "application/pdf")])

        let stored = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("sealed").path)
        #expect(stored.count == 1 && !stored.contains(sha256))
        withExtendedLifetime(replica) {}
        let hits = VaultFixtures.plaintext([marker, sha256, String(sha256.prefix(16)), "statement-0412"], under: [home])
        #expect(hits.isEmpty, "readable under the replica folder: \(hits)")
        #expect(replica.verifyFile(sha256, size: Int64(Self.size)) == nil)
    }

    /// The same search finds the content of a plaintext replica's file: the test above can fail.
    @Test func aPlaintextReplicaKeepsTheRawBytes() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let marker = "Unsealed statement \(UUID().uuidString.prefix(8))"
        let bytes = EvidenceFixtures.bytes(100_000, marker: marker)
        let id = try local.add(["title": .text("A record")])
        _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("a.txt", bytes)], settings: local.settings)
        let sha256 = FakeFileServer.hash(bytes)
        #expect(!VaultFixtures.plaintext([marker], under: [local.home]).isEmpty)
        #expect(FileManager.default.fileExists(atPath: local.home.appendingPathComponent("files/\(sha256)").path))
    }

    @Test func aTamperedChunkIsFoundByVerifyAndTheRestStillReads() async throws {
        let home = VaultFixtures.home("files-tamper")
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "tamper")
        let id = try VaultFixtures.add(replica, ["title": .text("Tampered")])
        _ = try replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("photo.jpg", bytes)], settings: try replica.settings())
        #expect(try await replica.verify().failures.isEmpty)

        let sha256 = FakeFileServer.hash(bytes)
        let url = replica.files.url(sha256)
        let handle = try FileHandle(forUpdating: url)
        try handle.seek(toOffset: UInt64(FileStore.sealedStride + 5_000))  // inside chunk 1
        try handle.write(contentsOf: Data([0x41]))
        try handle.close()

        let result = try await replica.verify()
        #expect(result.files == 1)
        #expect(result.failures.count == 1)
        #expect(result.failures.first?.what == "file" && result.failures.first?.id == sha256)
        #expect(result.failures.first?.reason.contains("chunk 1") == true, "\(result.failures)")
        let file = try StoredFile(store: replica.files, sha256: sha256, size: Int64(Self.size))
        #expect(try file.chunk(0) == Array(bytes[0..<Wire.Files.chunkSize]))
        #expect(throws: StoredFile.Damaged.self) { try file.chunk(1) }
    }

    @Test func theSameContentAttachedTwiceIsStoredOnce() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let bytes = EvidenceFixtures.bytes(300_000, marker: "twice")
        let first = try EvidenceFixtures.file("a.jpg", bytes), second = try EvidenceFixtures.file("copy of a.jpg", bytes)
        let one = try local.add(["title": .text("One")]), two = try local.add(["title": .text("Two")])
        _ = try local.replica.attach(one, field: nil, paths: [first, second], settings: local.settings)
        _ = try local.replica.attach(two, field: nil, paths: [second], settings: local.settings)
        let stored = try FileManager.default.contentsOfDirectory(atPath: local.home.appendingPathComponent("files").path)
        #expect(stored == [FakeFileServer.hash(bytes)])
        #expect(try local.show(one).fields["evidence"] == .files([FileRef(sha256: FakeFileServer.hash(bytes), name: "a.jpg", size: 300_000, mime: "image/jpeg")]))
        let events = try local.replica.read { db in try CustodyLog.events(of: FakeFileServer.hash(bytes), db) }
        #expect(events.map(\.event) == [.added, .added])
        #expect(Set(events.compactMap(\.record)) == [one, two])
    }

    @Test func badInputIsRefusedAndNothingIsStored() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Bad input")])
        let good = try EvidenceFixtures.file("good.png", EvidenceFixtures.bytes(1_000, marker: "good"))
        let folder = URL(fileURLWithPath: good).deletingLastPathComponent().path
        let unreadable = try EvidenceFixtures.file("secret.png", [1, 2, 3])
        chmod(unreadable, 0)
        let cases: [([String], String)] = [
            ([good, folder], "is a folder"), ([good, folder + "/missing.jpg"], "does not exist"), (["/dev/null"], "not a regular file"),
        ] + (getuid() == 0 ? [] : [([good, unreadable], "cannot be read")])
        for (paths, message) in cases {
            #expect { try local.replica.attach(id, field: nil, paths: paths, settings: local.settings) } throws: { error in
                (error as? ClientError)?.message.contains(message) == true
            }
        }
        #expect { try local.replica.attach(id, field: "title", paths: [good], settings: local.settings) } throws: { error in
            (error as? ClientError)?.message.contains("does not hold files") == true
        }
        #expect(try local.show(id).fields["evidence"] == nil)
        #expect(try local.replica.read { db in try FileCatalog.allHeld(db) }.isEmpty)
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: local.home.appendingPathComponent("files").path)) ?? []
        #expect(stored.isEmpty, "\(stored)")
    }

    @Test func aFileThatChangesWhileItIsAttachedIsRefusedWithNothingStored() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Changing")])
        let path = try EvidenceFixtures.file("recording.m4a", EvidenceFixtures.bytes(Self.size, marker: "changing"))
        var appended = false
        #expect { try local.replica.attach(id, field: nil, paths: [path], settings: local.settings) { done, _ in
            // Someone writes to the file while the first pass reads it.
            guard !appended, done >= Int64(Wire.Files.chunkSize) else { return }
            appended = true
            let handle = FileHandle(forWritingAtPath: path)!
            handle.seekToEndOfFile()
            handle.write(Data("more".utf8))
            handle.closeFile()
        } } throws: { error in (error as? ClientError)?.message.contains("changed while it was being attached") == true }
        #expect(appended)
        #expect(try local.show(id).fields["evidence"] == nil)
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: local.home.appendingPathComponent("files").path)) ?? []
        #expect(stored.isEmpty, "\(stored)")
        // Once nothing writes to it, the same attach works.
        #expect(try local.replica.attach(id, field: nil, paths: [path], settings: local.settings).count == 1)
    }

    @Test func deletingARecordKeepsItsFiles() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("To delete")])
        let bytes = EvidenceFixtures.bytes(5_000, marker: "kept")
        _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("kept.wav", bytes)], settings: local.settings)
        try local.write { editor, db in try editor.delete(record: try RecordRef.find(id, db)) }
        let (record, files) = try await local.replica.files(of: id, schema: local.settings.schema)
        #expect(!record.visible && files.count == 1 && files[0].local)
        #expect(try await local.replica.verify().files == 1)
        let out = VaultFixtures.home("extract")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let written = try await local.replica.extract(String(FakeFileServer.hash(bytes).prefix(10)), to: out, as: nil, overwrite: false, settings: local.settings)
        #expect(try Data(contentsOf: written) == Data(bytes))
    }

    @Test func encryptingAPlaintextReplicaSealsItsFilesAndShredsTheRawOnes() async throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        let marker = "Raw evidence \(UUID().uuidString.prefix(8))"
        let bytes = EvidenceFixtures.bytes(Wire.Files.chunkSize + 77, marker: marker)
        let id = try local.add(["title": .text("Encrypt me")])
        _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("raw.bin", bytes)], settings: local.settings)
        withExtendedLifetime(local.replica) {}
        VaultFixtures.useFastKDF()
        try Replica.encrypt(home: local.home, passphrase: VaultFixtures.passphrase)
        #expect(try FileManager.default.contentsOfDirectory(atPath: local.home.path).sorted() == ["key", "replica.db", "sealed"])
        let sha256 = FakeFileServer.hash(bytes)
        #expect(VaultFixtures.plaintext([marker, sha256], under: [local.home]).isEmpty)
        let key = try #require(try KeyFile.read(home: local.home)).unwrap(VaultFixtures.passphrase)
        let replica = try Replica.open(home: local.home, key: key)
        let result = try await replica.verify()
        #expect(result.files == 1 && result.failures.isEmpty, "\(result.failures)")
        #expect(try StoredFile(store: replica.files, sha256: sha256, size: Int64(bytes.count)).chunk(1) == [UInt8](bytes[Wire.Files.chunkSize...]))
    }
}
