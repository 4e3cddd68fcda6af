import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// A replica written by an earlier version opens with the current one and loses nothing.
@Suite struct ReplicaMigrationTests {
    @Test func aVersion1ReplicaKeepsItsCurrentVersionsConflictsAndSearchKeys() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let record = "c4f8a0ce68a10f9201a2258e48ee7f25"
        let ana = NodeID("00000000000000a1")!, ben = NodeID("00000000000000b2")!
        let created = HLC(millis: 1_700_000_000_000, counter: 0, node: ana)
        let themes = HLC(millis: 1_700_000_000_000, counter: 1, node: ana)
        let anaTitle = HLC(millis: 1_700_000_100_000, counter: 0, node: ana)
        let benTitle = HLC(millis: 1_700_000_100_500, counter: 0, node: ben)
        let pendingHLC = HLC(millis: 1_700_000_150_000, counter: 0, node: ana)

        // A replica as version 1 left it: the change log, the `head` table, and the derived rows.
        let queue = try DatabaseQueue(path: home.appendingPathComponent(Replica.databaseName).path)
        try ReplicaMigrations.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            for (key, value) in [Setting.server: "http://127.0.0.1:1", .project: "kz", .user: "ana", .role: "researcher",
                                 .node: ana.rawValue, .schema: String(decoding: try Schema.upr.jsonData(), as: UTF8.self),
                                 .clockOffset: "0", .cursor: "4"] {
                try Setting.set(key, value, db)
            }
            let rows: [(HLC, String, String, String, HLC?)] = [
                (created, "title", "t:Protest", "ana", nil),
                (themes, "themes", #"l:["torture","assembly"]"#, "ana", nil),
                (anaTitle, "title", "t:Protest in Almaty", "ana", created),
                (benTitle, "title", "t:Rally in Almaty", "ben", created),
            ]
            for (seq, (hlc, field, value, author, base)) in rows.enumerated() {
                try db.execute(sql: """
                    INSERT INTO change (hlc, seq, collection, record, field, value, author, base, received_at)
                    VALUES (?, ?, 'incidents', ?, ?, ?, ?, ?, 1)
                    """, arguments: [hlc.text, seq + 1, record, field, value, author, base?.text])
            }
            for (field, hlc) in [("themes", themes), ("title", anaTitle), ("title", benTitle)] {
                try db.execute(sql: "INSERT INTO head (record, field, hlc) VALUES (?, ?, ?)", arguments: [record, field, hlc.text])
            }
            // A pending edit of a field, not pushed yet.
            try db.execute(sql: """
                INSERT INTO outbox (record, field, collection, value, hlc) VALUES (?, 'location', 'incidents', 't:Shymkent', ?)
                """, arguments: [record, pendingHLC.text])
            try db.execute(sql: "INSERT INTO record (id, collection, visible, pending, title) VALUES (?, 'incidents', 1, 1, 'Rally in Almaty')",
                           arguments: [record])
            try db.execute(sql: "INSERT INTO current (record, field, value) VALUES (?, 'title', 't:Rally in Almaty'), (?, 'themes', ?)",
                           arguments: [record, record, #"l:["torture","assembly"]"#])
            for (field, key) in [("title", "Rally in Almaty"), ("themes", "torture"), ("themes", "assembly")] {
                try db.execute(sql: "INSERT INTO search_key (collection, field, key, record) VALUES ('incidents', ?, ?, ?)",
                               arguments: [field, key, record])
            }
        }
        try queue.close()

        let replica = try Replica.open(home: home)
        let heads = try replica.read { db in try Replica.acceptedFields(record: record, db) }
        #expect(heads.collection == "incidents")
        #expect(Set(heads.fields["title"]?.map(\.hlc) ?? []) == [anaTitle, benTitle])
        #expect(heads.fields["themes"]?.map(\.hlc) == [themes])
        func listed(_ field: String, _ key: String) throws -> [String] {
            try replica.read { db in try ReplicaQuery.list(collection: "incidents", filters: [(field, key)], db).map(\.id) }
        }
        #expect(try listed("themes", "torture") == [record])
        let pushable = try replica.read { db in try OutboxEntry.pushable(limit: 10, db) }
        #expect(pushable.map(\.hlc) == [pendingHLC] && pushable.first?.record == record)

        // A confirmed edit of the list after the upgrade replaces its search keys and its head.
        let edit = Change(collection: "incidents", record: record, field: "themes", value: .list(["expression"]),
                          hlc: HLC(millis: 1_700_000_200_000, counter: 0, node: ben), author: "ben", base: themes)
        try replica.write { db in
            try Replica.applyAccepted([Wire.LoggedChange(seq: 5, change: edit, receivedAt: 2)], schema: .upr, db)
        }
        #expect(try listed("themes", "torture").isEmpty)
        #expect(try listed("themes", "assembly").isEmpty)
        #expect(try listed("themes", "expression") == [record])
        #expect(try listed("title", "Rally in Almaty") == [record])
        let shown = try replica.read { db in try ReplicaQuery.record(try RecordRef.find(record, db), db) }
        #expect(shown.pending && shown.fields["location"] == .text("Shymkent") && shown.fields["themes"] == .list(["expression"]))
        let flags = try replica.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT hlc, head FROM change").map { (row: Row) -> (String, Bool) in (row[0], row[1]) })
        }
        #expect(flags == [created.text: false, themes.text: false, anaTitle.text: true, benTitle.text: true, edit.hlc.text: true])
        // The title conflict is derived again from the migrated heads, both values kept.
        let conflicts = try replica.read { db in try ReplicaQuery.conflicts(db) }
        #expect(conflicts.count == 1)
        #expect(Set(conflicts.first?.conflict.versions.map(\.value) ?? []) == [.text("Protest in Almaty"), .text("Rally in Almaty")])
        #expect(try replica.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
    }

    @Test func aReplicaUpgradedByANewerVersionIsRefusedNotMisread() throws {
        let local = try TemporaryReplica(onDisk: true)
        defer { local.cleanUp() }
        try local.replica.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
        }
        #expect {
            _ = try Replica.open(home: local.home)
        } throws: { error in
            "\(error)".contains("upgraded by a newer casebook")
        }
    }
}
