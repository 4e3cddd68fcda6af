import Foundation

/// The merge rule applied to a set of changes held in memory: the reference model of a replica.
///
/// The stores (SQLite on the server and the client, PostgreSQL) do the same thing with
/// indexed tables; tests compare them against this model.
package struct InMemoryReplica: Sendable {
    private struct FieldKey: Hashable { var record: String; var field: String }

    /// Every change received, by identity.
    package private(set) var changes: [HLC: Change] = [:]
    /// Parents are tracked per field: a change can only supersede versions of its own field.
    private var parentsOfKnown: Set<ParentKey> = []
    private struct ParentKey: Hashable { var record: String; var field: String; var parent: HLC }
    private var fields: [FieldKey: FieldState] = [:]
    private var collections: [String: String] = [:]

    /// An empty replica.
    package init() {}

    /// Applies one change and returns what the merge rule decided.
    @discardableResult
    package mutating func apply(_ change: Change) -> MergeOutcome {
        let key = FieldKey(record: change.record, field: change.field)
        let state = fields[key] ?? FieldState()
        let knowledge = MergeRule.Knowledge(
            isKnown: changes[change.hlc] != nil,
            isParentOfKnownChange: parentsOfKnown.contains(ParentKey(record: change.record, field: change.field, parent: change.hlc)))
        let outcome = MergeRule.merge(state, change, knowledge: knowledge)
        guard outcome.kind != .duplicate else { return outcome }
        changes[change.hlc] = change
        parentsOfKnown.formUnion(change.parents.map { ParentKey(record: change.record, field: change.field, parent: $0) })
        fields[key] = outcome.state
        collections[change.record] = change.collection
        return outcome
    }

    /// The state of one field (empty when never written).
    package func state(record: String, field: String) -> FieldState {
        fields[FieldKey(record: record, field: field)] ?? FieldState()
    }

    /// The status of a record.
    package func status(record: String) -> RecordStatus {
        let heads = fields.filter { $0.key.record == record && $0.key.field != Change.deletedField }.flatMap(\.value.heads)
        return DeletionRule.status(deletion: state(record: record, field: Change.deletedField), fieldHeads: heads)
    }

    /// Every open conflict, field conflicts and delete conflicts, sorted by id.
    package var conflicts: [Conflict] {
        var result: [Conflict] = []
        for (key, state) in fields where key.field != Change.deletedField {
            if let conflict = Conflict(collection: collections[key.record] ?? "", record: key.record, field: key.field, state: state) {
                result.append(conflict)
            }
        }
        for record in Set(fields.keys.map(\.record)) {
            if let conflict = Conflict(collection: collections[record] ?? "", record: record, status: status(record: record)) {
                result.append(conflict)
            }
        }
        return result.sorted { $0.id < $1.id }
    }
}
