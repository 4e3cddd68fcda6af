import Foundation
import GRDB
import Shared

/// Local edits: each becomes an outbox entry stamped by the replica's clock. Made by
/// `Replica.edit`, which runs them in one transaction and saves the clock at the end.
struct LocalEditor {
    let settings: ReplicaSettings
    let db: Database
    private(set) var clock: ReplicaClock
    /// The time every edit of this transaction is made at.
    let now: UInt64
    /// The project keys, loaded at the first sensitive value sealed.
    private var ring: ProjectKeyRing?

    init(settings: ReplicaSettings, db: Database) throws {
        self.settings = settings
        self.db = db
        clock = try ReplicaClock.load(db)
        now = clock.now
    }

    var schema: Schema { settings.schema }

    /// Saves the clock.
    func finish() throws {
        try clock.save(db)
    }

    // MARK: Reading what an edit needs

    /// A record by full id or unique prefix.
    func record(_ typed: String) throws -> RecordRef {
        try RecordRef.find(typed, db)
    }

    /// `--set FIELD=VALUE` and `--unset FIELD` read by the fields' types (references may be id prefixes).
    func values(_ sets: [String], unsets: [String] = [], collection: String) throws -> [String: FieldValue] {
        try Assignments.parse(sets, unsets: unsets, collection: collection, schema: schema, db)
    }

    /// One typed value of one field.
    func value(_ text: String, field: String, collection: CollectionSchema) throws -> FieldValue {
        try Assignments.value(text, field: field, collection: collection, schema: schema, db)
    }

    /// An open conflict (by full id or unique prefix) with its numbered choices.
    func conflict(_ typed: String) throws -> (view: ConflictView, choices: [ConflictChoice]) {
        let view = try ReplicaQuery.conflict(typed, db, schema: schema)
        // A resolution seals the value it picks anew: it picks from the opened values.
        return try SealedReader.load(db, schema: schema).open(view, try view.choices(node: settings.node, db))
    }

    // MARK: Records

    /// Creates a record with `values` (validated as a whole) and returns its id.
    /// With `access` (groups), the record is restricted to them from its first change on.
    mutating func add(collection: String, values: [String: FieldValue], id chosen: String? = nil, access: [String] = []) throws -> String {
        try schema.validateNewRecord(collection: collection, fields: values, refusingDeprecated: true)
        try checkReferences(values, collection: collection)
        let id = chosen ?? newRecordID()
        if !access.isEmpty {
            // Stamped first, so it reaches the server no later than any value of the record.
            try Schema.validateAccess(.list(access))
            try stage(record: id, collection: collection, field: Change.accessField, value: .list(access), base: nil, supersedes: [])
        }
        for (field, value) in values.sorted(by: { $0.key < $1.key }) where !value.isUnset {
            try stage(record: id, collection: collection, field: field, value: value, base: nil, supersedes: [])
        }
        try Replica.refresh(record: id, schema: schema, db)
        return id
    }

    /// Adds a record with the id `id`, or, when the replica has it, edits the fields whose values
    /// differ (re-importing an export must not stage a change for every cell). A field in conflict
    /// is set even to its shown value, which then settles it as a person would.
    /// Returns what it did: added the record, changed some of its fields, or found nothing to change.
    @discardableResult
    mutating func put(record id: String, collection: String, values: [String: FieldValue]) throws -> PutOutcome {
        guard let existing = try String.fetchOne(db, sql: "SELECT collection FROM record WHERE id = ?", arguments: [id]) else {
            _ = try add(collection: collection, values: values, id: id)
            return .added
        }
        guard existing == collection else { throw ClientError("record \(id) is in \(existing), not \(collection)") }
        let current = try Row.fetchAll(db, sql: """
            SELECT current.field, current.value FROM record JOIN current ON current.record_key = record.key WHERE record.id = ?
            """, arguments: [id])
            .reduce(into: [String: String]()) { $0[$1["field"]] = $1["value"] }
        let reader = try SealedReader.load(db, schema: schema)
        var changed = values
        for (field, value) in values where current[field].map({ opened($0, reader, record: id, collection: collection, field: field) })
            == StorageText.encode(value) {
            if try Replica.acceptedHeads(record: id, field: field, db).count <= 1 { changed[field] = nil }
        }
        guard !changed.isEmpty else { return .unchanged }
        try edit(record: RecordRef(id: id, collection: existing, visible: true), values: changed)
        return .changed
    }

    /// A stored value's text, opened when it is a sealed value of a sensitive field.
    private func opened(_ text: String, _ reader: SealedReader, record: String, collection: String, field: String) -> String {
        guard reader.isSensitive(collection, field), let value = try? StorageText.decodeValue(text) else { return text }
        return StorageText.encode(reader.open(value, collection: collection, record: record, field: field))
    }

