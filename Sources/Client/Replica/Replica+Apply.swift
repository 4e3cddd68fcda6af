import Foundation
import GRDB
import Shared
import SQLiteSupport

extension Replica {
    /// Applies changes the server accepted (pulled, or acknowledged after a push) through the
    /// merge rule, then refreshes what reads show for every record they touch (and for
    /// `alsoRefresh`). Changes already known are skipped. Returns how many were new. The caller
    /// owns the transaction, so a page and its cursor are committed together.
    ///
    /// `acknowledging`: the changes are this replica's own, just accepted by a push. For a record
    /// that had no confirmed change before, what reads show is already exactly those values
    /// (they were pending), so only its pending flag is updated instead of a full refresh.
    @discardableResult
    static func applyConfirmed(_ changes: [Wire.LoggedChange], schema: Schema, _ db: Database,
                               alsoRefresh: some Sequence<String> = [String](), acknowledging: Bool = false) throws -> Int {
        let hasChanges = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = ? LIMIT 1")
        let known = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = ? AND hlc = ?")
        let childByBase = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE base = ? AND record_key = ? AND field = ? LIMIT 1")
        let childByParent = try db.cachedStatement(sql: """
            SELECT 1 FROM change_parent JOIN change ON change.record_key = ? AND change.hlc = change_parent.child
            WHERE change_parent.parent = ? AND change.field = ? LIMIT 1
            """)
        // Per record, in the order records first appear: its fields' states before and after.
        var position: [String: Int] = [:]
        var records: [RecordBatch] = []
        var batchHLCs = Set<HLC>()
        var batchParents = Set<ParentKey>()
        // Stored after the merge, when each one's `head` flag is known; with its record's index in `records`.
        var accepted: [(logged: Wire.LoggedChange, record: Int)] = []
        accepted.reserveCapacity(changes.count)
        for logged in changes {
            let change = logged.change
            let index: Int
            if let found = position[change.record] {
                index = found
            } else {
                index = records.count
                position[change.record] = index
                let (key, registered) = try register(change.record, collection: change.collection, db)
                // A record with no confirmed change here needs no per-change lookups.
                let isNew = try !registered || Bool.fetchOne(hasChanges, arguments: [key]) != true
                records.append(RecordBatch(id: change.record, key: key, collection: change.collection, isNew: isNew, wasRegistered: registered))
            }
            let isNewRecord = records[index].isNew
            let recordKey = records[index].key
            if batchHLCs.contains(change.hlc) { continue }
            if !isNewRecord, try Bool.fetchOne(known, arguments: [recordKey, change.hlc.text]) == true { continue }
            // Parents only count within the same field (a change cannot supersede another field's version).
            var isParent = !batchParents.isEmpty && batchParents.contains(ParentKey(record: change.record, field: change.field, parent: change.hlc))
            if !isParent && !isNewRecord {
                let hlc = change.hlc.text
                isParent = try Bool.fetchOne(childByBase, arguments: [hlc, recordKey, change.field]) == true
                    || Bool.fetchOne(childByParent, arguments: [recordKey, hlc, change.field]) == true
            }
            var edit: FieldEdit
            if let started = records[index].fields[change.field] {
                edit = started
            } else {
                let heads = isNewRecord ? FieldState() : FieldState(heads: try confirmedHeads(key: recordKey, field: change.field, db))
                edit = FieldEdit(before: heads, after: heads)
            }
            edit.after = MergeRule.merge(edit.after, change, knowledge: .init(isParentOfKnownChange: isParent)).state
            records[index].fields[change.field] = edit
            batchHLCs.insert(change.hlc)
            for parent in change.parents { batchParents.insert(ParentKey(record: change.record, field: change.field, parent: parent)) }
            accepted.append((logged, index))
        }
        try store(accepted, applied: batchHLCs, records: records, db)
        var refreshed = Set<String>()
        let pendingFlag = try db.cachedStatement(sql: "UPDATE record SET pending = EXISTS (SELECT 1 FROM outbox WHERE record_key = ?) WHERE key = ?")
        for batch in records {
            refreshed.insert(batch.id)
            // A record registered before this batch is shown already (from pending edits, if it had no confirmed change).
            let wasShown = batch.wasRegistered
            if acknowledging && wasShown && batch.isNew {
                try pendingFlag.execute(arguments: [batch.key, batch.key])
                continue
            }
            if batch.isNew && !wasShown {
                // A record new here: everything confirmed about it is in memory, nothing derived to clear.
                try refresh(record: batch.id, schema: schema, db, isNew: true,
                            confirmed: (batch.collection, batch.fields.mapValues(\.after.heads)))
                continue
            }
            try refresh(record: batch.id, schema: schema, db)
        }
        for record in alsoRefresh where refreshed.insert(record).inserted { try refresh(record: record, schema: schema, db) }
        return accepted.count
    }

