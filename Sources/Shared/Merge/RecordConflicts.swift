import Foundation

extension Conflict {
    /// The open conflicts of one record, by field (`_deleted` for a delete conflict, a group's name
    /// for a conflict of a field group), from the heads of each of its fields. Server and replicas
    /// derive them the same way, so conflict ids agree everywhere.
    ///
    /// `merged`: the fields whose different values combine automatically (`FieldMerge`), which are
    /// not in conflict. A group is in conflict when any member's heads hold different values; its
    /// conflict lists the heads of every member, so its id changes whenever any of them does.
    package static func open(record: String, collection: String, fields: [String: [Version]],
                             rules: FieldRules = .none, merged: Set<String> = []) -> [String: Conflict] {
        var result: [String: Conflict] = [:]
        var fieldHeads: [Version] = []
        var deletion = FieldState()
        var conflictedGroups = Set<String>()
        for (field, versions) in fields {
            if field == Change.deletedField {
                deletion = FieldState(heads: versions)
                continue
            }
            fieldHeads += versions
            guard versions.count > 1, !merged.contains(field) else { continue }
            let state = FieldState(heads: versions)
            if let group = rules.group(of: field) {
                if state.isConflicted { conflictedGroups.insert(group.name) }
            } else if let conflict = Conflict(collection: collection, record: record, field: field, state: state) {
                result[field] = conflict
            }
        }
        for group in rules.groups where conflictedGroups.contains(group.name) {
            let versions = group.fields.flatMap { fields[$0] ?? [] }
            result[group.name] = Conflict(collection: collection, record: record, field: group.name, versions: versions)
        }
        if let conflict = Conflict(collection: collection, record: record, status: DeletionRule.status(deletion: deletion, fieldHeads: fieldHeads)) {
            result[Change.deletedField] = conflict
        }
        return result
    }
}

extension DeletionRule {
    /// The status of a record from the heads of each of its fields (`_deleted` included).
    package static func status(fields: [String: [Version]]) -> RecordStatus {
        let deletion = FieldState(heads: fields[Change.deletedField] ?? [])
        guard !deletion.heads.isEmpty else { return .alive }
        let heads = fields.filter { $0.key != Change.deletedField }.flatMap(\.value)
        return status(deletion: deletion, fieldHeads: heads)
    }
}

extension FieldRules {
    /// The fields of a record whose heads hold different values and whose type merges them
    /// automatically: the ones a caller must run `FieldMerge` on.
    package func mergeCandidates(_ fields: [String: [Version]]) -> [String] {
        guard hasHooks else { return [] }
        return fields.compactMap { field, versions in
            versions.count > 1 && hook(for: field) != nil && FieldState(heads: versions).isConflicted ? field : nil
        }.sorted()
    }
}
