import Foundation
import GRDB
import Shared
import SQLiteSupport

extension Replica {
    /// Applies changes the server accepted (pulled, or acknowledged after a push) through the
    /// merge rule, then refreshes what reads show for every record they touch (and for
    /// `alsoRefresh`). Changes already known are skipped. Returns how many were new. The caller
    /// owns the transaction, so a page and its cursor are committed together.
    ///
    /// `ownAccepted`: the changes are this replica's own, just accepted by a push. For a record
    /// that had no accepted change before, what reads show is already exactly those values
    /// (they were pending), so only its pending flag is updated instead of a full refresh.
    ///
    /// `stored`: the changes' stored forms, in their order, when the caller made them already (a
    /// pulled page's are made on the task that fetched it, off the writer: `FetchedPage`).
    @discardableResult
    static func applyAccepted(_ changes: [Wire.LoggedChange], schema: Schema, _ db: Database,
                               alsoRefresh: some Sequence<String> = [String](), ownAccepted: Bool = false,
                               stored: [StoredChange]? = nil) throws -> Int {
        let hasChanges = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = ? LIMIT 1")
        let known = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = ? AND hlc = ?")
        let childByBase = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE base = ? AND record_key = ? AND field = ? LIMIT 1")
        let childByParent = try db.cachedStatement(sql: """
            SELECT 1 FROM change_parent JOIN change ON change.record_key = ? AND change.hlc = change_parent.child
            WHERE change_parent.parent = ? AND change.field = ? LIMIT 1
            """)
        // Per record, in the order records first appear; the merge holds its fields' states before and after.
        var position: [String: Int] = [:]
        var records: [RecordBatch] = []
        var merge = BatchMerge()
        // Stored after the merge, when each one's `head` flag is known; with its record's index in
        // `records` and its stored form.
        var accepted: [(logged: Wire.LoggedChange, record: Int, stored: StoredChange)] = []
        accepted.reserveCapacity(changes.count)
        let stored = stored?.count == changes.count ? stored : nil
        for (offset, logged) in changes.enumerated() {
            let change = logged.change
            let index: Int
            if let found = position[change.record] {
                index = found
            } else {
                index = records.count
                position[change.record] = index
                let (key, registered) = try register(change.record, collection: change.collection, db)
                // A record with no accepted change here needs no per-change lookups.
                let isNew = try !registered || Bool.fetchOne(hasChanges, arguments: [key]) != true
                records.append(RecordBatch(id: change.record, key: key, collection: change.collection, isNew: isNew, wasRegistered: registered))
            }
            let isNewRecord = records[index].isNew
            let recordKey = records[index].key
            if merge.contains(change.hlc) { continue }
            if !isNewRecord, try Bool.fetchOne(known, arguments: [recordKey, change.hlc.text]) == true { continue }
            let outcome = try merge.merge(change, storedChild: {
                guard !isNewRecord else { return false }
                let hlc = change.hlc.text
                return try Bool.fetchOne(childByBase, arguments: [hlc, recordKey, change.field]) == true
                    || Bool.fetchOne(childByParent, arguments: [recordKey, hlc, change.field]) == true
            }, storedHeads: {
                isNewRecord ? [] : try acceptedHeads(key: recordKey, field: change.field, db)
            })
            guard outcome.kind != .duplicate else { continue }
            accepted.append((logged, index, stored?[offset] ?? StoredChange(change)))
        }
        try store(accepted, merge: merge, records: records, db)
        try refresh(records, merge: merge, schema: schema, alsoRefresh: alsoRefresh, ownAccepted: ownAccepted, db)
        return accepted.count
    }

