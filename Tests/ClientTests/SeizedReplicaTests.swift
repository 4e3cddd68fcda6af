import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// A laptop taken at a border and read byte by byte: an encrypted replica's folder (and SQLite's
/// temporary folders) hold none of its records, author and user names, token, project or server.
@Suite struct SeizedReplicaTests {
    /// Recognisable values, tagged so that tests running at the same time do not find each other's.
    struct Secrets {
        let tag = String(UUID().uuidString.prefix(8))
        var title: String { "Detained at Kalkaman checkpoint \(tag)" }
        var witness: String { "Witness Aigerim Nurlanovna \(tag)" }
        var bulk: String { "Protest registry Zhibek-Zholy \(tag)" }
        var author: String { "timurlanov\(tag)" }
        var user: String { "zhanarbekova\(tag)" }
        var project: String { "almaty-watch-\(tag.lowercased())" }
        var server: String { "https://casebook-\(tag.lowercased()).example.org:8443" }
        var token: String { "cbk_SECRET\(tag)" }
        var pulled: String { "Released near Shymkent bazaar \(tag)" }
        var all: [String] { [title, witness, bulk, author, user, project, server, token, pulled] }
    }

    /// Writes every secret through the replica's own operations: local edits, a pulled page by another
    /// author, settings; enough rows for the WAL to be checkpointed once (the replica is closed, and
    /// `reopen`ed) and to hold more after; and a sort large enough to spill into a temporary file.
    /// Returns the replica, open.
    static func fill(_ first: Replica, _ secrets: Secrets, databasePath: String, reopen: () throws -> Replica) async throws -> Replica {
        _ = try VaultFixtures.add(first, ["title": .text(secrets.title), "description": .text(secrets.witness)])
        for index in 0..<300 { _ = try VaultFixtures.add(first, ["title": .text("\(secrets.bulk) \(index)")]) }
        let replica = try reopen()
        let node = NodeID("00000000000000b2")!
        var generator = SplitMix64(seed: 15)
        let pulled = (0..<200).map { index in
            Wire.LoggedChange(seq: Int64(index + 1), change: Change(
                collection: "incidents", record: RecordID.generate(now: 1_737_600_000_000, using: &generator), field: "title",
                value: .text("\(secrets.pulled) \(index)"), hlc: HLC(millis: 1_737_600_000_000 + UInt64(index), counter: 0, node: node),
                author: secrets.author, base: nil), receivedAt: 1_737_600_000_000)
        }
        var state = SyncState()
        state.snapshot = .done
        state.cursor = Int64(pulled.count)
        _ = try await replica.applyPulled(pulled, serverTime: 1_737_600_000_000, state: state, schema: .upr)
        // A sort of about 5 MB of record values. The replica keeps temporary data in memory (temp_store),
        // so to see the VFS keep SQLite's temporary files in memory too, a second connection sorts with
        // temporary files allowed and a small cache: SQLite then writes its sorted runs to a temporary file.
        let sort = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
            SELECT COUNT(*) FROM (SELECT value || n.i || author AS v FROM change, n ORDER BY v DESC)
            """
        #expect(try await replica.read { db in try Int.fetchOne(db, sql: sort) } ?? 0 > 50_000)
        let other = try DatabaseQueue(path: databasePath)
        try other.inDatabase { db in
            try db.execute(sql: "PRAGMA temp_store = FILE; PRAGMA cache_size = 8")
            #expect(try Int.fetchOne(db, sql: sort) ?? 0 > 50_000)
        }
        try other.close()
        return replica
    }

    @Test func anEncryptedReplicaShowsNothingOfWhatItHolds() async throws {
        let started = Date().addingTimeInterval(-1)
        let secrets = Secrets()
        let home = VaultFixtures.home("seized")
        defer { try? FileManager.default.removeItem(at: home) }
        let settings = try VaultFixtures.settings(user: secrets.user, project: secrets.project, server: secrets.server)
        let memoryFiles = DatabaseCipher.memoryFileCount
        let (first, key) = try VaultFixtures.encrypted(home, settings: settings, token: secrets.token)
        let replica = try await Self.fill(first, secrets, databasePath: home.appendingPathComponent("replica.db").path) { try Replica.open(home: home, key: key) }
        #expect(DatabaseCipher.memoryFileCount > memoryFiles, "the sort did not spill: the temporary-file case was not exercised")
        #expect(try replica.token() == secrets.token)
        #expect(try VaultFixtures.titles(replica).contains(secrets.title))

        // While the replica is open (pages in the WAL), then after it is closed (checkpointed).
        let walSize = (try? FileManager.default.attributesOfItem(atPath: home.appendingPathComponent("replica.db-wal").path)[.size] as? Int) ?? 0
        #expect(walSize > 100_000, "the WAL holds too little for the test to mean anything")
        #expect(VaultFixtures.plaintext(secrets.all, under: [home]).isEmpty)
        withExtendedLifetime(replica) {}
        let names = try FileManager.default.contentsOfDirectory(atPath: home.path).sorted()
        #expect(!names.contains("token") && !names.contains("replica.sqlite"), "\(names)")
        let hits = VaultFixtures.plaintext(secrets.all, under: [home])
        #expect(hits.isEmpty, "plaintext under the replica folder: \(hits)")
        let tempHits = VaultFixtures.plaintext(secrets.all, under: VaultFixtures.temporaryFolders, since: started)
            .filter { !$0.contains(home.path) }
        #expect(tempHits.isEmpty, "plaintext in a temporary folder: \(tempHits)")
    }

    /// The same search on a plaintext replica finds the secrets: the test above can fail.
    @Test func theSameSearchFindsAPlaintextReplicasContent() async throws {
        let secrets = Secrets()
        let home = VaultFixtures.home("seized-plain")
        defer { try? FileManager.default.removeItem(at: home) }
        let settings = try VaultFixtures.settings(user: secrets.user, project: secrets.project, server: secrets.server)
        let first = try Replica.create(home: home, settings: settings, token: secrets.token)
        let replica = try await Self.fill(first, secrets, databasePath: home.appendingPathComponent("replica.sqlite").path) { try Replica.open(home: home) }
        let hits = VaultFixtures.plaintext(secrets.all, under: [home])
        withExtendedLifetime(replica) {}
        for secret in [secrets.title, secrets.witness, secrets.author, secrets.user, secrets.project, secrets.server, secrets.token, secrets.pulled] {
            #expect(hits.contains { $0.hasPrefix(secret + " in ") }, "\(secret) not found in the plaintext replica")
        }
    }
}
