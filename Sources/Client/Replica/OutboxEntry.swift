import Foundation
import GRDB
import Shared
import SQLiteSupport

/// A local edit waiting to be accepted by the server: at most one per field.
///
/// The outbox is keyed by record and field only (`record_key, field`), with no index by HLC: an index
/// by HLC was a sixth of the B-tree entries an import writes and about a seventh of its bytes
/// (docs/performance.md, "The outbox without its HLC index"). So a push reads it in that order,
/// record by record (a record's `_access` and `_deleted` come before its fields: field names start
/// with a letter), and an entry is found again by its place, not by its HLC.
struct OutboxEntry: Sendable {
    var collection: String
    var record: String
    var field: String
    var value: FieldValue
    var hlc: HLC
    var base: HLC?
    var supersedes: [HLC]
    var covers: [HLC]
    /// Set when the server rejected the change: it stays here, visible, and is not pushed again until edited.
    var rejectedCode: String?
    var rejectedReason: String?
    /// The record's local key, for an entry read from the outbox (nil for one made in memory).
    var recordKey: Int64?

    /// An entry's place in the outbox, the order a push reads it in.
    struct Position: Sendable, Equatable {
        var recordKey: Int64
        var field: String
    }

    /// Where the entry is in the outbox, for an entry read from it.
    var position: Position? { recordKey.map { Position(recordKey: $0, field: field) } }

    /// The change to push.
    func change(author: String) -> Change {
        Change(collection: collection, record: record, field: field, value: value, hlc: hlc, author: author,
               base: base, supersedes: supersedes, covers: covers)
    }

    /// The versions the entry builds on.
    var parents: [HLC] { (base.map { [$0] } ?? []) + supersedes }

    /// The columns `init(_:)` reads, in its order, from the outbox and its record (`source`): an entry does
    /// not repeat its record's id and collection.
    static let columns = """
        record.collection, record.id, outbox.field, outbox.value, outbox.hlc, outbox.base, outbox.supersedes, outbox.covers,
        outbox.rejected_code, outbox.rejected_reason, outbox.record_key
        """
    static let source = "outbox JOIN record ON record.key = outbox.record_key"

    /// An entry from a row of `SELECT \(columns) FROM \(source)`.
    init(_ row: RawRow) throws {
        collection = row.text(0)
        record = row.text(1)
        field = row.text(2)
        value = try StorageText.decodeValue(row.text(3))
        hlc = try StorageText.decodeHLC(row.text(4))
        base = try row.optionalText(5).map(StorageText.decodeHLC)
        supersedes = try StorageText.decodeHLCs(row.optionalText(6))
        covers = try StorageText.decodeHLCs(row.optionalText(7))
        rejectedCode = row.optionalText(8)
        rejectedReason = row.optionalText(9)
        recordKey = row.integer(10)
    }

    /// The entries `condition` (the rest of the query after `FROM \(source)`) selects.
    static func fetch(_ condition: String, _ db: Database, bind: (inout RawParameters) -> Void = { _ in }) throws -> [OutboxEntry] {
        try db.cachedStatement(sql: "SELECT \(columns) FROM \(source) \(condition)").fetchRaw(bind, row: OutboxEntry.init)
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
        try fetch("WHERE record.id = ? ORDER BY outbox.hlc", db) { $0.text(record) }
    }

    /// Entries to push, in the outbox's order (record by record): not rejected, and after `after` when given.
    static func pushable(after: Position? = nil, limit: Int, _ db: Database) throws -> [OutboxEntry] {
        // A record whose access change the server refused keeps its other edits back: sent without it,
        // they would reach the whole team.
        try fetch("""
            WHERE (outbox.record_key, outbox.field) > (?, ?) AND outbox.rejected_code IS NULL AND NOT EXISTS (
                SELECT 1 FROM outbox AS access WHERE access.record_key = outbox.record_key AND access.field = '\(Change.accessField)'
                AND access.rejected_code IS NOT NULL)
            ORDER BY outbox.record_key, outbox.field LIMIT ?
            """, db) { row in
            row.integer(after?.recordKey ?? Int64.min)
            row.text(after?.field ?? "")
            row.integer(Int64(limit))
        }
    }

    /// About how many bytes the entry takes in a push body (at least as many, for ordinary text).
    var wireBytes: Int {
        func string(_ text: String) -> Int {
            // JSON escapes a quote or backslash in two bytes, a control character in six.
            text.utf8.reduce(2) { $0 + ($1 == 0x22 || $1 == 0x5C ? 2 : $1 < 0x20 ? 6 : 1) }
        }
        let valueBytes = switch value {
        case .text(let text), .date(let text), .reference(let text): string(text)
        case .list(let items), .references(let items): items.reduce(2) { $0 + string($1) + 1 }
        case .files(let files): files.reduce(2) { $0 + 150 + string($1.name) + string($1.mime) }
        case .integer, .bool, .unset: 24
        }
        // Keys, ids, the author and the HLCs: about 300 bytes, and 40 a parent.
        return 300 + string(record) + string(collection) + string(field) + valueBytes + 40 * (supersedes.count + covers.count)
    }

    /// The longest prefix of `entries` that fits in `maxBytes` of push body; at least the first
    /// entry, so that a change larger than the budget still travels (alone).
    static func batch(_ entries: [OutboxEntry], maxBytes: Int) -> [OutboxEntry] {
        var total = 0
        var count = 0
        for entry in entries {
            total += entry.wireBytes
            if count > 0 && total > maxBytes { break }
            count += 1
        }
        return Array(entries.prefix(count))
    }

