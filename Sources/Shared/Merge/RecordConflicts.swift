import Foundation

extension Conflict {
    /// The open conflicts of one record, by field (`_deleted` for a delete conflict), from the
    /// heads of each of its fields. Server and replicas derive them the same way, so conflict
    /// ids agree everywhere.
    package static func open(record: String, collection: String, fields: [String: [Version]]) -> [String: Conflict] {
        var result: [String: Conflict] = [:]
        var fieldHeads: [Version] = []
        var deletion = FieldState()
        for (field, versions) in fields {
            if field == Change.deletedField {
                deletion = FieldState(heads: versions)
                continue
            }
            fieldHeads += versions
            if versions.count > 1, let conflict = Conflict(collection: collection, record: record, field: field, state: FieldState(heads: versions)) {
                result[field] = conflict
            }
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
