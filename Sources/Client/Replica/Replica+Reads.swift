import Foundation
import GRDB
import Shared

/// What the commands read, each one read transaction. References in filters may be typed as id prefixes.
extension Replica {
    /// A record by full id or unique prefix, as `show` prints it.
    func record(_ typed: String) async throws -> RecordView {
        try await read { db in try SealedReader.load(db).open(try ReplicaQuery.record(try RecordRef.find(typed, db), db)) }
    }

    /// A record's history (by full id or unique prefix), oldest first, pending edits last.
    func log(_ typed: String) async throws -> [LogEntry] {
        try await read { db in
            let ref = try RecordRef.find(typed, db)
            return try SealedReader.load(db).open(try ReplicaQuery.log(ref, db), of: ref)
        }
    }

    /// The versions of a record's fields (one field, or all) beside the values they replaced, oldest first.
    func diffs(_ typed: String, field: String?, schema: Schema, user: String) async throws -> [FieldDiff] {
        try await read { db in
            let ref = try RecordRef.find(typed, db)
            if let field { _ = try schema.requireField(field, in: try schema.requireCollection(ref.collection)) }
            let reader = try SealedReader.load(db, schema: schema)
            return try FieldDiff.all(of: ref, field: field, schema: schema, user: user, db).map { diff in
                var opened = diff
                opened.after = reader.open(diff.after, collection: ref.collection, record: ref.id, field: diff.field)
                opened.before = diff.before.map { reader.open($0, collection: ref.collection, record: ref.id, field: diff.field) }
                return opened
            }
        }
    }

    /// The visible records of a collection matching every `FIELD=VALUE` filter, as `list` and `export` show them.
    func records(in collection: String, where filters: [String] = [], schema: Schema) async throws -> [RecordView] {
        try await read { db in
            let collectionSchema = try schema.requireCollection(collection)
            let terms = schema.withTermAliases(from: .upr)
            var keys: [(field: String, key: String)] = []
            // A sensitive field is stored sealed: its filter is checked on the opened values instead.
            var sealedKeys: [(field: String, keys: Set<String>)] = []
            let reader = try SealedReader.load(db, schema: schema)
            for filter in filters {
                let (field, typed) = Assignments.split(filter)
                // A vocabulary field matches any alias of a term, whatever the case and diacritics:
                // `response=Accepted`, `recommending_state=türkiye`.
                var text = typed
                if let fieldSchema = collectionSchema.field(field), let name = fieldSchema.vocabulary, let vocabulary = terms.vocabulary(name),
                   let term = TermMatcher(vocabulary).term(typed) {
                    text = fieldSchema.type == .list ? term.label : term.id
                }
                let value = try Assignments.value(text, field: field, collection: collectionSchema, schema: schema, db)
                if reader.isSensitive(collection, field) {
                    sealedKeys.append((field, Set(Replica.searchKeys(value))))
                } else {
                    keys += Replica.searchKeys(value).map { (field, $0) }
                }
            }
            return try ReplicaQuery.list(collection: collection, filters: keys, db).map(reader.open).filter { view in
                sealedKeys.allSatisfy { filter in
                    guard let value = view.fields[filter.field], !value.isSealed else { return false }
                    return filter.keys.isSubset(of: Replica.searchKeys(value))
                }
            }
        }
    }

    /// Every open conflict with its numbered choices, and for long text where the versions differ;
    /// `node` tells which values were written here.
    func conflicts(node: NodeID, schema: Schema? = nil) async throws -> [(view: ConflictView, choices: [ConflictChoice], text: TextConflict?)] {
        try await read { db in
            let reader = try SealedReader.load(db, schema: schema)
            return try ReplicaQuery.conflicts(db, schema: schema).map { view in
                let (opened, choices) = reader.open(view, try view.choices(node: node, db))
                return (opened, choices, view.type == .longText ? try TextConflict.of(view, db, reader: reader) : nil)
            }
        }
    }

    /// One open conflict (by full id or unique prefix) with its numbered choices and, for text, its base.
    func choices(for typed: String, node: NodeID, schema: Schema? = nil) async throws
        -> (view: ConflictView, choices: [ConflictChoice], text: TextConflict?) {
        try await read { db in
            let view = try ReplicaQuery.conflict(typed, db, schema: schema)
            let reader = try SealedReader.load(db, schema: schema)
            let (opened, choices) = reader.open(view, try view.choices(node: node, db))
            return (opened, choices, try TextConflict.of(view, db, reader: reader))
        }
    }

    /// What `status` shows.
    struct Status: Sendable {
        var pending: Int
        var conflicts: Int
        var rejected: [RejectedView]
        var lastSync: UInt64?
    }

    /// Pending and rejected changes, open conflicts, and when the last sync completed.
    func status() async throws -> Status {
        try await read { db in
            Status(pending: try ReplicaQuery.pendingCount(db), conflicts: try ReplicaQuery.conflictCount(db),
                   rejected: try ReplicaQuery.rejected(db), lastSync: try SyncState.load(db).lastSync)
        }
    }

    /// The UPR report over the collections `roles` names, optionally for one review (id or prefix).
    func report(roles: ReportRoles, review: String?) async throws -> UPRReport {
        try await read { db in
            try UPRReport.build(roles: roles, reviewFilter: try review.map { try RecordRef.find($0, db).id }, db)
        }
    }

    /// The recommendations that repeat an earlier cycle's, chain by chain (`report --cycles`).
    func recurrences(roles: ReportRoles) async throws -> [UPRReport.Recurrence] {
        try await read { db in try UPRReport.recurrences(roles: roles, db) }
    }
}
