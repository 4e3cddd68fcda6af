import Foundation
import GRDB
import Shared

/// One value of a conflict as a person reads it.
struct ConflictChoice: Sendable {
    var version: Version
    /// What picking it means: the value, or for a delete conflict "deleted" / "kept (...)".
    var value: FieldValue
    var label: String
    var isMine: Bool
}

extension ConflictView {
    /// The numbered choices, provisional winner first, as `conflicts` shows them.
    func choices(node: NodeID, _ db: Database) throws -> [ConflictChoice] {
        try conflict.versions.map { version in
            let mine = version.hlc.node == node
            guard conflict.field == Change.deletedField else {
                return ConflictChoice(version: version, value: version.value, label: version.value.displayText, isMine: mine)
            }
            if version.value == .bool(true) {
                return ConflictChoice(version: version, value: .text("deleted"), label: "deleted", isMine: mine)
            }
            let field = try ReplicaQuery.field(of: version.hlc, record: conflict.record, db) ?? "?"
            let label = field == Change.deletedField ? "kept (restored)" : "kept (edited \(field): \(version.value.displayText.prefix(60)))"
            return ConflictChoice(version: version, value: .text(label), label: label, isMine: mine)
        }
    }
}
