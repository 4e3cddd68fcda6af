import Foundation
import GRDB
import Testing
@testable import Server
@testable import Shared

/// An embedded store written by an earlier version opens with the current one and loses nothing.
@Suite struct SQLiteMigrationTests {
    /// Writes a store as version 1 left it: `log` numbered from 1, `heads` keyed by record id,
    /// the records (all incidents), and `conflict` open, last changed at sequence number `changedAt`.
    func writeVersion1Store(at path: String, log: [Change], heads: [Change], conflict: Conflict, changedAt: Int64) throws {
        let queue = try DatabaseQueue(path: path)
        try SQLiteMigrations.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO project (id, name, schema, last_seq, created_at) VALUES (1, 'kz', ?, ?, 0)",
                           arguments: [String(decoding: try Schema.upr.jsonData(), as: UTF8.self), log.count])
            for (offset, change) in log.enumerated() {
                let stored = StoredChange(change)
                try db.execute(sql: """
                    INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                    """, arguments: [offset + 1, stored.hlc, stored.collection, stored.record, stored.field, stored.value, stored.author,
                                     stored.base, stored.supersedes, stored.covers])
            }
            for head in heads {
                try db.execute(sql: "INSERT INTO head (project_id, record, field, hlc) VALUES (1, ?, ?, ?)", arguments: [head.record, head.field, head.hlc.text])
            }
            for record in Set(log.map(\.record)).sorted() {
                try db.execute(sql: "INSERT INTO record (project_id, id, collection) VALUES (1, ?, 'incidents')", arguments: [record])
            }
            let state = String(decoding: try JSONEncoder().encode(Wire.ConflictState(conflict: conflict, open: true)), as: UTF8.self)
            try db.execute(sql: "INSERT INTO conflict (project_id, record, field, state, seq) VALUES (1, ?, ?, ?, ?)",
                           arguments: [conflict.record, conflict.field, state, changedAt])
        }
        try queue.close()
    }

    @Test func aVersion1StoreKeepsItsHeadsAndConflictsAndTakesPushesAfterTheUpgrade() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-store-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("casebook.sqlite").path

        var ana = ChangeMaker(node: "000000000000000a"), ben = ChangeMaker(node: "000000000000000b")
        // As the server stored them: each author is the user who pushed the change.
        func by(_ author: String, _ change: Change) -> Change {
            var change = change
            change.author = author
            return change
        }
        let created = by("ana", ana.change(recordA, "title", .text("Protest")))
        let anaEdit = by("ana", ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc))
        let benEdit = by("ben", ben.change(recordA, "title", .text("Rally"), base: created.hlc))
        let other = by("ben", ben.change(recordB, "title", .text("Hearing")))
        let conflict = Conflict(collection: "incidents", record: recordA, field: "title", versions: [Version(anaEdit), Version(benEdit)])

        // A store as version 1 left it, with an open conflict.
        try writeVersion1Store(at: path, log: [created, anaEdit, benEdit, other], heads: [anaEdit, benEdit, other], conflict: conflict, changedAt: 3)

        let store = try SQLiteSyncStore(folder: folder)
        let snapshot = try await store.snapshot(project: "kz", after: nil, limit: 100)
        #expect(Set(snapshot.changes.map(\.change.hlc)) == [anaEdit.hlc, benEdit.hlc, other.hlc])

        // The conflict is still there for the planner: resolving it closes it.
        let parents = FieldState(heads: conflict.versions).resolutionParents
        let resolution = ana.change(recordA, "title", .text("Protest in Almaty"), base: parents.base, supersedes: parents.supersedes)
        let edit = ben.change(recordB, "title", .text("Hearing in Astana"), base: other.hlc)
        // The upgrade gave each node already in the log to the author of its first change: each
        // replica pushes as its own user, and neither may push as the other.
        #expect(try await store.nodeOwner(project: "kz", node: NodeID("000000000000000a")!) == "ana")
        #expect(try await store.nodeOwner(project: "kz", node: NodeID("000000000000000b")!) == "ben")
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        #expect(try await store.push(project: "kz", changes: [edit], author: "ana", policy: policy).first?.code == "node_forged")
        let results = try await store.push(project: "kz", changes: [resolution], author: "ana", policy: policy)
            + store.push(project: "kz", changes: [edit], author: "ben", policy: policy)
        #expect(results.map(\.status) == [.applied, .applied])
        let after = try await store.snapshot(project: "kz", after: nil, limit: 100)
        #expect(Set(after.changes.map(\.change.hlc)) == [resolution.hlc, edit.hlc])
        let page = try await store.pull(project: "kz", after: 4, limit: 10)
        #expect(page.changes.map(\.seq) == [5, 6])
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT state, seq FROM conflict") }
        #expect(rows.count == 1)
        let closed = try JSONDecoder().decode(Wire.ConflictState.self, from: Data(try #require(rows.first?["state"] as String?).utf8))
        #expect(closed == Wire.ConflictState(conflict: conflict, open: false))
        #expect(rows.first?["seq"] as Int64? == 5)

        // A record's whole history, before and after the upgrade, is found by its key (v11): what a
        // replica granted the record receives.
        let history = try await store.records(project: "kz", ids: [recordA], reader: .everything)
        #expect(history.changes.map(\.change.hlc) == [created.hlc, anaEdit.hlc, benEdit.hlc, resolution.hlc])
        let unkeyed = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM change WHERE record_key IS NULL") }
        #expect(unkeyed == 0)

        let check = try DatabaseQueue(path: path)
        #expect(try await check.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
    }

    @Test func aStoreFromANewerServerIsRefusedNotMisread() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-store-new-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SQLiteSyncStore(folder: folder)
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("casebook.sqlite").path)
        try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        try queue.close()
        #expect {
            _ = try SQLiteSyncStore(folder: folder)
        } throws: { error in
            "\(error)".contains("set up by a newer casebook-server")
        }
    }
}
