import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// `Replica.encrypt`: a plaintext replica becomes an encrypted one, losing nothing, leaving no plaintext;
/// a crash at any point leaves one whole replica.
@Suite struct ReplicaEncryptionTests {
    /// A plaintext replica with records, a token file as older versions wrote it, and records still in its WAL.
    static func plaintextWithWAL(_ home: URL) throws -> Set<String> {
        let source = VaultFixtures.home("source")
        defer { try? FileManager.default.removeItem(at: source) }
        do {
            let first = try Replica.create(home: source, settings: try VaultFixtures.settings(), token: "cbk_unused")
            for index in 0..<100 { _ = try VaultFixtures.add(first, ["title": .text("Plain record \(index)")]) }
        }
        // Closed (checkpointed), and opened again: the next records stay in the WAL.
        let replica = try Replica.open(home: source)
        try replica.write { db in try Setting.set(.token, nil, db) }
        for index in 0..<40 { _ = try VaultFixtures.add(replica, ["title": .text("Only in the WAL \(index)")]) }
        let titles = try VaultFixtures.titles(replica)
        // Copied while open: the last 40 records are in the WAL only.
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        for name in ["replica.sqlite", "replica.sqlite-wal"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: home.appendingPathComponent(name))
        }
        try Data("cbk_from_the_old_file\n".utf8).write(to: home.appendingPathComponent("token"))
        withExtendedLifetime(replica) {}
        return titles
    }

    @Test func encryptKeepsEveryRecordAndLeavesNoPlaintextFile() throws {
        let home = VaultFixtures.home("encrypt")
        defer { try? FileManager.default.removeItem(at: home) }
        let titles = try Self.plaintextWithWAL(home)
        #expect(Replica.kind(home: home) == .plaintext)
        VaultFixtures.useFastKDF()
        try Replica.encrypt(home: home, passphrase: VaultFixtures.passphrase)
        #expect(Replica.kind(home: home) == .encrypted)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path).sorted() == ["key", "replica.db"])
        let keyFile = try #require(try KeyFile.read(home: home))
        let replica = try Replica.open(home: home, key: try keyFile.unwrap(VaultFixtures.passphrase))
        #expect(try VaultFixtures.titles(replica) == titles)
        #expect(titles.contains("Only in the WAL 39"))
        #expect(try replica.token() == "cbk_from_the_old_file")
        #expect(VaultFixtures.plaintext(["Plain record", "Only in the WAL", "cbk_from_the_old_file"], under: [home]).isEmpty)
    }

    @Test func aCrashAfterTheRenameIsFinishedAtTheNextOpen() throws {
        let home = VaultFixtures.home("encrypt-crash")
        defer { try? FileManager.default.removeItem(at: home) }
        let titles = try Self.plaintextWithWAL(home)
        VaultFixtures.useFastKDF()
        try Replica.encrypt(home: home, passphrase: VaultFixtures.passphrase)
        // As if the process died after the rename, before the plaintext files were removed.
        let leftovers = ["replica.sqlite", "replica.sqlite-wal", "token", "replica.db.tmp"]
        for name in leftovers { try Data("Plain leftover".utf8).write(to: home.appendingPathComponent(name)) }
        let keyFile = try #require(try KeyFile.read(home: home))
        let replica = try Replica.open(home: home, key: try keyFile.unwrap(VaultFixtures.passphrase))
        #expect(try VaultFixtures.titles(replica) == titles)
        let names = try FileManager.default.contentsOfDirectory(atPath: home.path)
        #expect(!names.contains { leftovers.contains($0) }, "\(names)")
    }

    @Test func aCrashBeforeTheRenameLeavesThePlaintextReplicaAndEncryptRunsAgain() throws {
        let home = VaultFixtures.home("encrypt-early")
        defer { try? FileManager.default.removeItem(at: home) }
        let titles = try Self.plaintextWithWAL(home)
        // As if the process died during the copy: a key file and a partial copy.
        VaultFixtures.useFastKDF()
        _ = try KeyFile.create(home: home, passphrase: Array("the first attempt".utf8))
        try Data(repeating: 7, count: 10_000).write(to: home.appendingPathComponent("replica.db.tmp"))
        #expect(Replica.kind(home: home) == .plaintext)
        #expect(try KeyFile.read(home: home) == nil, "a key file without its database protects nothing")
        #expect(try VaultFixtures.titles(try Replica.open(home: home)) == titles)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("replica.db.tmp").path))

        try Replica.encrypt(home: home, passphrase: VaultFixtures.passphrase)
        let keyFile = try #require(try KeyFile.read(home: home))
        #expect(throws: KeyFile.WrongPassphrase.self) { try keyFile.unwrap(Array("the first attempt".utf8)) }
        #expect(try VaultFixtures.titles(try Replica.open(home: home, key: try keyFile.unwrap(VaultFixtures.passphrase))) == titles)
    }

    @Test func aFailedCreateLeavesNoPartOfAReplica() throws {
        let home = VaultFixtures.home("create-fails")
        defer { try? FileManager.default.removeItem(at: home) }
        VaultFixtures.useFastKDF()
        var settings = try VaultFixtures.settings()
        settings[.schema] = nil
        // Creation succeeds (settings are not read yet), so force a failure: a folder where the database goes.
        try FileManager.default.createDirectory(at: home.appendingPathComponent("replica.db-wal"), withIntermediateDirectories: true)
        #expect(throws: (any Error).self) {
            try Replica.createEncrypted(home: home, settings: settings, token: "cbk_x", passphrase: VaultFixtures.passphrase)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []
        #expect(!names.contains("key") && !names.contains("replica.db"), "\(names)")
    }
}