    /// Stores the accepted changes, each flagged `head` if it is one of its field's versions after
    /// the merge, and clears the flag of the versions the merge replaced.
    private static func store(_ accepted: [(logged: Wire.LoggedChange, record: Int)], applied: Set<HLC>, records: [RecordBatch],
                              _ db: Database) throws {
        var heads = Set<HLC>()
        heads.reserveCapacity(accepted.count)
        for batch in records {
            for edit in batch.fields.values where edit.after != edit.before {
                for head in edit.after.heads { heads.insert(head.hlc) }
            }
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO change (record_key, seq, hlc, collection, field, value, author, base, supersedes, covers, received_at, head)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertParent = try db.cachedStatement(sql: "INSERT OR IGNORE INTO change_parent (parent, child) VALUES (?, ?)")
        for (logged, record) in accepted {
            let change = logged.change
            let isHead = heads.contains(change.hlc)
            let stored = StoredChange(change)
            try insert.executeRaw { row in
                row.integer(records[record].key)
                if logged.seq == 0 { row.null() } else { row.integer(logged.seq) }
                row.text(stored.hlc)
                row.text(stored.collection)
                row.text(stored.field)
                row.text(stored.value)
                row.text(stored.author)
                row.text(stored.base)
                row.text(stored.supersedes)
                row.text(stored.covers)
                row.integer(Int64(bitPattern: logged.receivedAt))
                row.integer(isHead ? 1 : 0)
            }
            for parent in change.supersedes { try insertParent.execute(arguments: [parent.text, change.hlc.text]) }
        }
        // Versions stored before this batch: flag the ones that stopped (or became) current.
        let flag = try db.cachedStatement(sql: "UPDATE change SET head = ? WHERE record_key = ? AND hlc = ?")
        for batch in records where !batch.isNew {
            for edit in batch.fields.values {
                let before = Set(edit.before.heads.map(\.hlc))
                let after = Set(edit.after.heads.map(\.hlc))
                guard before != after else { continue }
                for hlc in before.subtracting(after) { try flag.execute(arguments: [false, batch.key, hlc.text]) }
                // A version stored before this batch that is current again (this batch's were flagged on insert).
                for hlc in after.subtracting(before) where !applied.contains(hlc) {
                    try flag.execute(arguments: [true, batch.key, hlc.text])
                }
            }
        }
    }

    /// What one applied batch does to one record.
    private struct RecordBatch {
        let id: String
        let key: Int64
        /// The collection its first change names.
        let collection: String
        /// No change of it was stored before this batch.
        let isNew: Bool
        /// Its record row existed before this batch (it had confirmed changes, or pending edits).
        let wasRegistered: Bool
        var fields: [String: FieldEdit] = [:]
    }

    /// One field's confirmed versions before and after a batch.
    private struct FieldEdit {
        var before: FieldState
        var after: FieldState
    }

    private struct ParentKey: Hashable {
        var record: String
        var field: String
        var parent: HLC
    }

    /// The local key of a record, registering it (with its collection) if it has none yet;
    /// `registered`: it had one before.
    static func register(_ id: String, collection: String, _ db: Database) throws -> (key: Int64, registered: Bool) {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO record (id, collection, visible, pending, title) VALUES (?, ?, 0, 0, NULL)
            ON CONFLICT (id) DO NOTHING RETURNING key
            """)
        if let key = try insert.fetchRaw({ row in
            row.text(id)
            row.text(collection)
        }, row: { $0.integer(0) }).first {
            return (key, false)
        }
        guard let key = try recordKey(id, db) else { throw ClientError("record \(id) could not be registered in the replica") }
        return (key, true)
    }

    /// The local key of a record, nil if this replica has never seen it.
    static func recordKey(_ id: String, _ db: Database) throws -> Int64? {
        try db.cachedStatement(sql: "SELECT key FROM record WHERE id = ?").fetchRaw({ $0.text(id) }, row: { $0.integer(0) }).first
    }

    /// The confirmed versions of one field.
    static func confirmedHeads(record: String, field: String, _ db: Database) throws -> [Version] {
        guard let key = try recordKey(record, db) else { return [] }
        return try confirmedHeads(key: key, field: field, db)
    }

    static func confirmedHeads(key: Int64, field: String, _ db: Database) throws -> [Version] {
        let statement = try db.cachedStatement(sql: "SELECT hlc, value, author, covers FROM change WHERE record_key = ? AND field = ? AND head")
        return try statement.fetchRaw({ row in
            row.integer(key)
            row.text(field)
        }, row: { row in try version(row, from: 0) })
    }

    /// The confirmed versions of every field of a record, and the record's collection.
    static func confirmedFields(record: String, _ db: Database) throws -> (collection: String?, fields: [String: [Version]]) {
        guard let key = try recordKey(record, db) else { return (nil, [:]) }
        return try confirmedFields(key: key, db)
    }

    static func confirmedFields(key: Int64, _ db: Database) throws -> (collection: String?, fields: [String: [Version]]) {
        let statement = try db.cachedStatement(sql: "SELECT collection, field, hlc, value, author, covers FROM change WHERE record_key = ? AND head")
        var fields: [String: [Version]] = [:]
        var collection: String?
        let rows = try statement.fetchRaw({ $0.integer(key) }, row: { row in (row.text(0), row.text(1), try version(row, from: 2)) })
        for (name, field, version) in rows {
            fields[field, default: []].append(version)
            collection = name
        }
        return (collection, fields)
    }

    /// A version from the columns hlc, value, author, covers, starting at `first`.
    private static func version(_ row: RawRow, from first: Int32) throws -> Version {
        Version(hlc: try StorageText.decodeHLC(row.text(first)), value: try StorageText.decodeValue(row.text(first + 1)),
                author: row.text(first + 2), covers: try StorageText.decodeHLCs(row.optionalText(first + 3)))
    }

    /// Recomputes what reads show for one record from its confirmed heads and its pending edits:
    /// the record row, its visible values, its search keys and its open conflicts.
    /// `isNew`: the record has no derived rows yet (never stored or shown here), so there is nothing to clear.
    static func refresh(record: String, schema: Schema, _ db: Database, isNew: Bool = false,
                        confirmed known: (collection: String?, fields: [String: [Version]])? = nil) throws {
        let existing = isNew ? nil : try db.cachedStatement(sql: "SELECT key, collection FROM record WHERE id = ?")
            .fetchRaw({ $0.text(record) }, row: { row in (key: row.integer(0), collection: row.text(1)) }).first
        let confirmed = try known ?? existing.map { try confirmedFields(key: $0.key, db) } ?? (nil, [:])
        let pending = try OutboxEntry.all(record: record, db)
        if let existing { try clearDerived(record: record, key: existing.key, collection: existing.collection, db) }
        guard let collection = confirmed.collection ?? pending.first?.collection else {
            // Nothing confirmed and nothing pending: no change row refers to it, so its key can go too.
            if let existing { try db.execute(sql: "DELETE FROM record WHERE key = ?", arguments: [existing.key]) }
            return
        }
        let pendingByField = Dictionary(pending.map { ($0.field, $0) }, uniquingKeysWith: { _, last in last })

        // Visible: a pending delete or restore decides; otherwise the delete rule does.
        let visible: Bool
        if let marker = pendingByField[Change.deletedField] {
            visible = marker.value != .bool(true)
        } else {
            visible = DeletionRule.status(fields: confirmed.fields).isVisible
        }

        var values: [String: FieldValue] = [:]
        for (field, versions) in confirmed.fields where field != Change.deletedField {
            values[field] = FieldState(heads: versions).value
        }
        for entry in pending where entry.field != Change.deletedField { values[entry.field] = entry.value }
        values = values.filter { !$0.value.isUnset }

        let titleField = schema.collection(collection)?.titleField ?? ""
        let title = values[titleField].map { String($0.displayText.prefix(120)) }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO record (id, collection, visible, pending, title) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET collection = excluded.collection, visible = excluded.visible,
                pending = excluded.pending, title = excluded.title
            RETURNING key
            """)
        let keys = try upsert.fetchRaw({ row in
            row.text(record)
            row.text(collection)
            row.integer(visible ? 1 : 0)
            row.integer(pending.isEmpty ? 0 : 1)
            row.text(title)
        }, row: { $0.integer(0) })
        guard let recordKey = keys.first else { throw ClientError("record \(record) could not be stored in the replica") }

        let insertValue = try db.cachedStatement(sql: "INSERT INTO current (record_key, field, value) VALUES (?, ?, ?)")
        let insertKey = try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_key (collection, field, key, record_key) VALUES (?, ?, ?, ?)")
        let collectionSchema = schema.collection(collection)
        for (field, value) in values {
            try insertValue.executeRaw { row in
                row.integer(recordKey)
                row.text(field)
                row.text(StorageText.encode(value))
            }
            // Long text is read, not searched by exact value: it stays out of the search index.
            guard visible, collectionSchema?.field(field)?.type != .longText else { continue }
            for key in searchKeys(value) where key.utf8.count <= 512 {
                try insertKey.executeRaw { row in
                    row.text(collection)
                    row.text(field)
                    row.text(key)
                    row.integer(recordKey)
                }
            }
        }

        let conflicts = Conflict.open(record: record, collection: collection, fields: confirmed.fields).values.filter { conflict in
            // A pending resolution hides the conflict until the server confirms it.
            guard let entry = pendingByField[conflict.field] else { return true }
            if conflict.field == Change.deletedField { return false }
            return !Set(conflict.versions.map(\.hlc)).isSubset(of: Set(entry.parents))
        }
        let insertConflict = try db.cachedStatement(sql: "INSERT INTO conflict (id, record, field, collection, versions) VALUES (?, ?, ?, ?, ?)")
        for conflict in conflicts {
            let versions = String(decoding: try JSONEncoder().encode(conflict.versions), as: UTF8.self)
            try insertConflict.execute(arguments: [conflict.id, record, conflict.field, collection, versions])
        }
    }

