import Foundation

/// A batch of changes merged field by field with the merge rule: the one bookkeeping of "which
/// versions does a change build on" that the server's push planner, the client replica and the
/// reference model all use, so that no two of them can merge the same batch differently.
///
/// The caller's store answers two questions per change, and only when the batch itself cannot:
/// whether a stored change of the same field lists it as a parent (`storedChild`), and what the
/// field's stored heads are (`storedHeads`, asked once per field per batch). Changes the store
/// already holds are the caller's to skip (or, on the server, to compare): they are never merged.
///
/// Invariant: within the batch, parents count only within their own record and field (a change
/// can never supersede another field's version), exactly as in the stores.
package struct BatchMerge: Sendable {
    /// One field's versions before the batch and after the changes merged so far.
    package struct FieldEdit: Sendable, Equatable {
        /// The field's state as the store had it.
        package var before: FieldState
        /// The field's state after this batch's changes.
        package var after: FieldState
    }

    /// Every field the batch touched: record, then field.
    package private(set) var records: [String: [String: FieldEdit]] = [:]
    /// The changes merged so far (duplicates and superseded ones included: they are stored as history).
    private var merged: Set<HLC> = []
    /// The versions the merged changes build on.
    private var parents: Set<FieldParent> = []

    /// An empty batch.
    package init() {}

    /// Whether a change with this HLC was merged in this batch.
    package func contains(_ hlc: HLC) -> Bool { merged.contains(hlc) }

    /// Whether a change of this batch lists `hlc` as a parent within the same record and field.
    package func isParent(_ hlc: HLC, record: String, field: String) -> Bool {
        !parents.isEmpty && parents.contains(FieldParent(record: record, field: field, parent: hlc))
    }

    /// The state of a field after the batch so far; nil when the batch has not touched it.
    package func state(record: String, field: String) -> FieldState? {
        records[record]?[field]?.after
    }

    /// Merges `change` into a batch over an empty store (the reference model).
    @discardableResult
    package mutating func merge(_ change: Change) -> MergeOutcome {
        merge(change, storedChild: { false }, storedHeads: { [] })
    }

    /// Merges `change`. `storedChild`: whether a stored change of the same record and field lists
    /// it as a parent (asked only when no change of the batch does); `storedHeads`: the field's heads
    /// in the store (asked the first time the batch touches the field). A change already merged in
    /// this batch is a duplicate and changes nothing.
    @discardableResult
    package mutating func merge(_ change: Change, storedChild: () throws -> Bool,
                                storedHeads: () throws -> [Version]) rethrows -> MergeOutcome {
        if merged.contains(change.hlc) {
            return MergeOutcome(kind: .duplicate, state: state(record: change.record, field: change.field) ?? FieldState(),
                                resolvedConflict: false)
        }
        let edit: FieldEdit
        if let started = records[change.record]?[change.field] {
            edit = started
        } else {
            let heads = FieldState(heads: try storedHeads())
            edit = FieldEdit(before: heads, after: heads)
        }
        let isParent = try isParent(change.hlc, record: change.record, field: change.field) || storedChild()
        let outcome = MergeRule.merge(edit.after, change, knowledge: .init(isParentOfKnownChange: isParent))
        guard outcome.kind != .duplicate else { return outcome }
        merged.insert(change.hlc)
        for parent in change.parents {
            parents.insert(FieldParent(record: change.record, field: change.field, parent: parent))
        }
        records[change.record, default: [:]][change.field] = FieldEdit(before: edit.before, after: outcome.state)
        return outcome
    }
}
