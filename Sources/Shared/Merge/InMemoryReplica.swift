import Foundation

/// The merge rule applied to a set of changes held in memory: the reference model of a replica.
///
/// It is one never-ending `BatchMerge` over an empty store, so it merges exactly as the stores
/// do (SQLite on the server and the client, PostgreSQL), which run a `BatchMerge` per batch over
/// their indexed tables; tests compare them against this model. With a schema it also applies the
/// schema's field rules (automatic merges, field groups), reading its own history.
package struct InMemoryReplica: Sendable {
    /// Every change received, by identity.
    package private(set) var changes: [HLC: Change] = [:]
    private var merge = BatchMerge()
    private var collections: [String: String] = [:]
    /// Every change received, by record and field: the history merges read.
    private var history: [String: [String: [Change]]] = [:]
    private let schema: Schema?

    /// An empty replica; with a schema, its field rules apply.
    package init(schema: Schema? = nil) {
        self.schema = schema
    }

    /// Applies one change and returns what the merge rule decided.
    @discardableResult
    package mutating func apply(_ change: Change) -> MergeOutcome {
        let outcome = merge.merge(change)
        guard outcome.kind != .duplicate else { return outcome }
        changes[change.hlc] = change
        collections[change.record] = change.collection
        history[change.record, default: [:]][change.field, default: []].append(change)
        return outcome
    }

    /// The state of one field (empty when never written).
    package func state(record: String, field: String) -> FieldState {
        merge.state(record: record, field: field) ?? FieldState()
    }

    /// The field rules of a record's collection.
    package func rules(record: String) -> FieldRules {
        FieldRules(schema, collection: collections[record] ?? "")
    }

    /// The automatic merge of a field's heads, nil when there is nothing to merge. Everything
    /// this replica holds is in its graph, so a version the merge needs and it lacks is missing.
    package func resolution(record: String, field: String) -> FieldMerge.Outcome? {
        FieldMerge.resolve(state(record: record, field: field), hook: rules(record: record).hook(for: field),
                           graph: VersionGraph(history[record]?[field] ?? [], complete: true))
    }

    /// The value a replica shows: the merged value when the heads combine, else the winner's.
    package func value(record: String, field: String) -> FieldValue {
        if case .merged(let value) = resolution(record: record, field: field) { return value }
        return state(record: record, field: field).value
    }

    /// The versions a local edit of the field builds on.
    package func editParents(record: String, field: String) -> (base: HLC?, supersedes: [HLC]) {
        var merged = false
        if case .merged = resolution(record: record, field: field) { merged = true }
        return state(record: record, field: field).editParents(merged: merged)
    }

    /// The status of a record.
    package func status(record: String) -> RecordStatus {
        let fields = merge.records[record] ?? [:]
        let heads = fields.filter { $0.key != Change.deletedField }.flatMap(\.value.after.heads)
        return DeletionRule.status(deletion: state(record: record, field: Change.deletedField), fieldHeads: heads)
    }

    /// Every open conflict, field (and group) conflicts and delete conflicts, sorted by id.
    package var conflicts: [Conflict] {
        var result: [Conflict] = []
        for (record, fields) in merge.records {
            let heads = fields.mapValues(\.after.heads)
            let rules = rules(record: record)
            var merged = Set<String>()
            for field in rules.mergeCandidates(heads) {
                if case .merged = resolution(record: record, field: field) { merged.insert(field) }
            }
            let open = Conflict.open(record: record, collection: collections[record] ?? "", fields: heads, rules: rules, merged: merged)
            result += open.values
        }
        return result.sorted { $0.id < $1.id }
    }
}
