import Foundation
import GRDB
import Shared

/// What `show` and `list` print for a record.
struct RecordView: Sendable {
    var id: String
    var collection: String
    var fields: [String: FieldValue]
    var pending: Bool
    var visible: Bool
    var conflictFields: [String]
    /// Reference fields naming records this replica does not show (deleted elsewhere, say).
    var danglingFields: [String] = []
}

/// One line of a record's history.
struct LogEntry: Sendable {
    var field: String
    var value: FieldValue
    var author: String
    var at: UInt64
    var pending: Bool
    var receivedAt: UInt64?
    /// The change settled a conflict (it superseded competing values).
    var resolution = false
}

/// An open conflict as a person sees it.
struct ConflictView: Sendable {
    var conflict: Conflict
    var title: String?
    var current: FieldValue
    /// The field group in conflict, when the conflict is a group's (its `field` is the group's name).
    var group: FieldGroup?
    /// The field's type, when the schema names it.
    var type: FieldType?
}

/// A pending change the server refused.
struct RejectedView: Sendable {
    var record: String
    var field: String
    var code: String
    var reason: String
}

enum ReplicaQuery {
    static func record(_ ref: RecordRef, _ db: Database) throws -> RecordView {
        var fields: [String: FieldValue] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT current.field, current.value FROM record JOIN current ON current.record_key = record.key WHERE record.id = ?
            """, arguments: [ref.id]) {
            fields[row["field"]] = try StorageText.decodeValue(row["value"])
        }
        // Edits published in a bundle are pending too until the server has them (they wait in the relay queue).
        let pending = try Bool.fetchOne(db, sql: """
            SELECT pending OR EXISTS (SELECT 1 FROM relay WHERE relay.record = record.id AND substr(relay.hlc, 19) = ?) FROM record WHERE id = ?
            """, arguments: [try Setting.get(.node, db) ?? "", ref.id]) ?? false
        let conflicts = try String.fetchAll(db, sql: "SELECT field FROM conflict WHERE record = ? ORDER BY field", arguments: [ref.id])
        var view = RecordView(id: ref.id, collection: ref.collection, fields: fields, pending: pending, visible: ref.visible, conflictFields: conflicts)
        view.danglingFields = try danglingFields(fields, db)
        return view
    }

    /// The reference fields whose targets are missing or deleted here.
    static func danglingFields(_ fields: [String: FieldValue], _ db: Database) throws -> [String] {
        let visible = try db.cachedStatement(sql: "SELECT 1 FROM record WHERE id = ? AND visible")
        var dangling: [String] = []
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
            let ids: [String]
            switch value {
            case .reference(let id): ids = [id]
            case .references(let list): ids = list
            default: continue
            }
            for id in ids where try Bool.fetchOne(visible, arguments: [id]) != true {
                dangling.append(field)
                break
            }
        }
        return dangling
    }

    /// Visible records of a collection matching every (field, key) filter, oldest first.
    static func list(collection: String, filters: [(field: String, key: String)], _ db: Database) throws -> [RecordView] {
        // One pass: the matching records with all their values, instead of a query per record.
        // With filters, the first one drives the query through the search index (not a scan).
        var sql: String
        var arguments: StatementArguments
        if let first = filters.first {
            sql = """
                SELECT record.id, record.pending, current.field, current.value
                FROM search_key JOIN record ON record.key = search_key.record_key
                LEFT JOIN current ON current.record_key = record.key
                WHERE search_key.collection = ? AND search_key.field = ? AND search_key.key = ?
                    AND record.collection = ? AND record.visible
                """
            arguments = [collection, first.field, first.key, collection]
        } else {
            sql = """
                SELECT record.id, record.pending, current.field, current.value
                FROM record LEFT JOIN current ON current.record_key = record.key
                WHERE record.collection = ? AND record.visible
                """
            arguments = [collection]
        }
        for filter in filters.dropFirst() {
            sql += " AND record.key IN (SELECT record_key FROM search_key WHERE collection = ? AND field = ? AND key = ?)"
            _ = arguments.append(contentsOf: [collection, filter.field, filter.key])
        }
        var views: [String: RecordView] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let id: String = row[0]
            if views[id] == nil {
                views[id] = RecordView(id: id, collection: collection, fields: [:], pending: row[1], visible: true, conflictFields: [])
            }
            if let field: String = row[2], let value: String = row[3] {
                views[id]?.fields[field] = try StorageText.decodeValue(value)
            }
        }
        return views.values.sorted { RecordID.timeOrderKey($0.id) < RecordID.timeOrderKey($1.id) }
    }

    /// The history of a record: every version this replica knows, and its pending edits, oldest first.
    static func log(_ ref: RecordRef, _ db: Database) throws -> [LogEntry] {
        var entries: [(HLC, LogEntry)] = []
        let history = """
            SELECT change.hlc, change.field, change.value, change.author, change.received_at, change.supersedes
            FROM record JOIN change ON change.record_key = record.key WHERE record.id = ? ORDER BY change.hlc
            """
        for row in try Row.fetchAll(db, sql: history, arguments: [ref.id]) {
            let hlc = try StorageText.decodeHLC(row["hlc"])
            entries.append((hlc, LogEntry(field: row["field"], value: try StorageText.decodeValue(row["value"]), author: row["author"],
                                          at: hlc.millis, pending: false, receivedAt: row["received_at"],
                                          resolution: (row["supersedes"] as String?) != nil)))
        }
        let user = try Setting.get(.user, db) ?? "me"
        for entry in try OutboxEntry.all(record: ref.id, db) {
            entries.append((entry.hlc, LogEntry(field: entry.field, value: entry.value, author: user, at: entry.hlc.millis, pending: true,
                                                receivedAt: nil, resolution: !entry.supersedes.isEmpty)))
        }
        return entries.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Every open conflict; with the schema, each knows its field's type or group.
    static func conflicts(_ db: Database, schema: Schema? = nil) throws -> [ConflictView] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT conflict.*, record.title FROM conflict LEFT JOIN record ON record.id = conflict.record
            ORDER BY conflict.collection, record.title, conflict.field
            """)
        return try rows.map { row in
            let versions = try JSONDecoder().decode([Version].self, from: Data((row["versions"] as String).utf8))
            let conflict = Conflict(collection: row["collection"], record: row["record"], field: row["field"], versions: versions)
            let current: FieldValue
            if conflict.field == Change.deletedField {
                current = .text("kept")
            } else {
                current = try String.fetchOne(db, sql: """
                    SELECT current.value FROM record JOIN current ON current.record_key = record.key
                    WHERE record.id = ? AND current.field = ?
                    """, arguments: [conflict.record, conflict.field])
                    .map(StorageText.decodeValue) ?? .unset
            }
            let collection = schema?.collection(conflict.collection)
            return ConflictView(conflict: conflict, title: row["title"], current: current,
                                group: collection?.groups.first { $0.name == conflict.field }, type: collection?.field(conflict.field)?.type)
        }
    }

    /// Finds an open conflict by full id or unique prefix.
    static func conflict(_ typed: String, _ db: Database, schema: Schema? = nil) throws -> ConflictView {
        let prefix: String
        do {
            prefix = try IDPrefix.validate(typed, kind: "conflict id")
        } catch {
            throw ClientError(error.message)
        }
        let all = try conflicts(db, schema: schema)
        switch IDPrefix.resolve(prefix, among: all.map(\.conflict.id)) {
        case .found(let id): return all.first { $0.conflict.id == id }!
        case .notFound:
            throw ClientError("no open conflict has an id starting with '\(typed)': it may be resolved already, or changed by a sync; see 'casebook conflicts'")
        case .ambiguous: throw ClientError("'\(typed)' matches several conflicts: type more characters")
        }
    }

    /// The field a stored change of a record wrote, nil when the replica does not hold it.
    static func field(of hlc: HLC, record: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: """
            SELECT change.field FROM record JOIN change ON change.record_key = record.key WHERE record.id = ? AND change.hlc = ?
            """, arguments: [record, hlc.text])
    }

    /// The value a stored change of a record's field wrote, nil when the replica does not hold it.
    static func value(of hlc: HLC, record: String, field: String, _ db: Database) throws -> FieldValue? {
        try String.fetchOne(db, sql: """
            SELECT change.value FROM record JOIN change ON change.record_key = record.key
            WHERE record.id = ? AND change.hlc = ? AND change.field = ?
            """, arguments: [record, hlc.text, field]).map(StorageText.decodeValue)
    }

    static func pendingCount(_ db: Database) throws -> Int {
        // Edits published in a bundle wait in the relay queue until the server has them.
        try (Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0) + Replica.ownRelayCount(db)
    }

    static func conflictCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conflict") ?? 0
    }

    static func rejected(_ db: Database) throws -> [RejectedView] {
        try Row.fetchAll(db, sql: """
            SELECT record.id AS record, outbox.field, outbox.rejected_code, outbox.rejected_reason
            FROM outbox JOIN record ON record.key = outbox.record_key WHERE outbox.rejected_code IS NOT NULL ORDER BY outbox.hlc
            """).map {
            RejectedView(record: $0["record"], field: $0["field"], code: $0["rejected_code"], reason: $0["rejected_reason"] ?? "")
        }
    }
}
