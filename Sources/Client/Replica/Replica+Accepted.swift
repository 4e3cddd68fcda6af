import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The record registry (ids and their local keys) and the accepted versions of fields.
extension Replica {
    /// The local key of a record, registering it (with its collection) if it has none yet;
    /// `registered`: it had one before.
    static func register(_ id: String, collection: String, _ db: Database) throws -> (key: Int64, registered: Bool) {
        // Not `RETURNING key`: SQLite buffers a RETURNING statement's rows in a temporary table it opens
        // and frees on every run (with `refresh`'s, 6-12% of an initial pull: performance.md).
        let insert = try db.cachedStatement(sql: """
            INSERT INTO record (id, collection, visible, pending, title) VALUES (?, ?, 0, 0, NULL)
            ON CONFLICT (id) DO NOTHING
            """)
        try insert.executeRaw { row in
            row.text(id)
            row.text(collection)
        }
        if db.changesCount == 1 { return (db.lastInsertedRowID, false) }
        guard let key = try recordKey(id, db) else { throw ClientError("record \(id) could not be registered in the replica") }
        return (key, true)
    }

    /// The local key of a record, nil if this replica has never seen it.
    static func recordKey(_ id: String, _ db: Database) throws -> Int64? {
        try db.cachedStatement(sql: "SELECT key FROM record WHERE id = ?").fetchRaw({ $0.text(id) }, row: { $0.integer(0) }).first
    }

    /// The accepted versions of one field.
    static func acceptedHeads(record: String, field: String, _ db: Database) throws -> [Version] {
        guard let key = try recordKey(record, db) else { return [] }
        return try acceptedHeads(key: key, field: field, db)
    }

    static func acceptedHeads(key: Int64, field: String, _ db: Database) throws -> [Version] {
        let statement = try db.cachedStatement(sql: "SELECT hlc, value, author, covers FROM change WHERE record_key = ? AND field = ? AND head")
        return try statement.fetchRaw({ row in
            row.integer(key)
            row.text(field)
        }, row: { row in try version(row, from: 0) })
    }

    /// The accepted versions of every field of a record, and the record's collection.
    static func acceptedFields(record: String, _ db: Database) throws -> (collection: String?, fields: [String: [Version]]) {
        guard let key = try recordKey(record, db) else { return (nil, [:]) }
        return try acceptedFields(key: key, db)
    }

    static func acceptedFields(key: Int64, _ db: Database) throws -> (collection: String?, fields: [String: [Version]]) {
        let statement = try db.cachedStatement(sql: "SELECT collection, field, hlc, value, author, covers FROM change WHERE record_key = ? AND head")
        var fields: [String: [Version]] = [:]
        var collection: String?
        let rows = try statement.fetchRaw({ $0.integer(key) }, row: { row in (row.text(0), row.text(1), try version(row, from: 2)) })
        for (name, field, version) in rows {
            fields[field, default: []].append(version)
            collection = name
        }
        return (collection, fields)
    }

    /// A version from the columns hlc, value, author, covers, starting at `first`.
    private static func version(_ row: RawRow, from first: Int32) throws -> Version {
        Version(hlc: try StorageText.decodeHLC(row.text(first)), value: try StorageText.decodeValue(row.text(first + 1)),
                author: row.text(first + 2), covers: try StorageText.decodeHLCs(row.optionalText(first + 3)))
    }
}