    /// What `put(record:collection:values:)` did.
    enum PutOutcome {
        case added, changed, unchanged
    }

    /// Sets and unsets fields of an existing record. A field of a group brings the group's other
    /// members along with their current values, all stamped one after another (`FieldGroup`).
    mutating func edit(record: RecordRef, values: [String: FieldValue]) throws {
        guard record.visible else {
            throw ClientError("record \(record.id) was deleted: it cannot be edited (see 'casebook conflicts' if someone edited it meanwhile)")
        }
        for (field, value) in values { try schema.validate(value, collection: record.collection, field: field, refusingDeprecated: true) }
        try checkReferences(values, collection: record.collection)
        let rules = FieldRules(schema, collection: record.collection)
        for (field, value) in try withGroups(values, record: record, rules: rules) {
            let parents = try Replica.editParents(record: record.id, field: field, rules: rules, db)
            try stage(record: record.id, collection: record.collection, field: field, value: value, base: parents.base, supersedes: parents.supersedes)
        }
        try Replica.refresh(record: record.id, schema: schema, db)
    }

    /// The fields an edit writes, in the order it stamps them: the fields outside groups by name,
    /// then each group touched, whole and in its order (members not set keep the value shown).
    private func withGroups(_ values: [String: FieldValue], record: RecordRef, rules: FieldRules) throws -> [(String, FieldValue)] {
        var ordered = values.filter { rules.group(of: $0.key) == nil }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let touched = rules.groups.filter { $0.fields.contains { values[$0] != nil } }
        guard !touched.isEmpty else { return ordered }
        let shown = try ReplicaQuery.record(record, db).fields
        for group in touched {
            ordered += group.fields.map { ($0, values[$0] ?? shown[$0] ?? .unset) }
        }
        return ordered
    }

    /// Deletes a record, listing every version of its fields this replica has seen.
    mutating func delete(record: RecordRef) throws {
        guard record.visible else { throw ClientError("record \(record.id) is already deleted") }
        let accepted = try Replica.acceptedFields(record: record.id, db)
        let pending = try OutboxEntry.all(record: record.id, db).filter { $0.field != Change.deletedField }
        let covers = accepted.fields.filter { $0.key != Change.deletedField }.flatMap { $0.value.map(\.hlc) } + pending.map(\.hlc)
        let parents = FieldState(heads: accepted.fields[Change.deletedField] ?? []).resolutionParents
        try stage(record: record.id, collection: record.collection, field: Change.deletedField, value: .bool(true),
                  base: parents.base, supersedes: parents.supersedes, covers: covers.sorted())
        try Replica.refresh(record: record.id, schema: schema, db)
    }

    /// Restricts a record to `groups`, or (empty) gives it back to the whole team. It supersedes
    /// every access value this replica holds, so it also settles a conflict of access.
    mutating func restrict(record: RecordRef, groups: [String]) throws {
        try Schema.validateAccess(.list(groups))
        let parents = FieldState(heads: try Replica.acceptedHeads(record: record.id, field: Change.accessField, db)).resolutionParents
        try stage(record: record.id, collection: record.collection, field: Change.accessField, value: groups.isEmpty ? .unset : .list(groups),
                  base: parents.base, supersedes: parents.supersedes)
        try Replica.refresh(record: record.id, schema: schema, db)
    }

    // MARK: Conflicts

    /// Resolves a conflict of a field group with a value for each member: one change per member,
    /// stamped one after another, each superseding every version of its member.
    mutating func resolve(_ conflict: Conflict, group: FieldGroup, with values: [String: FieldValue]) throws {
        for field in group.fields {
            let value = values[field] ?? .unset
            try schema.validate(value, collection: conflict.collection, field: field)
            let parents = FieldState(heads: try Replica.acceptedHeads(record: conflict.record, field: field, db)).resolutionParents
            try stage(record: conflict.record, collection: conflict.collection, field: field, value: value,
                      base: parents.base, supersedes: parents.supersedes)
        }
        try Replica.refresh(record: conflict.record, schema: schema, db)
    }

    /// Resolves a conflict with `value`: a change that supersedes every value of the conflict.
    mutating func resolve(_ conflict: Conflict, with value: FieldValue) throws {
        if conflict.field == Change.deletedField {
            let accepted = try Replica.acceptedFields(record: conflict.record, db)
            let parents = FieldState(heads: accepted.fields[Change.deletedField] ?? []).resolutionParents
            // Deleting after all covers every current version; keeping the record restores it.
            let covers = value == .bool(true)
                ? accepted.fields.filter { $0.key != Change.deletedField }.flatMap { $0.value.map(\.hlc) }.sorted() : []
            try stage(record: conflict.record, collection: conflict.collection, field: Change.deletedField, value: value,
                      base: parents.base, supersedes: parents.supersedes, covers: covers)
        } else {
            try schema.validate(value, collection: conflict.collection, field: conflict.field)
            let parents = FieldState(heads: conflict.versions).resolutionParents
            try stage(record: conflict.record, collection: conflict.collection, field: conflict.field, value: value,
                      base: parents.base, supersedes: parents.supersedes)
        }
        try Replica.refresh(record: conflict.record, schema: schema, db)
    }

