import Foundation

/// Whether a record is alive, deleted, or in a delete-versus-edit conflict.
package enum RecordStatus: Equatable, Sendable {
    case alive
    case deleted
    /// Someone deleted the record while someone else edited it (or restored it) without seeing the delete.
    /// Until a person resolves it the record stays visible, so nothing is hidden.
    case deleteConflict(deletions: [Version], concurrentEdits: [Version])

    /// Whether the record is shown (alive, or provisionally alive in a conflict).
    package var isVisible: Bool { self != .deleted }
}

/// Decides a record's status from the heads of its `_deleted` field and of its other fields.
///
/// A delete is a change of the reserved field `_deleted` that lists, in `covers`, every
/// version of the record's fields its author saw. A field head that no current delete covers
/// was written without seeing the delete: that is a conflict, never a silent delete-wins.
/// The status is a function of the heads only, so every replica derives the same one.
package enum DeletionRule {
    /// The status of a record.
    package static func status(deletion: FieldState, fieldHeads: [Version]) -> RecordStatus {
        let deletions = deletion.heads.filter { $0.value == .bool(true) }
        if deletions.isEmpty { return .alive }
        let covered = Set(deletions.flatMap(\.covers))
        let restores = deletion.heads.filter { $0.value != .bool(true) }
        let uncovered = fieldHeads.filter { !covered.contains($0.hlc) }
        if uncovered.isEmpty && restores.isEmpty { return .deleted }
        return .deleteConflict(deletions: deletions, concurrentEdits: (restores + uncovered).sorted { $0.hlc > $1.hlc })
    }
}
