import Foundation
import GRDB
import Shared

/// A local edit waiting to be accepted by the server: at most one per field.
struct OutboxEntry: Sendable {
    var collection: String
    var record: String
    var field: String
    var value: FieldValue
    var hlc: HLC
    var base: HLC?
    var supersedes: [HLC]
    var covers: [HLC]
    /// Set when the server refused the change: it stays here, visible, and is not pushed again until edited.
    var rejectedCode: String?
    var rejectedReason: String?

    /// The change to push.
    func change(author: String) -> Change {
        Change(collection: collection, record: record, field: field, value: value, hlc: hlc, author: author,
               base: base, supersedes: supersedes, covers: covers)
    }

    /// The versions the entry builds on.
    var parents: [HLC] { (base.map { [$0] } ?? []) + supersedes }

    init(_ row: Row) throws {
        collection = row["collection"]
        record = row["record"]
        field = row["field"]
        value = try StorageText.decodeValue(row["value"])
        hlc = try StorageText.decodeHLC(row["hlc"])
        base = try (row["base"] as String?).map(StorageText.decodeHLC)
        supersedes = try StorageText.decodeHLCs(row["supersedes"])
        covers = try StorageText.decodeHLCs(row["covers"])
        rejectedCode = row["rejected_code"]
        rejectedReason = row["rejected_reason"]
    }

    init(collection: String, record: String, field: String, value: FieldValue, hlc: HLC, base: HLC?, supersedes: [HLC], covers: [HLC] = []) {
        self.collection = collection
        self.record = record
        self.field = field
        self.value = value
        self.hlc = hlc
        self.base = base
        self.supersedes = supersedes
        self.covers = covers
    }

    static func all(record: String, _ db: Database) throws -> [OutboxEntry] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM outbox WHERE record = ? ORDER BY hlc"), arguments: [record]).map(OutboxEntry.init)
    }

    /// Entries to push, oldest first: not parked as rejected, and after `after` when given.
    static func pushable(after: HLC? = nil, limit: Int, _ db: Database) throws -> [OutboxEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE rejected_code IS NULL AND hlc > ? ORDER BY hlc LIMIT ?",
                         arguments: [after?.text ?? "", limit]).map(OutboxEntry.init)
    }

    /// Stores the entry, replacing any pending edit of the same field (coalescing), and clears a rejection.
    func save(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (record, field, collection, value, hlc, base, supersedes, covers, rejected_code, rejected_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
                ON CONFLICT (record, field) DO UPDATE SET collection = excluded.collection, value = excluded.value,
                    hlc = excluded.hlc, base = excluded.base, supersedes = excluded.supersedes, covers = excluded.covers,
                    rejected_code = NULL, rejected_reason = NULL
                """,
            arguments: [record, field, collection, StorageText.encode(value), hlc.text, base?.text,
                        StorageText.encode(supersedes), StorageText.encode(covers)])
    }
}
