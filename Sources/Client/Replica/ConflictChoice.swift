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
    /// For a conflict of a field group: every member's value in this edit (a member whose value
    /// this replica does not hold is left out).
    var fields: [String: FieldValue]?
}

extension ConflictView {
    /// The numbered choices, provisional winner first, as `conflicts` shows them.
    func choices(node: NodeID, _ db: Database) throws -> [ConflictChoice] {
        if let group { return try groupChoices(group, node: node, db) }
        return try conflict.versions.map { version in
            let mine = version.hlc.node == node
            guard conflict.field == Change.deletedField else {
                return ConflictChoice(version: version, value: version.value, label: label(version.value), isMine: mine)
            }
            if version.value == .bool(true) {
                return ConflictChoice(version: version, value: .text("deleted"), label: "deleted", isMine: mine)
            }
            let field = try ReplicaQuery.field(of: version.hlc, record: conflict.record, db) ?? "?"
            let label = field == Change.deletedField ? "kept (restored)" : "kept (edited \(field): \(version.value.displayText.prefix(60)))"
            return ConflictChoice(version: version, value: .text(label), label: label, isMine: mine)
        }
    }

    /// A value as a choice's label: long text by its first line and size (`conflicts` shows how the versions differ).
    private func label(_ value: FieldValue) -> String {
        guard type == .longText, case .text(let text) = value else { return value.displayText }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.first.map { $0.count > 60 ? $0.prefix(60) + "…" : $0 } ?? ""
        return "\(first) (\(lines.count) line\(lines.count == 1 ? "" : "s"), \(text.count) characters)"
    }

    /// The choices of a group's conflict: one per edit among its versions, newest first, each with
    /// every member's value in that edit (an edit stamps its members one after another).
    private func groupChoices(_ group: FieldGroup, node: NodeID, _ db: Database) throws -> [ConflictChoice] {
        let accepted = try Replica.acceptedFields(record: conflict.record, db).fields
        var edits: [HLC: Version] = [:]
        for version in conflict.versions {
            guard let member = group.fields.firstIndex(where: { accepted[$0]?.contains { $0.hlc == version.hlc } == true }),
                  let lead = group.lead(of: version.hlc, member: member) else { continue }
            if edits[lead] == nil || member == 0 { edits[lead] = version }
        }
        return try edits.keys.sorted(by: >).map { lead in
            var values: [String: FieldValue] = [:]
            for (index, field) in group.fields.enumerated() {
                let stamp = group.stamp(ofMember: index, lead: lead)
                values[field] = try accepted[field]?.first { $0.hlc == stamp }?.value ?? ReplicaQuery.value(of: stamp, record: conflict.record, field: field, db)
            }
            let label = group.fields.map { "\($0)=\(values[$0].map { $0.isUnset ? "(unset)" : $0.displayText } ?? "?")" }.joined(separator: ", ")
            let version = edits[lead]!
            return ConflictChoice(version: version, value: .text(label), label: label, isMine: version.hlc.node == node, fields: values)
        }
    }
}
