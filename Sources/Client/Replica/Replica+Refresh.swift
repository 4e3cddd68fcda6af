import Foundation
import GRDB
import Shared
import SQLiteSupport

/// What reads show, derived per record from its accepted versions and pending edits.
extension Replica {
    /// Recomputes what reads show for one record from its accepted heads and its pending edits:
    /// the record row, its visible values, its search keys and its open conflicts.
    /// `isNew`: the record has no derived rows yet (never stored or shown here), so there is nothing to clear.
    /// `accepted` and `pending`, when the caller knows them (a record new here), are not read back.
    /// `key`: the local key of a new record the caller registered already (see `register`); a new record
    /// without one must not have a record row yet.
    /// Returns the record's local key, nil when nothing is left of it.
    @discardableResult
    static func refresh(record: String, schema: Schema, _ db: Database, isNew: Bool = false, key registeredKey: Int64? = nil,
                        accepted known: (collection: String?, fields: [String: [Version]])? = nil,
                        pending knownPending: [OutboxEntry]? = nil) throws -> Int64? {
        let existing = isNew ? nil : try db.cachedStatement(sql: "SELECT key, collection FROM record WHERE id = ?")
            .fetchRaw({ $0.text(record) }, row: { row in (key: row.integer(0), collection: row.text(1)) }).first
        let accepted = try known ?? existing.map { try acceptedFields(key: $0.key, db) } ?? (nil, [:])
        let pending = try knownPending ?? OutboxEntry.all(record: record, db)
        if let existing { try clearDerived(record: record, key: existing.key, collection: existing.collection, db) }
        guard let collection = accepted.collection ?? pending.first?.collection else {
            // Nothing accepted and nothing pending: no change row refers to it, so its key can go too.
            if let existing { try db.execute(sql: "DELETE FROM record WHERE key = ?", arguments: [existing.key]) }
            return nil
        }
        let pendingByField = Dictionary(pending.map { ($0.field, $0) }, uniquingKeysWith: { _, last in last })

        // Visible: a pending delete or restore decides; otherwise the delete rule does.
        let visible: Bool
        if let marker = pendingByField[Change.deletedField] {
            visible = marker.value != .bool(true)
        } else {
            visible = DeletionRule.status(fields: accepted.fields).isVisible
        }

        // Fields whose heads' different values combine show their merge (and are not in conflict).
        // Rules matter only where a field holds several versions: most records skip building them.
        let rules = accepted.fields.values.contains { $0.count > 1 } ? FieldRules(schema, collection: collection) : .none
        var merged: [String: FieldValue] = [:]
        for (field, outcome) in try merges(record: record, fields: accepted.fields, rules: rules, db) {
            if case .merged(let value) = outcome { merged[field] = value }
        }
        var values: [String: FieldValue] = [:]
        // Access is not a value of the record: `Replica.access(record:)` reads it.
        for (field, versions) in accepted.fields where !Self.reservedFields.contains(field) {
            values[field] = merged[field] ?? FieldState(heads: versions).value
        }
        for entry in pending where !Self.reservedFields.contains(entry.field) { values[entry.field] = entry.value }
        values = values.filter { !$0.value.isUnset }

        let titleField = schema.collection(collection)?.titleField ?? ""
        let title = values[titleField].map { String($0.displayText.prefix(120)) }
        // Not an upsert `RETURNING key`: SQLite buffers a RETURNING statement's rows in a temporary table it
        // opens and frees on every run, which cost an import about 5% of its time (performance.md).
        let recordKey: Int64
        if let key = existing?.key ?? registeredKey {
            let update = try db.cachedStatement(sql: "UPDATE record SET collection = ?, visible = ?, pending = ?, title = ? WHERE key = ?")
            try update.executeRaw { row in
                row.text(collection)
                row.integer(visible ? 1 : 0)
                row.integer(pending.isEmpty ? 0 : 1)
                row.text(title)
                row.integer(key)
            }
            guard db.changesCount == 1 else { throw ClientError("record \(record) could not be stored in the replica") }
            recordKey = key
        } else {
            recordKey = try insertRecordRow(record, collection: collection, visible: visible, pending: !pending.isEmpty, title: title, db)
        }

        try storeValues(values, recordKey: recordKey, collection: collection, visible: visible, schema: schema, db)
        try storeConflicts(of: record, collection: collection, accepted: accepted.fields, rules: rules, merged: Set(merged.keys),
                           pending: pendingByField, db)
        return recordKey
    }

    private static func insertRecordRow(_ record: String, collection: String, visible: Bool, pending: Bool, title: String?,
                                        _ db: Database) throws -> Int64 {
        let insert = try db.cachedStatement(sql: "INSERT INTO record (id, collection, visible, pending, title) VALUES (?, ?, ?, ?, ?)")
        try insert.executeRaw { row in
            row.text(record)
            row.text(collection)
            row.integer(visible ? 1 : 0)
            row.integer(pending ? 1 : 0)
            row.text(title)
        }
        return db.lastInsertedRowID
    }

