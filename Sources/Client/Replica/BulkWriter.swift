import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The write path of an import: adds the records new to the replica in bulk, and hands the others to
/// `LocalEditor.put`.
///
/// A new record is written exactly as `LocalEditor.add` writes it (an outbox entry per field, stamped in field
/// order by the replica's clock, then what reads show: the record row, its values, their search keys), but at
/// a fraction of the cost: it has no accepted version, pending edit or derived row, so nothing is read back or
/// cleared; its entries are inserted in one statement (prepared once); and a record that values refer to is
/// looked up once per import, not once per row. It writes in the editor's transaction, so an import is still
/// all or nothing. `BulkWriterTests` checks that both paths leave the same replica.
struct BulkWriter {
    private let findRecord: Statement
    private let findVisible: Statement
    /// Visible records that a value referred to, to their collection: an import deletes none.
    private var referenced: [String: String] = [:]

    init(_ editor: LocalEditor) throws {
        findRecord = try editor.db.cachedStatement(sql: "SELECT collection FROM record WHERE id = ?")
        findVisible = try editor.db.cachedStatement(sql: "SELECT collection FROM record WHERE id = ? AND visible")
    }

    /// Creates a record with `values` (validated as a whole) and returns its id: `chosen`, which the replica must
    /// not have, or a new one.
    mutating func add(collection: String, values: [String: FieldValue], id chosen: String? = nil, access: [String] = [],
                      editor: inout LocalEditor) throws -> String {
        let schema = editor.schema
        try schema.validateNewRecord(collection: collection, fields: values, refusingDeprecated: true)
        try LocalEditor.checkReferences(values, collection: collection, schema: schema) { id in try visibleCollection(id) }
        let id = chosen ?? editor.newRecordID()
        var entries: [OutboxEntry] = []
        entries.reserveCapacity(values.count + 1)
        if !access.isEmpty {
            // As `LocalEditor.add`: stamped first.
            try Schema.validateAccess(.list(access))
            entries.append(OutboxEntry(collection: collection, record: id, field: Change.accessField, value: .list(access), hlc: editor.tick(),
                                       base: nil, supersedes: []))
        }
        for (field, value) in values.sorted(by: { $0.key < $1.key }) where !value.isUnset {
            let stored = try editor.stored(value, record: id, collection: collection, field: field)
            entries.append(OutboxEntry(collection: collection, record: id, field: field, value: stored, hlc: editor.tick(),
                                       base: nil, supersedes: []))
        }
        // Nothing to stage: `add` leaves no trace of such a record either.
        guard !entries.isEmpty else { return id }
        guard let key = try Replica.refresh(record: id, schema: schema, editor.db, isNew: true, accepted: (nil, [:]), pending: entries) else {
            throw ClientError("record \(id) could not be stored in the replica")
        }
        try OutboxEntry.insert(entries, key: key, editor.db)
        return id
    }

    /// `LocalEditor.put`: adds the record `id` when the replica does not have it, or edits the fields whose values differ.
    mutating func put(record id: String, collection: String, values: [String: FieldValue], editor: inout LocalEditor) throws -> LocalEditor.PutOutcome {
        guard try findRecord.fetchRaw({ $0.text(id) }, row: { $0.text(0) }).isEmpty else {
            return try editor.put(record: id, collection: collection, values: values)
        }
        _ = try add(collection: collection, values: values, id: id, editor: &editor)
        return .added
    }

    /// The collection of a visible record, nil when the replica has no such record.
    private mutating func visibleCollection(_ id: String) throws -> String? {
        if let known = referenced[id] { return known }
        let found = try findVisible.fetchRaw({ $0.text(id) }, row: { $0.text(0) }).first
        if let found { referenced[id] = found }
        return found
    }
}