    // MARK: Helpers

    /// A new record id, made at this transaction's time.
    func newRecordID() -> String {
        var generator = SystemRandomNumberGenerator()
        return RecordID.generate(now: now, using: &generator)
    }

    /// The timestamp of the next local edit.
    mutating func tick() -> HLC { clock.tick(now: now) }

    /// A value as the outbox keeps it: a sensitive field's sealed with the project's key, anything else as it is.
    mutating func stored(_ value: FieldValue, record: String, collection: String, field: String) throws -> FieldValue {
        guard !value.isUnset, schema.collection(collection)?.field(field)?.sensitive == true else { return value }
        var keys = try ring ?? ProjectKeyRing.load(db)
        let (id, key) = try keys.sealingKey(field: field, collection: collection, user: settings.user, db)
        ring = keys
        let place = SealedValue.Place(project: settings.project, collection: collection, record: record, field: field)
        return .text(try SealedValue(sealing: value, key: key, keyID: id, place: place).text)
    }

    private mutating func stage(record: String, collection: String, field: String, value: FieldValue,
                                base: HLC?, supersedes: [HLC], covers: [HLC] = []) throws {
        let value = try stored(value, record: record, collection: collection, field: field)
        try OutboxEntry(collection: collection, record: record, field: field, value: value, hlc: tick(),
                        base: base, supersedes: supersedes, covers: covers).save(db)
    }

    /// References must name records of the right collection in this replica.
    private func checkReferences(_ values: [String: FieldValue], collection: String) throws {
        try Self.checkReferences(values, collection: collection, schema: schema) { id in
            try String.fetchOne(db, sql: "SELECT collection FROM record WHERE id = ? AND visible", arguments: [id])
        }
    }

    /// References must name records of the right collection: `collectionOf` gives the collection of a visible record.
    static func checkReferences(_ values: [String: FieldValue], collection: String, schema: Schema,
                                collectionOf: (String) throws -> String?) throws {
        for (field, value) in values {
            let ids: [String]
            switch value {
            case .reference(let id): ids = [id]
            case .references(let list): ids = list
            default: continue
            }
            guard let target = schema.collection(collection)?.field(field)?.collection else { continue }
            for id in ids {
                guard let found = try collectionOf(id) else {
                    throw ClientError("field '\(field)' refers to \(id), which is not a record in this replica: check the id with 'casebook list \(target)'")
                }
                guard found == target else {
                    throw ClientError("field '\(field)' must refer to a record in \(target), but \(id) is in \(found)")
                }
            }
        }
    }
}

/// A record found by id or prefix.
struct RecordRef: Sendable {
    var id: String
    var collection: String
    var visible: Bool

    /// Finds a record by full id or unique prefix of at least 6 characters.
    static func find(_ typed: String, _ db: Database) throws -> RecordRef {
        let prefix: String
        do {
            prefix = try IDPrefix.validate(typed, kind: "record id")
        } catch {
            throw ClientError(error.message)
        }
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, collection, visible FROM record WHERE id >= ? AND id < ? ORDER BY id LIMIT 10",
            arguments: [prefix, prefix + "g"])
        switch IDPrefix.resolve(prefix, among: rows.map { $0["id"] }) {
        case .found(let id):
            let row = rows.first { $0["id"] == id }!
            return RecordRef(id: id, collection: row["collection"], visible: row["visible"])
        case .notFound:
            throw ClientError("no record has an id starting with '\(typed)': see 'casebook list COLLECTION'")
        case .ambiguous(let ids):
            throw ClientError("'\(typed)' matches several records (\(ids.prefix(3).map { String($0.prefix(12)) }.joined(separator: ", "))...): type more characters")
        }
    }
}

extension Replica {
    /// Runs local edits (add, edit, delete, resolve, import) in one transaction: the editor stamps
    /// them with the replica's clock, which is saved with them. Nothing is written if `body` throws.
    func edit<T: Sendable>(settings: ReplicaSettings, _ body: @Sendable (inout LocalEditor) throws -> T) async throws -> T {
        try await write { db in
            var editor = try LocalEditor(settings: settings, db: db)
            let result = try body(&editor)
            try editor.finish()
            return result
        }
    }
}
