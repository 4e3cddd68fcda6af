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

    /// A record new to the replica made ready to store away from the database, so that an import gets the next
    /// records ready on one core while the database stores the ones before on the other: checked against the
    /// schema, each value encoded once for both the outbox and what reads show, its title and search keys found.
    struct NewRecord: Sendable {
        /// The collection it was checked for: it is added there.
        let collection: String
        let values: [String: FieldValue]
        /// The record's id, unless the caller chose one (made at the transaction's time, as `LocalEditor.newRecordID`).
        fileprivate let id: String
        /// The schema's refusal, or nil for a record with a sensitive field (sealed while it is stored, with
        /// the project's key: `add(collection:values:...)` stores it).
        fileprivate let form: Result<Form?, SchemaError>

        fileprivate struct Form: Sendable {
            /// The values set, in field order (the order their changes are stamped in), with their stored text.
            var fields: [(name: String, value: FieldValue, text: String)]
            var title: String?
            var keys: [Replica.SearchKey]
        }

        /// `now`: the time of the transaction that will store the record (`LocalEditor.now`).
        init(collection: String, values: [String: FieldValue], schema: Schema, now: UInt64) {
            self.collection = collection
            self.values = values
            var generator = SystemRandomNumberGenerator()
            id = RecordID.generate(now: now, using: &generator)
            form = Result { () throws(SchemaError) -> Form? in
                try schema.validateNewRecord(collection: collection, fields: values, refusingDeprecated: true)
                guard let collectionSchema = schema.collection(collection) else { return nil }
                var form = Form(fields: [], title: nil, keys: [])
                form.fields.reserveCapacity(values.count)
                for (name, value) in values.sorted(by: { $0.key < $1.key }) where !value.isUnset {
                    let field = collectionSchema.field(name)
                    guard field?.sensitive != true, !Replica.reservedFields.contains(name) else { return nil }
                    form.fields.append((name, value, StorageText.encode(value)))
                    if name == collectionSchema.titleField { form.title = String(value.displayText.prefix(120)) }
                    Replica.appendSearchKeys(of: value, field: name, type: field?.type, to: &form.keys)
                }
                return form
            }
        }
    }

    /// Creates a record made ready by `NewRecord` (validated as a whole), in the collection it was checked for, and
    /// returns its id: `chosen`, which the replica must not have, or the one drawn with it.
    mutating func add(_ record: NewRecord, id chosen: String? = nil, access: [String] = [], editor: inout LocalEditor) throws -> String {
        let collection = record.collection
        let form = try record.form.get()
        try LocalEditor.checkReferences(record.values, collection: collection, schema: editor.schema) { id in try visibleCollection(id) }
        let id = chosen ?? record.id
        var entries: [OutboxEntry] = []
        var texts: [String] = []
        entries.reserveCapacity(record.values.count + 1)
        texts.reserveCapacity(record.values.count + 1)
        if !access.isEmpty {
            // As `LocalEditor.add`: stamped first.
            try Schema.validateAccess(.list(access))
            entries.append(OutboxEntry(collection: collection, record: id, field: Change.accessField, value: .list(access), hlc: editor.tick(),
                                       base: nil, supersedes: []))
            texts.append(StorageText.encode(FieldValue.list(access)))
        }
        // A record with a sensitive field has no form: its values are sealed here, with the project's key.
        let fields = try form?.fields ?? record.values.sorted { $0.key < $1.key }.filter { !$0.value.isUnset }.map { field, value in
            let stored = try editor.stored(value, record: id, collection: collection, field: field)
            return (name: field, value: stored, text: StorageText.encode(stored))
        }
        for field in fields {
            entries.append(OutboxEntry(collection: collection, record: id, field: field.name, value: field.value, hlc: editor.tick(),
                                       base: nil, supersedes: []))
            texts.append(field.text)
        }
        // Nothing to stage: `add` leaves no trace of such a record either.
        guard !entries.isEmpty else { return id }
        let key: Int64
        if let form {
            key = try Replica.storeNew(record: id, collection: collection, title: form.title,
                                       values: form.fields.map { ($0.name, $0.text) }, keys: form.keys, editor.db)
        } else {
            guard let stored = try Replica.refresh(record: id, schema: editor.schema, editor.db, isNew: true, accepted: (nil, [:]), pending: entries) else {
                throw ClientError("record \(id) could not be stored in the replica")
            }
            key = stored
        }
        try OutboxEntry.insert(entries, key: key, valueTexts: texts, editor.db)
        return id
    }

    /// Creates a record with `values` (validated as a whole) and returns its id: `chosen`, which the replica must
    /// not have, or a new one.
    mutating func add(collection: String, values: [String: FieldValue], id chosen: String? = nil, access: [String] = [],
                      editor: inout LocalEditor) throws -> String {
        try add(NewRecord(collection: collection, values: values, schema: editor.schema, now: editor.now), id: chosen, access: access, editor: &editor)
    }

    /// `LocalEditor.put`: adds the record `id` when the replica does not have it, or edits the fields whose values differ.
    /// `prepared`: the values made ready as a new record, when the caller has them.
    mutating func put(record id: String, collection: String, values: [String: FieldValue], prepared: NewRecord? = nil,
                      editor: inout LocalEditor) throws -> LocalEditor.PutOutcome {
        guard try findRecord.fetchRaw({ $0.text(id) }, row: { $0.text(0) }).isEmpty else {
            return try editor.put(record: id, collection: collection, values: values)
        }
        if let prepared, prepared.collection == collection {
            _ = try add(prepared, id: id, editor: &editor)
        } else {
            _ = try add(collection: collection, values: values, id: id, editor: &editor)
        }
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
