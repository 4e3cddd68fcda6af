import Foundation
import Testing
@testable import Client

/// The key file: the passphrase unwraps the data key, a wrong one is told apart, a change of passphrase
/// interrupted at any step leaves the old or the new one working, and wipe leaves nothing to unwrap.
@Suite struct KeyFileTests {
    /// A folder with a key file and an (empty) encrypted database beside it, as `init` leaves it.
    static func folder() throws -> (URL, KeyFile, DataKey) {
        let home = VaultFixtures.home("key")
        VaultFixtures.useFastKDF()
        let (file, key) = try KeyFile.create(home: home, passphrase: VaultFixtures.passphrase)
        FileManager.default.createFile(atPath: home.appendingPathComponent("replica.db").path, contents: Data())
        return (home, file, key)
    }

    @Test func thePassphraseUnwrapsTheKeyAndAWrongOneIsToldApart() throws {
        let (home, file, key) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        let read = try #require(try KeyFile.read(home: home))
        #expect(read == file)
        #expect(read.replicaID.count == 32)
        #expect(try read.unwrap(VaultFixtures.passphrase).matches(key))
        #expect(read.verify(key) && !read.verify(DataKey.random()))
        #expect(throws: KeyFile.WrongPassphrase.self) { try read.unwrap(Array("correct horse battery stapler".utf8)) }
        #expect(throws: KeyFile.WrongPassphrase.self) { try read.unwrap([UInt8]()) }
        let mode = try FileManager.default.attributesOfItem(atPath: home.appendingPathComponent("key").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func lowerCostOrAnotherIdInTheFileMakesTheUnwrapFail() throws {
        let (home, file, _) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        var cheaper = file
        cheaper.kdf.opslimit += 1
        #expect(throws: KeyFile.WrongPassphrase.self) { try cheaper.unwrap(VaultFixtures.passphrase) }
        var renamed = file
        renamed.replicaID = String(repeating: "0", count: 32)
        #expect(throws: KeyFile.WrongPassphrase.self) { try renamed.unwrap(VaultFixtures.passphrase) }
        // A file asking for absurd costs is refused before any work.
        var data = try String(contentsOf: home.appendingPathComponent("key"), encoding: .utf8)
        data = data.replacingOccurrences(of: "\"memlimit\" : \(file.kdf.memlimit)", with: "\"memlimit\" : 1099511627776")
        try data.write(to: home.appendingPathComponent("key"), atomically: true, encoding: .utf8)
        #expect(throws: ClientError.self) { try KeyFile.read(home: home) }
    }

    @Test func rewrapChangesOnlyThePassphrase() throws {
        let (home, file, key) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        let new = Array("a new and longer passphrase".utf8)
        let rewrapped = try KeyFile.rewrap(home: home, key: key, newPassphrase: new)
        #expect(rewrapped.replicaID == file.replicaID && rewrapped.kdf.salt != file.kdf.salt)
        let read = try #require(try KeyFile.read(home: home))
        #expect(try read.unwrap(new).matches(key))
        #expect(throws: KeyFile.WrongPassphrase.self) { try read.unwrap(VaultFixtures.passphrase) }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("key.new").path))
        // Another replica's key is refused: it would lock the owner out.
        #expect(throws: ClientError.self) { try KeyFile.rewrap(home: home, key: DataKey.random(), newPassphrase: new) }
        #expect(try #require(try KeyFile.read(home: home)).verify(key))
    }

    /// The states a change of passphrase passes through, each as a kill would leave it.
    @Test func aRewrapKilledBetweenItsStepsLeavesTheOldOrTheNewPassphrase() throws {
        let (home, file, key) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        let url = home.appendingPathComponent("key"), staged = home.appendingPathComponent("key.new")
        let old = try Data(contentsOf: url)
        let new = Array("the new passphrase".utf8)
        try KeyFile.rewrap(home: home, key: key, newPassphrase: new)
        let complete = try Data(contentsOf: url)
        // Killed while writing key.new (torn), or after writing it, before the rename: the old one works.
        for leftover in [complete.prefix(40), complete] {
            try old.write(to: url)
            try leftover.write(to: staged)
            let read = try #require(try KeyFile.read(home: home))
            #expect(read == file)
            #expect(try read.unwrap(VaultFixtures.passphrase).matches(key))
            #expect(throws: KeyFile.WrongPassphrase.self) { try read.unwrap(new) }
            #expect(!FileManager.default.fileExists(atPath: staged.path), "key.new was not removed")
        }
        // Killed after the rename: the new one works.
        try complete.write(to: url)
        #expect(try #require(try KeyFile.read(home: home)).unwrap(new).matches(key))
    }

    @Test func aStagedFileStillBeingWrittenIsLeftAlone() throws {
        let (home, _, _) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        let staged = home.appendingPathComponent("key.new")
        let descriptor = open(staged.path, O_WRONLY | O_CREAT, 0o600)
        defer { close(descriptor) }
        #expect(flock(descriptor, LOCK_EX) == 0)
        #expect(try KeyFile.read(home: home) != nil)
        #expect(FileManager.default.fileExists(atPath: staged.path), "a writer's key.new was removed under it")
    }

    @Test func destroyLeavesNothingToUnwrap() throws {
        let (home, _, _) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("{}".utf8).write(to: home.appendingPathComponent("key.new"))
        try KeyFile.destroy(home: home)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("key").path))
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("key.new").path))
        #expect(throws: ClientError.self) { try KeyFile.read(home: home) }
    }

    @Test func calibrationAimsAtTheTargetWithinBounds() throws {
        let target = 0.2
        let start = Date()
        let parameters = KDFParameters.calibrated(target: target)
        #expect(parameters.memlimit >= 64 << 20 && parameters.opslimit >= 3 && parameters.opslimit <= 32)
        #expect(parameters.isUsable)
        let derivation = Date()
        _ = try parameters.derive(passphrase: VaultFixtures.passphrase)
        let seconds = Date().timeIntervalSince(derivation)
        print("KDF calibrated in \(Date().timeIntervalSince(start)) s: opslimit \(parameters.opslimit), memlimit \(parameters.memlimit >> 20) MiB, one derivation \(seconds) s")
        // Generous bounds: the machine is shared, but an order of magnitude off means the scaling is wrong.
        #expect(seconds < target * 6)
        #expect(parameters.opslimit > 3 || seconds > target / 4)
        #expect(KDFParameters.forNewKey(environment: ["CASEBOOK_KDF": "fast"]).opslimit < 3)
    }
}
