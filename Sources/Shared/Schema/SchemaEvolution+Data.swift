import Foundation

/// One stored record as a new schema version is checked against it: its collection and the
/// current values (every head: a field in conflict has several) of the fields the check reads.
package struct SchemaRecord: Sendable {
    package var collection: String
    package var values: [String: [FieldValue]]

    /// A record of `collection` with `values`.
    package init(collection: String, values: [String: [FieldValue]]) {
        self.collection = collection
        self.values = values
    }

    /// Whether the record is deleted (its `_deleted` head says so).
    var isDeleted: Bool { values[Change.deletedField]?.contains(.bool(true)) == true }

    /// Whether some current value of `field` is set.
    func hasValue(_ field: String) -> Bool { values[field]?.contains { $0 != .unset } == true }

    /// Whether some current value of `field` uses `term`.
    func uses(_ term: String, in field: String) -> Bool {
        values[field]?.contains { value in
            switch value {
            case .text(let s): s == term
            case .list(let items): items.contains(term)
            default: false
            }
        } == true
    }
}

extension SchemaEvolution {
    /// The collections and fields the steps' record counts read (always with `_deleted`), by the
    /// project's current schema `old`.
    package func fieldsToRead(old: Schema) -> [String: Set<String>] {
        var read: [String: Set<String>] = [:]
        func add(_ collection: String, _ field: String?) {
            read[collection, default: [Change.deletedField]].formUnion(field.map { [$0] } ?? [])
        }
        for step in steps {
            switch step {
            case .madeRequired(let c, let f), .deprecatedField(let c, let f): add(c, f)
            case .changedTitleField(let c, _): add(c, nil)
            case .removedTerm(let v, _), .deprecatedTerm(let v, _), .relabelledTerm(let v, _, _):
                for (collection, field) in Self.fields(using: v, in: old) { add(collection, field) }
            default: break
            }
        }
        return read
    }

    /// How many live records each step touches, for the steps where that means something
    /// (`--dry-run`): the records a retired or removed term is in, a retired field has a value in,
    /// a required field is missing from, a new title field names.
    package func touched(old: Schema, records: [SchemaRecord]) -> [(step: Step, records: Int?)] {
        let live = records.filter { !$0.isDeleted }
        func count(_ body: (SchemaRecord) -> Bool) -> Int { live.reduce(0) { $0 + (body($1) ? 1 : 0) } }
        return steps.map { step in
            switch step {
            case .madeRequired(let c, let f): (step, count { $0.collection == c && !$0.hasValue(f) })
            case .deprecatedField(let c, let f): (step, count { $0.collection == c && $0.hasValue(f) })
            case .changedTitleField(let c, _): (step, count { $0.collection == c })
            case .removedTerm(let v, let t), .deprecatedTerm(let v, let t), .relabelledTerm(let v, let t, _):
                (step, count { record in Self.fields(using: v, in: old).contains { $0.collection == record.collection && record.uses(t, in: $0.field) } })
            default: (step, nil)
            }
        }
    }

    /// The steps the data refuses, each a sentence with the number of records and what to do.
    package func refusals(old: Schema, records: [SchemaRecord]) -> [String] {
        // A sealed value's term cannot be read here: a term a sensitive field may hold is never removed.
        let sealed = steps.compactMap { step -> String? in
            guard case .removedTerm(let v, let t) = step,
                  Self.fields(using: v, in: old).contains(where: { old.collection($0.collection)?.field($0.field)?.sensitive == true }) else { return nil }
            return "term \(v).\(t) cannot be removed: a sensitive field takes it and sealed values cannot be counted; keep it with \"deprecated\": true instead"
        }
        return sealed + touched(old: old, records: records).compactMap { step, count in
            guard let count, count > 0 else { return nil }
            switch step {
            case .madeRequired(let c, let f):
                return "field \(c).\(f) cannot become required: \(count) record(s) of \(c) have no value for it; fill them in first, or leave it optional"
            case .removedTerm(let v, let t):
                return "term \(v).\(t) cannot be removed: \(count) record(s) use it; keep it with \"deprecated\": true instead"
            default:
                return nil
            }
        }
    }

    /// Every field of `schema` whose values are terms of `vocabulary`.
    static func fields(using vocabulary: String, in schema: Schema) -> [(collection: String, field: String)] {
        schema.collections.flatMap { collection in
            collection.fields.filter { $0.vocabulary == vocabulary && ($0.type == .enum || $0.type == .enumList) }.map { (collection.name, $0.name) }
        }
    }
}