    /// What `refresh` stores for a record new to the replica whose only changes are pending local ones, none
    /// of them a delete (`BulkWriter.NewRecord`): the record row, the values (`StorageText`) and their search
    /// keys, found by the caller. Returns the record's local key.
    static func storeNew(record: String, collection: String, title: String?, values: [(field: String, text: String)],
                         keys: [SearchKey], _ db: Database) throws -> Int64 {
        let recordKey = try insertRecordRow(record, collection: collection, visible: true, pending: true, title: title, db)
        try insertDerived(values, keys: keys, recordKey: recordKey, collection: collection, db)
        return recordKey
    }

    /// A key `list --where` finds a record by: a field and one of `searchKeys` of its value.
    struct SearchKey: Sendable {
        var field: String
        var key: String
    }

    /// Appends the search keys of a visible record's value. Long text is read, not searched by exact value: it
    /// stays out of the search index; so does a sensitive field, stored sealed (`list --where` opens its
    /// values instead). A key longer than an index entry may be is left out.
    static func appendSearchKeys(of value: FieldValue, field: String, type: FieldType?, sensitive: Bool = false,
                                 to keys: inout [SearchKey]) {
        guard type != .longText, !sensitive else { return }
        for key in searchKeys(value) where key.utf8.count <= 512 { keys.append(SearchKey(field: field, key: key)) }
    }

    /// Stores a record's visible values and, while it is visible, their search keys, a statement for many rows.
    private static func storeValues(_ values: [String: FieldValue], recordKey: Int64, collection: String, visible: Bool,
                                    schema: Schema, _ db: Database) throws {
        let collectionSchema = schema.collection(collection)
        var stored: [(field: String, text: String)] = []
        var keys: [SearchKey] = []
        stored.reserveCapacity(values.count)
        for (field, value) in values {
            stored.append((field, StorageText.encode(value)))
            guard visible else { continue }
            let fieldSchema = collectionSchema?.field(field)
            appendSearchKeys(of: value, field: field, type: fieldSchema?.type, sensitive: fieldSchema?.sensitive == true, to: &keys)
        }
        try insertDerived(stored, keys: keys, recordKey: recordKey, collection: collection, db)
    }

    private static func insertDerived(_ stored: [(field: String, text: String)], keys: [SearchKey], recordKey: Int64,
                                      collection: String, _ db: Database) throws {
        try insertValues.execute(db, rows: stored.count) { row, index in
            row.integer(recordKey)
            row.text(stored[index].field)
            row.text(stored[index].text)
        }
        try insertKeys.execute(db, rows: keys.count) { row, index in
            row.text(collection)
            row.text(keys[index].field)
            row.text(keys[index].key)
            row.integer(recordKey)
        }
    }

    private static let insertValues = RowsInsert("INSERT INTO current (record_key, field, value) VALUES", row: "(?, ?, ?)")
    private static let insertKeys = RowsInsert("INSERT OR IGNORE INTO search_key (collection, field, key, record_key) VALUES", row: "(?, ?, ?, ?)")

    /// Stores a record's open conflicts; a pending resolution hides its conflict until the server accepts it.
    private static func storeConflicts(of record: String, collection: String, accepted: [String: [Version]], rules: FieldRules,
                                       merged: Set<String>, pending pendingByField: [String: OutboxEntry], _ db: Database) throws {
        let open = Conflict.open(record: record, collection: collection, fields: accepted, rules: rules, merged: merged)
        let conflicts = open.values.filter { conflict in
            // A pending resolution hides the conflict until the server accepts it (of a group: every member's).
            if conflict.field == Change.deletedField { return pendingByField[conflict.field] == nil }
            let fields = rules.groups.first { $0.name == conflict.field }?.fields ?? [conflict.field]
            let entries = fields.compactMap { pendingByField[$0] }
            guard entries.count == fields.count else { return true }
            return !Set(conflict.versions.map(\.hlc)).isSubset(of: Set(entries.flatMap(\.parents)))
        }
        let insertConflict = try db.cachedStatement(sql: "INSERT INTO conflict (id, record, field, collection, versions) VALUES (?, ?, ?, ?, ?)")
        for conflict in conflicts {
            let versions = String(decoding: try JSONEncoder().encode(conflict.versions), as: UTF8.self)
            try insertConflict.execute(arguments: [conflict.id, record, conflict.field, collection, versions])
        }
    }

    /// Deletes what `refresh` derived for a record: its visible values, their search keys (found
    /// by the values, so the keys need no index by record) and its conflicts.
    static func clearDerived(record: String, key: Int64, collection: String, _ db: Database) throws {
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

    /// The keys `list --where` matches a value by: the value as typed, each item of a list, or each
    /// file's name and SHA-256.
    static func searchKeys(_ value: FieldValue) -> [String] {
        switch value {
        case .list(let items), .references(let items): items
        case .files(let files): files.flatMap { [$0.name, $0.sha256] }
        case .unset: []
        default: [value.displayText]
        }
    }
}