    /// Refreshes what reads show for every record of the batch (and `alsoRefresh`), once each.
    private static func refresh(_ records: [RecordBatch], merge: BatchMerge, schema: Schema, alsoRefresh: some Sequence<String>,
                                ownAccepted: Bool, _ db: Database) throws {
        var refreshed = Set<String>()
        let pendingFlag = try db.cachedStatement(sql: "UPDATE record SET pending = EXISTS (SELECT 1 FROM outbox WHERE record_key = ?) WHERE key = ?")
        for batch in records {
            refreshed.insert(batch.id)
            // A record registered before this batch is shown already (from pending edits, if it had no accepted change).
            let wasShown = batch.wasRegistered
            if ownAccepted && wasShown && batch.isNew {
                try pendingFlag.execute(arguments: [batch.key, batch.key])
                continue
            }
            if batch.isNew && !wasShown {
                // A record new here: everything accepted about it is in memory, nothing derived to clear, and
                // no pending edit (an edit registers its record first, so this one would have been registered).
                try refresh(record: batch.id, schema: schema, db, isNew: true, key: batch.key,
                            accepted: (batch.collection, (merge.records[batch.id] ?? [:]).mapValues(\.after.heads)), pending: [])
                continue
            }
            try refresh(record: batch.id, schema: schema, db)
        }
        for record in alsoRefresh where refreshed.insert(record).inserted { try refresh(record: record, schema: schema, db) }
    }

    /// Stores the accepted changes, each flagged `head` if it is one of its field's versions after
    /// the merge, and clears the flag of the versions the merge replaced.
    private static func store(_ accepted: [(logged: Wire.LoggedChange, record: Int, stored: StoredChange)], merge: BatchMerge, records: [RecordBatch],
                              _ db: Database) throws {
        var heads = Set<HLC>()
        heads.reserveCapacity(accepted.count)
        for fields in merge.records.values {
            for edit in fields.values where edit.after != edit.before {
                for head in edit.after.heads { heads.insert(head.hlc) }
            }
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO change (record_key, seq, hlc, collection, field, value, author, base, supersedes, covers, received_at, head)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertParent = try db.cachedStatement(sql: "INSERT OR IGNORE INTO change_parent (parent, child) VALUES (?, ?)")
        for (logged, record, stored) in accepted {
            let change = logged.change
            let isHead = heads.contains(change.hlc)
            try insert.executeRaw { row in
                row.integer(records[record].key)
                if logged.seq == 0 { row.null() } else { row.integer(logged.seq) }
                row.text(stored.hlc)
                row.text(stored.collection)
                row.text(stored.field)
                row.text(stored.value)
                row.text(stored.author)
                row.text(stored.base)
                row.text(stored.supersedes)
                row.text(stored.covers)
                row.integer(Int64(bitPattern: logged.receivedAt))
                row.integer(isHead ? 1 : 0)
            }
            for parent in change.supersedes { try insertParent.execute(arguments: [parent.text, change.hlc.text]) }
        }
        // Versions stored before this batch: flag the ones that stopped (or became) current.
        let flag = try db.cachedStatement(sql: "UPDATE change SET head = ? WHERE record_key = ? AND hlc = ?")
        for batch in records where !batch.isNew {
            for edit in (merge.records[batch.id] ?? [:]).values {
                let before = Set(edit.before.heads.map(\.hlc))
                let after = Set(edit.after.heads.map(\.hlc))
                guard before != after else { continue }
                for hlc in before.subtracting(after) { try flag.execute(arguments: [false, batch.key, hlc.text]) }
                // A version stored before this batch that is current again (this batch's were flagged on insert).
                for hlc in after.subtracting(before) where !merge.contains(hlc) {
                    try flag.execute(arguments: [true, batch.key, hlc.text])
                }
            }
        }
    }

    /// What one applied batch does to one record.
    private struct RecordBatch {
        let id: String
        let key: Int64
        /// The collection its first change names.
        let collection: String
        /// No change of it was stored before this batch.
        let isNew: Bool
        /// Its record row existed before this batch (it had accepted changes, or pending edits).
        let wasRegistered: Bool
    }
}
