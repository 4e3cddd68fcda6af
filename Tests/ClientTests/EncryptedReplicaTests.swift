import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// The encrypted replica's storage: it opens with its key only, survives what plain SQLite survives
/// (close and reopen, an unclean close, a large transaction), and a changed byte is an error.
@Suite struct EncryptedReplicaTests {
    @Test func anEncryptedReplicaSurvivesCloseReopenAndALargeTransaction() throws {
        let home = VaultFixtures.home()
        defer { try? FileManager.default.removeItem(at: home) }
        var (replica, key) = try VaultFixtures.encrypted(home)
        let first = try VaultFixtures.add(replica, ["title": .text("Raid on the office")])
        // One transaction of about 8 MB with a small page cache: it spills into the WAL before it commits,
        // and pages spilled twice are rewritten in place (their frames' checksums recomputed).
        let settings = try replica.settings()
        try replica.write { db in
            try db.execute(sql: "PRAGMA cache_size = 20")
            var editor = try LocalEditor(settings: settings, db: db)
            for index in 0..<2_000 {
                _ = try editor.add(collection: "incidents", values: ["title": .text("Bulk \(index)"), "description": .text(String(repeating: "x", count: 4_000))])
            }
            try editor.finish()
        }
        replica = try Replica.open(home: home, key: key)
        #expect(Replica.kind(home: home) == .encrypted)
        #expect(try replica.token() == "cbk_test")
        #expect(try replica.settings().user == "ana")
        let titles = try VaultFixtures.titles(replica)
        #expect(titles.count == 2_001 && titles.contains("Raid on the office") && titles.contains("Bulk 1999"))
        #expect(try replica.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        #expect(try replica.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == DatabaseCipher.pageSize)
        #expect(try replica.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try replica.read { db in try Int.fetchOne(db, sql: "PRAGMA mmap_size") } == 0)
        // Not even SQLite's own header is left in clear.
        let header = try #require(FileManager.default.contents(atPath: home.appendingPathComponent("replica.db").path)).prefix(16)
        #expect(header != Data("SQLite format 3\0".utf8))
        _ = first
    }

    @Test func aCopyTakenWhileOpenRecoversItsWAL() throws {
        let home = VaultFixtures.home(), copy = VaultFixtures.home("copy")
        defer { for folder in [home, copy] { try? FileManager.default.removeItem(at: folder) } }
        let (replica, key) = try VaultFixtures.encrypted(home)
        for index in 0..<50 { _ = try VaultFixtures.add(replica, ["title": .text("Before the crash \(index)")]) }
        // The files as a power cut would leave them: the WAL holds committed pages the database file lacks.
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for name in ["key", "replica.db", "replica.db-wal"] {
            try FileManager.default.copyItem(at: home.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        #expect(((try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("replica.db-wal").path)[.size] as? Int) ?? 0) > 0)
        let recovered = try Replica.open(home: copy, key: key)
        #expect(try VaultFixtures.titles(recovered).count == 50)
        #expect(try recovered.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        withExtendedLifetime(replica) {}
    }

    @Test func withoutItsKeyOrWithAnotherTheReplicaStaysShut() throws {
        let home = VaultFixtures.home(), other = VaultFixtures.home()
        defer { for folder in [home, other] { try? FileManager.default.removeItem(at: folder) } }
        let (replica, _) = try VaultFixtures.encrypted(home)
        _ = try VaultFixtures.add(replica, ["title": .text("kept")])
        let (_, otherKey) = try VaultFixtures.encrypted(other)
        let before = VaultFixtures.everyFile(under: [home]).map(\.bytes)
        for key in [nil, otherKey] {
            do {
                _ = try Replica.open(home: home, key: key)
                Issue.record("opened with \(key == nil ? "no key" : "another replica's key")")
            } catch let error as ClientError {
                #expect(error.exitCode == ClientError.lockedExitCode, "\(error.message)")
                #expect(error.message.contains(key == nil ? "locked" : "does not open"), "\(error.message)")
            }
        }
        #expect(VaultFixtures.everyFile(under: [home]).map(\.bytes) == before, "a refused key changed the replica's files")
    }

    /// One bit changed in any page: reading it fails; a page no read touches (free) changes nothing seen.
    @Test func aChangedByteIsAnErrorNeverDifferentData() throws {
        let home = VaultFixtures.home()
        defer { try? FileManager.default.removeItem(at: home) }
        var key: DataKey
        do {
            let (replica, dataKey) = try VaultFixtures.encrypted(home)
            key = dataKey
            for index in 0..<200 { _ = try VaultFixtures.add(replica, ["title": .text("Record \(index)")]) }
        }
        // Closed: everything is in replica.db.
        let url = home.appendingPathComponent("replica.db")
        let original = try Data(contentsOf: url)
        let expected = try VaultFixtures.titles(try Replica.open(home: home, key: key))
        let pages = original.count / DatabaseCipher.pageSize
        var refused = 0
        for page in 1..<pages {
            var bytes = original
            bytes[page * DatabaseCipher.pageSize + 1_000] ^= 0x01
            try bytes.write(to: url)
            do {
                let replica = try Replica.open(home: home, key: key)
                let checked = try replica.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                let titles = try VaultFixtures.titles(replica)
                #expect(checked == ["ok"] && titles == expected, "page \(page + 1) changed what reads see")
            } catch {
                refused += 1
            }
            try? FileManager.default.removeItem(at: home.appendingPathComponent("replica.db-wal"))
            try? FileManager.default.removeItem(at: home.appendingPathComponent("replica.db-shm"))
        }
        #expect(refused > pages / 2, "only \(refused) of \(pages - 1) changed pages were noticed")
    }

    @Test func aPageMovedElsewhereDoesNotOpen() throws {
        let home = VaultFixtures.home()
        defer { try? FileManager.default.removeItem(at: home) }
        var key: DataKey
        do {
            let (replica, dataKey) = try VaultFixtures.encrypted(home)
            key = dataKey
            for index in 0..<200 { _ = try VaultFixtures.add(replica, ["title": .text("Record \(index)")]) }
        }
        let path = home.appendingPathComponent("replica.db").path
        var bytes = try #require(FileManager.default.contents(atPath: path))
        let page = DatabaseCipher.pageSize
        // Page 6 replaced by page 7, intact in itself: its page number no longer matches.
        bytes.replaceSubrange(5 * page..<6 * page, with: bytes[6 * page..<7 * page])
        try bytes.write(to: URL(fileURLWithPath: path))
        let replica = try Replica.open(home: home, key: key)
        #expect(throws: DatabaseError.self) {
            try replica.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        }
    }
}
