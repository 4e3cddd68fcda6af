import Foundation
import GRDB
import Shared

/// One version of a field beside the value it replaced: what `casebook diff` shows.
struct FieldDiff: Sendable {
    var field: String
    var hlc: HLC
    var author: String
    var pending: Bool
    /// The change settled a conflict or an automatic merge (it built on several versions).
    var resolution: Bool
    /// The value its author started from: their base, or the merge of the versions they built on;
    /// nil when this replica does not hold it.
    var before: FieldValue?
    var after: FieldValue

    /// The versions of a record's fields (one field, or all but `_deleted`), oldest first, pending edits last.
    static func all(of ref: RecordRef, field: String?, schema: Schema, user: String, _ db: Database) throws -> [FieldDiff] {
        let rules = FieldRules(schema, collection: ref.collection)
        guard let key = try Replica.recordKey(ref.id, db) else { return [] }
        let fields = try field.map { [$0] } ?? String.fetchAll(db, sql: """
            SELECT DISTINCT field FROM change WHERE record_key = ? AND field != ?
            UNION SELECT field FROM outbox WHERE record_key = ? AND field != ?
            """, arguments: [key, Change.deletedField, key, Change.deletedField])
        var diffs: [FieldDiff] = []
        for name in fields {
            let graph = try Replica.fieldHistory(key: key, field: name, db)
            let rows = try Row.fetchAll(db, sql: "SELECT hlc, author FROM change WHERE record_key = ? AND field = ?", arguments: [key, name])
            let authors = Dictionary(rows.compactMap { row in HLC(text: row["hlc"]).map { ($0, row["author"] as String) } },
                                     uniquingKeysWith: { first, _ in first })
            for node in graph.nodes.values {
                diffs.append(FieldDiff(field: name, hlc: node.hlc, author: authors[node.hlc] ?? "", pending: false, resolution: node.parents.count > 1,
                                       before: before(node.parents, graph: graph, hook: rules.hook(for: name)), after: node.value))
            }
            for entry in try OutboxEntry.all(record: ref.id, db) where entry.field == name {
                diffs.append(FieldDiff(field: name, hlc: entry.hlc, author: user, pending: true, resolution: entry.parents.count > 1,
                                       before: before(entry.parents, graph: graph, hook: rules.hook(for: name)), after: entry.value))
            }
        }
        return diffs.sorted { ($0.pending ? 1 : 0, $0.hlc) < ($1.pending ? 1 : 0, $1.hlc) }
    }

    /// The value a change with `parents` started from: none (a first write), the one version, the
    /// automatic merge of several, or (when they conflicted) the first: its base.
    private static func before(_ parents: [HLC], graph: VersionGraph, hook: MergeHook?) -> FieldValue? {
        guard let base = parents.first else { return .unset }
        if parents.count > 1, let hook {
            var merge = FieldMerge(hook: hook)
            if case .merged(let value) = merge.merge(parents, graph: graph) { return value }
        }
        return graph.nodes[base]?.value
    }
}