    /// A full batch without the entries of its last record, when it holds another record's too: the last
    /// record then travels whole in the next batch. So a record's access change goes in the batch of its
    /// other changes, where the server refuses them with it when it refuses it (`access_refused`); split
    /// over two batches in flight, the second's values would be accepted, and reach the whole team, before
    /// the replica heard of the refusal. Only a record with more changes than a batch holds is split (its
    /// access change first).
    static func endingWithAWholeRecord(_ batch: [OutboxEntry]) -> [OutboxEntry] {
        guard let last = batch.last, let start = batch.firstIndex(where: { $0.recordKey == last.recordKey && $0.record == last.record }),
              start > 0 else { return batch }
        return Array(batch[..<start])
    }

    /// Stores the entry, replacing any pending edit of the same field (coalescing), and clears a rejection.
    func save(_ db: Database) throws {
        let (key, _) = try Replica.register(record, collection: collection, db)
        let upsert = try db.cachedStatement(sql: Self.insertSQL + """
             ON CONFLICT (record_key, field) DO UPDATE SET value = excluded.value,
                hlc = excluded.hlc, base = excluded.base, supersedes = excluded.supersedes, covers = excluded.covers,
                rejected_code = NULL, rejected_reason = NULL
            """)
        try upsert.executeRaw { bind(&$0, key: key) }
    }

    /// Stores the entries of fields that have none (of a record just registered as `key`), a statement for many.
    /// `valueTexts`: the entries' values as `StorageText`, when the caller has them already.
    static func insert(_ entries: [OutboxEntry], key: Int64, valueTexts: [String]? = nil, _ db: Database) throws {
        try insertRows.execute(db, rows: entries.count) { row, index in
            entries[index].bind(&row, key: key, valueText: valueTexts?[index])
        }
    }

    private static let insertSQL = """
        INSERT INTO outbox (record_key, field, value, hlc, base, supersedes, covers, rejected_code, rejected_reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)
        """
    private static let insertRows = RowsInsert("""
        INSERT INTO outbox (record_key, field, value, hlc, base, supersedes, covers, rejected_code, rejected_reason) VALUES
        """, row: "(?, ?, ?, ?, ?, ?, ?, NULL, NULL)")

    private func bind(_ row: inout RawParameters, key: Int64, valueText: String? = nil) {
        row.integer(key)
        row.text(field)
        row.text(valueText ?? StorageText.encode(value))
        row.text(hlc.text)
        row.text(base?.text)
        row.text(StorageText.encode(supersedes))
        row.text(StorageText.encode(covers))
    }

    /// Removes an accepted entry (read from the outbox); if the field was edited again meanwhile (the
    /// entry was replaced), the newer edit now builds on the accepted one.
    static func remove(accepted entry: OutboxEntry, _ db: Database) throws {
        let key = try entry.storedKey(db)
        let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE record_key = ? AND field = ? AND hlc = ?")
        try delete.executeRaw { row in
            row.integer(key)
            row.text(entry.field)
            row.text(entry.hlc.text)
        }
        guard db.changesCount == 0 else { return }
        let rebase = try db.cachedStatement(sql: "UPDATE outbox SET base = ?, supersedes = NULL WHERE record_key = ? AND field = ?")
        try rebase.executeRaw { row in
            row.text(entry.hlc.text)
            row.integer(key)
            row.text(entry.field)
        }
    }

    /// Marks an entry rejected, unless it was replaced meanwhile: it stays, visible with the reason, and is
    /// not pushed again until edited.
    static func markRejected(_ entry: OutboxEntry, code: String?, reason: String?, _ db: Database) throws {
        try markRejected(at: Position(recordKey: try entry.storedKey(db), field: entry.field), hlc: entry.hlc, code: code, reason: reason, db)
    }

    /// Marks the entry at `place` rejected, unless it is no longer the one stamped `hlc`.
    static func markRejected(at place: Position, hlc: HLC, code: String?, reason: String?, _ db: Database) throws {
        let mark = try db.cachedStatement(sql: "UPDATE outbox SET rejected_code = ?, rejected_reason = ? WHERE record_key = ? AND field = ? AND hlc = ?")
        try mark.execute(arguments: [code ?? "rejected", reason ?? "refused by the server", place.recordKey, place.field, hlc.text])
    }

    /// Where each entry is, by HLC, read in one pass (the outbox has no index by HLC) without the values: for
    /// answers that name only the HLC.
    static func placesByHLC(_ db: Database) throws -> [HLC: Position] {
        var places: [HLC: Position] = [:]
        let rows = try db.cachedStatement(sql: "SELECT hlc, record_key, field FROM outbox")
            .fetchRaw(row: { row in (try StorageText.decodeHLC(row.text(0)), Position(recordKey: row.integer(1), field: row.text(2))) })
        for (hlc, place) in rows { places[hlc] = place }
        return places
    }

    /// The record's local key: the one the entry was read with, or the record's.
    private func storedKey(_ db: Database) throws -> Int64 {
        if let recordKey { return recordKey }
        return try Int64.fetchOne(db, sql: "SELECT key FROM record WHERE id = ?", arguments: [record]) ?? -1
    }
}
