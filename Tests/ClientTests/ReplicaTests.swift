import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// A replica with the settings `init` would write, and a temporary folder for the files a test
/// writes. In memory unless `onDisk` (the tests of files, permissions and migrations).
struct TemporaryReplica {
    let home: URL
    let replica: Replica
    let settings: ReplicaSettings

    init(user: String = "ana", node: String = "00000000000000a1", onDisk: Bool = false) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-replica-\(UUID().uuidString)")
        let values: [Setting: String] = [
            .server: "http://127.0.0.1:1", .project: "kz", .user: user, .role: "researcher", .node: node,
            .schema: String(decoding: try Schema.upr.jsonData(), as: UTF8.self), .clockOffset: "0", .cursor: "0",
        ]
        if onDisk {
            replica = try Replica.create(home: home, settings: values, token: "cbk_test")
        } else {
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            replica = try Replica.inMemory(home: home, settings: values)
        }
        settings = try replica.settings()
    }

    func cleanUp() { try? FileManager.default.removeItem(at: home) }

    func write<T>(_ body: (inout LocalEditor, Database) throws -> T) throws -> T {
        try replica.write { db in
            var editor = try LocalEditor(settings: settings, db: db)
            let result = try body(&editor, db)
            try editor.finish()
            return result
        }
    }

    func add(_ values: [String: FieldValue], collection: String = "incidents") throws -> String {
        try write { editor, _ in try editor.add(collection: collection, values: values) }
    }

    func edit(_ id: String, _ values: [String: FieldValue]) throws {
        try write { editor, db in try editor.edit(record: try RecordRef.find(id, db), values: values) }
    }

    func outbox() throws -> [OutboxEntry] {
        try replica.read { db in try OutboxEntry.fetch("ORDER BY outbox.hlc", db) }
    }

    func show(_ id: String) throws -> RecordView {
        try replica.read { db in try ReplicaQuery.record(try RecordRef.find(id, db), db) }
    }
}

@Suite struct ReplicaTests {
    @Test func theReplicaIsReadableByItsOwnerOnly() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        for name in ["", Replica.databaseName] {
            let path = local.home.appendingPathComponent(name).path
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == (name.isEmpty ? 0o700 : 0o600), "\(name)")
        }
        // The token is a setting inside the database now, not a file of its own.
        #expect(!FileManager.default.fileExists(atPath: local.home.appendingPathComponent(Replica.tokenName).path))
        #expect(try local.replica.token() == "cbk_test")
    }

    @Test func anEncryptedReplicaIsReadableByItsOwnerOnly() throws {
        let home = VaultFixtures.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        for name in ["", KeyFile.fileName, Replica.encryptedDatabaseName, Replica.encryptedDatabaseName + "-wal"] {
            let path = home.appendingPathComponent(name).path
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == (name.isEmpty ? 0o700 : 0o600), "\(name)")
        }
        #expect(try replica.token() == "cbk_test")
    }

    /// A replica made by an older version keeps its token in the file `token`: still read.
    @Test func anOlderReplicasTokenFileIsStillRead() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        try local.replica.write { db in try Setting.set(.token, nil, db) }
        try Data("cbk_old_file\n".utf8).write(to: local.home.appendingPathComponent(Replica.tokenName))
        #expect(try local.replica.token() == "cbk_old_file")
    }

    @Test func severalOfflineEditsOfOneFieldCoalesceOnTheConfirmedBase() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Protest")])
        // The server confirms the creation.
        let created = try local.outbox()
        try local.replica.write { db in
            try Replica.applyAccepted(created.enumerated().map { Wire.LoggedChange(seq: Int64($0.offset + 1), change: $0.element.change(author: "ana"), receivedAt: 1) },
                                       schema: .upr, db)
            try db.execute(sql: "DELETE FROM outbox")
        }
        let confirmed = try #require(created.first { $0.field == "title" })
        try local.edit(id, ["title": .text("Protest in Almaty")])
        try local.edit(id, ["title": .text("Protest in Almaty, January")])
        try local.edit(id, ["title": .text("Protest in Almaty, 5 January 2022")])
        let pending = try local.outbox()
        #expect(pending.count == 1)
        #expect(pending[0].value == .text("Protest in Almaty, 5 January 2022"))
        #expect(pending[0].base == confirmed.hlc)
        #expect(pending[0].hlc > confirmed.hlc)
    }

    @Test func readsShowPendingValuesAtOnce() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Raid on an NGO office"), "themes": .list(["human_rights_defenders"])])
        let view = try local.show(String(id.prefix(6)))
        #expect(view.pending)
        #expect(view.fields["title"] == .text("Raid on an NGO office"))
        let listed = try local.replica.read { db in
            try ReplicaQuery.list(collection: "incidents", filters: [("themes", "human_rights_defenders")], db)
        }
        #expect(listed.map(\.id) == [id])
        try local.edit(id, ["themes": .unset])
        #expect(try local.show(id).fields["themes"] == nil)
        let none = try local.replica.read { db in
            try ReplicaQuery.list(collection: "incidents", filters: [("themes", "human_rights_defenders")], db)
        }
        #expect(none.isEmpty)
    }

    @Test func severalFiltersMustAllMatch() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let both = try local.add(["title": .text("A"), "themes": .list(["death_penalty", "womens_rights"]), "location": .text("Astana")])
        _ = try local.add(["title": .text("B"), "themes": .list(["death_penalty"]), "location": .text("Astana")])
        _ = try local.add(["title": .text("C"), "themes": .list(["womens_rights"]), "location": .text("Almaty")])
        let found = try local.replica.read { db in
            try ReplicaQuery.list(collection: "incidents", filters: [("themes", "death_penalty"), ("themes", "womens_rights"), ("location", "Astana")], db)
        }
        #expect(found.map(\.id) == [both])
        #expect(found.first?.fields["title"] == .text("A"))
        let all = try local.replica.read { db in try ReplicaQuery.list(collection: "incidents", filters: [], db) }
        #expect(Set(all.compactMap { $0.fields["title"]?.displayText }) == ["A", "B", "C"])
    }

    @Test func badValuesAreRefusedBeforeAnythingIsStored() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        #expect(throws: SchemaError.self) { try local.add(["location": .text("Astana")]) }
        #expect(throws: SchemaError.self) { try local.add(["title": .text("x"), "date": .date("2025-13-01")]) }
        #expect(throws: ClientError.self) { try local.add(["title": .text("x"), "sources": .references([String(repeating: "a", count: 32)])]) }
        #expect(try local.outbox().isEmpty)
        let records = try local.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") }
        #expect(records == 0)
    }

    @Test func idPrefixesMustBeUniqueAndLongEnough() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("One")])
        try local.replica.read { db in
            let found = try RecordRef.find(String(id.prefix(6)), db)
            #expect(found.id == id)
            #expect(throws: ClientError.self) { try RecordRef.find(String(id.prefix(5)), db) }
            #expect(throws: ClientError.self) { try RecordRef.find("ffffffffff", db) }
        }
    }
}
