import Foundation
import GRDB
import Shared
import SQLiteSupport

/// Automatic merges on the replica: the value shown for a field whose accepted heads hold
/// different values that combine (long text), from the history the replica holds.
extension Replica {
    /// The outcome of the automatic merge of every field of a record that has one to make (heads
    /// with different values, a type with a merge hook), by field. Reads each such field's history.
    static func merges(record: String, fields: [String: [Version]], rules: FieldRules, _ db: Database) throws -> [String: FieldMerge.Outcome] {
        let candidates = rules.mergeCandidates(fields)
        guard !candidates.isEmpty, let key = try recordKey(record, db) else { return [:] }
        var outcomes: [String: FieldMerge.Outcome] = [:]
        for field in candidates {
            let graph = try fieldHistory(key: key, field: field, db)
            outcomes[field] = FieldMerge.resolve(FieldState(heads: fields[field] ?? []), hook: rules.hook(for: field), graph: graph)
        }
        return outcomes
    }

    /// The accepted versions of one field this replica holds, every one of them (a merge that needs
    /// another finds it missing: `FieldMerge.Failure.missing`).
    static func fieldHistory(key: Int64, field: String, _ db: Database) throws -> VersionGraph {
        let statement = try db.cachedStatement(sql: "SELECT hlc, value, base, supersedes FROM change WHERE record_key = ? AND field = ?")
        let nodes = try statement.fetchRaw({ row in
            row.integer(key)
            row.text(field)
        }, row: { row in
            let base = try row.optionalText(2).map { [try StorageText.decodeHLC($0)] } ?? []
            return HistoryNode(hlc: try StorageText.decodeHLC(row.text(0)), value: try StorageText.decodeValue(row.text(1)),
                               parents: base + (try StorageText.decodeHLCs(row.optionalText(3))))
        })
        return VersionGraph(nodes: nodes, complete: true)
    }

    /// The versions a local edit of `field` builds on: every head when their values combine
    /// automatically (the author saw the merge), otherwise the winner and equal heads.
    static func editParents(record: String, field: String, rules: FieldRules, _ db: Database) throws -> (base: HLC?, supersedes: [HLC]) {
        let heads = try acceptedHeads(record: record, field: field, db)
        let state = FieldState(heads: heads)
        guard state.isConflicted, rules.hook(for: field) != nil else { return state.editParents }
        if case .merged? = try merges(record: record, fields: [field: heads], rules: rules, db)[field] {
            return state.editParents(merged: true)
        }
        return state.editParents
    }

    /// The fields in conflict only because their automatic merge needs a version this replica does
    /// not hold, with their heads: what to ask the server's `/history` for. A text conflict whose
    /// versions merge now (one a version before automatic merges recorded) is refreshed away.
    func incompleteMerges(schema: Schema) async throws -> [Wire.HistoryRequest.Field] {
        let (fields, settled) = try await read { db in
            var fields: [Wire.HistoryRequest.Field] = [], settled = Set<String>()
            for view in try ReplicaQuery.conflicts(db, schema: schema) where view.type?.mergeHook != nil {
                let rules = FieldRules(schema, collection: view.conflict.collection)
                let heads = try Replica.acceptedHeads(record: view.conflict.record, field: view.conflict.field, db)
                switch try Replica.merges(record: view.conflict.record, fields: [view.conflict.field: heads], rules: rules, db)[view.conflict.field] {
                case .conflict(.missing)?:
                    fields.append(Wire.HistoryRequest.Field(record: view.conflict.record, field: view.conflict.field,
                                                            heads: FieldState(heads: heads).heads.map(\.hlc)))
                case .merged?: settled.insert(view.conflict.record)
                default: break
                }
            }
            return (fields, settled)
        }
        if !settled.isEmpty {
            try await write { db in for record in settled { try Replica.refresh(record: record, schema: schema, db) } }
        }
        return fields
    }

    /// Applies versions fetched for automatic merges (history, not the log: the cursor stays) and
    /// refreshes what their records show.
    func applyHistory(_ changes: [Wire.LoggedChange], schema: Schema, batches: [SignedBatch] = []) async throws {
        try await write { db in
            try Replica.storeBatches(batches, db)
            _ = try Replica.applyAccepted(changes, schema: schema, db, alsoRefresh: Set(changes.map(\.change.record)))
        }
    }
}
