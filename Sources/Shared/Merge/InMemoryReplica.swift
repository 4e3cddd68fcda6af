import Foundation

/// The merge rule applied to a set of changes held in memory: the reference model of a replica.
///
/// It is one never-ending `BatchMerge` over an empty store, so it merges exactly as the stores
/// do (SQLite on the server and the client, PostgreSQL), which run a `BatchMerge` per batch over
/// their indexed tables; tests compare them against this model.
package struct InMemoryReplica: Sendable {
    /// Every change received, by identity.
    package private(set) var changes: [HLC: Change] = [:]
    private var merge = BatchMerge()
    private var collections: [String: String] = [:]

    /// An empty replica.
    package init() {}

    /// Applies one change and returns what the merge rule decided.
    @discardableResult
    package mutating func apply(_ change: Change) -> MergeOutcome {
        let outcome = merge.merge(change)
        guard outcome.kind != .duplicate else { return outcome }
        changes[change.hlc] = change
        collections[change.record] = change.collection
        return outcome
    }

    /// The state of one field (empty when never written).
    package func state(record: String, field: String) -> FieldState {
        merge.state(record: record, field: field) ?? FieldState()
    }

    /// The status of a record.
    package func status(record: String) -> RecordStatus {
        let fields = merge.records[record] ?? [:]
        let heads = fields.filter { $0.key != Change.deletedField }.flatMap(\.value.after.heads)
        return DeletionRule.status(deletion: state(record: record, field: Change.deletedField), fieldHeads: heads)
    }

    /// Every open conflict, field conflicts and delete conflicts, sorted by id.
    package var conflicts: [Conflict] {
        var result: [Conflict] = []
        for (record, fields) in merge.records {
            let collection = collections[record] ?? ""
            for (field, edit) in fields where field != Change.deletedField {
                if let conflict = Conflict(collection: collection, record: record, field: field, state: edit.after) {
                    result.append(conflict)
                }
            }
            if let conflict = Conflict(collection: collection, record: record, status: status(record: record)) {
                result.append(conflict)
            }
        }
        return result.sorted { $0.id < $1.id }
    }
}
