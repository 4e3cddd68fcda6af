import Foundation
import GRDB
import Shared

/// What the database knows of files: the ones this replica holds (`file` table), and the ones records
/// refer to (their `files` fields, pending edits included), whether held or not.
enum FileCatalog {
    /// The size of `sha256` when the replica holds its whole content, else nil.
    static func held(_ sha256: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT size FROM file WHERE sha256 = ?", arguments: [sha256])
    }

    /// Records that the replica holds the whole content of `sha256` (checked against its hash);
    /// `onServer` when the server is known to hold it too.
    static func recordHeld(_ sha256: String, size: Int64, onServer: Bool, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO file (sha256, size, on_server, stored_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (sha256) DO UPDATE SET on_server = file.on_server OR excluded.on_server
            """, arguments: [sha256, size, onServer, Int64(clamping: WallClock.millis())])
    }

    /// Records that the replica holds `sha256` because it was just attached: the server is asked about it
    /// again at the next sync even if it held it before (an admin may have purged it since, when no
    /// record referred to it any more; without asking, this replica would never send it again).
    static func recordAttached(_ sha256: String, size: Int64, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO file (sha256, size, on_server, stored_at) VALUES (?, ?, 0, ?)
            ON CONFLICT (sha256) DO UPDATE SET on_server = 0
            """, arguments: [sha256, size, Int64(clamping: WallClock.millis())])
    }

    /// The server said it holds the whole of `sha256`: no status request for it again.
    static func markOnServer(_ sha256: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE file SET on_server = 1 WHERE sha256 = ?", arguments: [sha256])
    }

    /// Every file held, with its size, ordered by hash.
    static func allHeld(_ db: Database) throws -> [(sha256: String, size: Int64)] {
        try Row.fetchAll(db, sql: "SELECT sha256, size FROM file ORDER BY sha256").map { ($0["sha256"], $0["size"]) }
    }

    /// Held files the server is not known to hold, oldest first.
    static func notOnServer(_ db: Database) throws -> [(sha256: String, size: Int64)] {
        try Row.fetchAll(db, sql: "SELECT sha256, size FROM file WHERE NOT on_server ORDER BY stored_at, sha256")
            .map { ($0["sha256"], $0["size"]) }
    }

    /// Every file a record refers to (deleted records included: their evidence stays), by hash, with
    /// the first reference found for each.
    static func referenced(_ db: Database) throws -> [String: FileRef] {
        var found: [String: FileRef] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT value FROM current WHERE value GLOB 'f:*'")
        while let row = try rows.next() {
            guard case .files(let files) = try StorageText.decodeValue(row[0]) else { continue }
            for file in files where found[file.sha256] == nil { found[file.sha256] = file }
        }
        return found
    }

    /// The files of one record, field by field in the schema's order.
    static func files(of record: RecordRef, schema: Schema, _ db: Database) throws -> [(field: String, file: FileRef)] {
        let order = schema.collection(record.collection)?.fields.map(\.name) ?? []
        let rows = try Row.fetchAll(db, sql: """
            SELECT current.field, current.value FROM record JOIN current ON current.record_key = record.key
            WHERE record.id = ? AND current.value GLOB 'f:*'
            """, arguments: [record.id])
        var byField: [String: [FileRef]] = [:]
        for row in rows {
            if case .files(let files) = try StorageText.decodeValue(row["value"]) { byField[row["field"]] = files }
        }
        let fields = order.filter { byField[$0] != nil } + byField.keys.filter { !order.contains($0) }.sorted()
        return fields.flatMap { field in byField[field, default: []].map { (field, $0) } }
    }

    /// The full SHA-256 that `typed` (a whole hash, or a unique prefix of at least 6 hex digits) names
    /// among the files this replica holds, that records refer to, or that custody events name.
    static func resolve(_ typed: String, _ db: Database) throws -> String {
        let prefix: String
        do {
            prefix = try IDPrefix.validate(typed, kind: "SHA-256")
        } catch {
            throw ClientError(error.message)
        }
        var candidates = Set(try String.fetchAll(db, sql: "SELECT sha256 FROM file WHERE sha256 >= ? AND sha256 < ? LIMIT 10",
                                                 arguments: [prefix, prefix + "g"]))
        candidates.formUnion(try CustodyLog.hashes(startingWith: prefix, limit: 10, db))
        candidates.formUnion(try referenced(db).keys.filter { $0.hasPrefix(prefix) })
        switch IDPrefix.resolve(prefix, among: candidates.sorted()) {
        case .found(let sha256): return sha256
        case .notFound:
            throw ClientError("no file known to this replica has a SHA-256 starting with '\(typed)': see 'casebook files ID' for a record's files")
        case .ambiguous(let hashes):
            throw ClientError("'\(typed)' matches several files (\(hashes.prefix(3).map { String($0.prefix(12)) }.joined(separator: ", "))...): type more characters")
        }
    }
}
