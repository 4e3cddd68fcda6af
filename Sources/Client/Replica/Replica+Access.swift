import Foundation
import GRDB
import Shared

/// Need-to-know on the replica: a record's access (the reserved field `_access`, `AccessRule`).
extension Replica {
    /// The fields that are not values of a record: deletion and access.
    static let reservedFields: Set<String> = [Change.deletedField, Change.accessField]

    /// The groups a record is restricted to (empty: the whole team), with this replica's pending
    /// edit on top. Several concurrent access values give every group they name: the record is
    /// readable only by whoever all of them let read it, and `conflicts` lists them.
    static func access(record: String, _ db: Database) throws -> [String] {
        if let pending = try OutboxEntry.all(record: record, db).last(where: { $0.field == Change.accessField }) {
            return AccessRule.groups(pending.value)
        }
        let heads = try acceptedHeads(record: record, field: Change.accessField, db)
        return AccessRule.groupsNamed(by: AccessRule.accessClass(heads.map(\.value))).sorted()
    }

    /// A record's access (by full id or unique prefix).
    func access(_ typed: String) async throws -> [String] {
        try await read { db in try Self.access(record: try RecordRef.find(typed, db).id, db) }
    }
}

extension Replica {
    /// What removing records the replica may no longer read did.
    struct Removal: Sendable, Equatable {
        /// Records removed.
        var records = 0
        /// Pending edits of them dropped (the server would refuse them as unknown records).
        var dropped = 0
    }

    /// Applies a pull page that also names records to remove and records granted since the cursor
    /// (with `granted`, their whole history), and the signed batches that hold both: one transaction
    /// with the page's cursor, so a sync cut off anywhere neither half-removes a record nor skips one.
    func applyPulled(_ changes: [Wire.LoggedChange], removing: [String], granted: [Wire.LoggedChange], serverTime: UInt64,
                     state: SyncState, schema: Schema, batches: [SignedBatch] = [],
                     stored: [StoredChange]? = nil) async throws -> (applied: Int, removal: Removal) {
        // What is removed is overwritten in the database's pages, not only unlinked from them.
        if !removing.isEmpty { try await outsideTransaction { db in try db.execute(sql: "PRAGMA secure_delete = ON") } }
        let (applied, removal, files) = try await write { db in
            var removal = Removal(), files: Set<String> = []
            for record in removing {
                guard let removed = try Self.remove(record: record, db) else { continue }
                removal.records += 1
                removal.dropped += removed.dropped
                files.formUnion(removed.files)
            }
            try Replica.storeBatches(batches, db)
            _ = try Replica.applyAccepted(granted, schema: schema, db)
            let applied = try Replica.applyAccepted(changes, schema: schema, db, stored: stored)
            var clock = try ReplicaClock.load(db)
            clock.offset = WallClock.offset(toServerTime: serverTime)
            if let newest = (changes + granted).lazy.map(\.change.hlc).max() { clock.receive(newest, now: clock.now) }
            try clock.save(db)
            try state.save(db)
            return (applied, removal, files)
        }
        if removal.records > 0 {
            // And the log's copies of the old pages go too: the log is written back and emptied.
            try await outsideTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        // The content goes once the rows that list it are gone (a crash between leaves an unlisted file, which `verify` names).
        for sha256 in files { try? FileManager.default.removeItem(at: self.files.url(sha256)) }
        return (applied, removal)
    }

    /// Removes a record with its history, pending edits, values, search keys, conflicts, custody
    /// events, and the files no other record names; nil when the replica does not hold it.
    static func remove(record id: String, _ db: Database) throws -> (dropped: Int, files: [String])? {
        guard let key = try recordKey(id, db),
              let collection = try String.fetchOne(db, sql: "SELECT collection FROM record WHERE key = ?", arguments: [key]) else { return nil }
        try clearDerived(record: id, key: key, collection: collection, db)
        var named = Set<String>()
        for text in try String.fetchAll(db, sql: """
            SELECT value FROM change WHERE record_key = ? AND value LIKE 'f:%' UNION ALL SELECT value FROM outbox WHERE record_key = ? AND value LIKE 'f:%'
            """, arguments: [key, key]) {
            if case .files(let refs) = try? StorageText.decodeValue(text) { named.formUnion(refs.map(\.sha256)) }
        }
        let dropped = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE record_key = ?", arguments: [key]) ?? 0
        try db.execute(sql: "DELETE FROM outbox WHERE record_key = ?", arguments: [key])
        try db.execute(sql: "DELETE FROM change_parent WHERE child IN (SELECT hlc FROM change WHERE record_key = ?)", arguments: [key])
        try db.execute(sql: "DELETE FROM change WHERE record_key = ?", arguments: [key])
        try db.execute(sql: "DELETE FROM custody WHERE record = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM record WHERE key = ?", arguments: [key])
        var files: [String] = []
        for sha256 in named.sorted() {
            let elsewhere = try Bool.fetchOne(db, sql: """
                SELECT 1 FROM change WHERE value LIKE 'f:%' AND instr(value, ?) > 0 UNION ALL SELECT 1 FROM outbox WHERE value LIKE 'f:%' AND instr(value, ?) > 0 LIMIT 1
                """, arguments: [sha256, sha256]) ?? false
            guard !elsewhere else { continue }
            try db.execute(sql: "DELETE FROM file WHERE sha256 = ?", arguments: [sha256])
            try db.execute(sql: "DELETE FROM custody WHERE sha256 = ?", arguments: [sha256])
            files.append(sha256)
        }
        return (dropped, files)
    }
}