    /// Deletes what `refresh` derived for a record: its visible values, their search keys (found
    /// by the values, so the keys need no index by record) and its conflicts.
    private static func clearDerived(record: String, key: Int64, collection: String, _ db: Database) throws {
        let values = try db.cachedStatement(sql: "SELECT field, value FROM current WHERE record_key = ?")
        let deleteKey = try db.cachedStatement(sql: "DELETE FROM search_key WHERE collection = ? AND field = ? AND key = ? AND record_key = ?")
        for (field, text) in try values.fetchRaw({ $0.integer(key) }, row: { ($0.text(0), $0.text(1)) }) {
            guard let value = try? StorageText.decodeValue(text) else {
                // Not in a form this version reads: find its keys the slow way.
                try db.execute(sql: "DELETE FROM search_key WHERE collection = ? AND field = ? AND record_key = ?", arguments: [collection, field, key])
                continue
            }
            for searchKey in searchKeys(value) {
                try deleteKey.executeRaw { row in
                    row.text(collection)
                    row.text(field)
                    row.text(searchKey)
                    row.integer(key)
                }
            }
        }
        try db.cachedStatement(sql: "DELETE FROM current WHERE record_key = ?").execute(arguments: [key])
        try db.cachedStatement(sql: "DELETE FROM conflict WHERE record = ?").execute(arguments: [record])
    }

    /// The keys `list --where` matches a value by: the value as typed, or each item of a list.
    static func searchKeys(_ value: FieldValue) -> [String] {
        switch value {
        case .list(let items), .references(let items): items
        case .unset: []
        default: [value.displayText]
        }
    }
}
