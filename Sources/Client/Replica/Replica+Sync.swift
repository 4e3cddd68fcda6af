import Foundation
import GRDB
import Shared
import SQLiteSupport

/// What a sync does to the replica: each operation is one transaction, and the sync state it
/// advances is saved in that same transaction, so a sync cut off anywhere resumes where it stopped.
extension Replica {
    /// Where the sync stands.
    func syncState() async throws -> SyncState {
        try await read { db in try SyncState.load(db) }
    }

    /// Applies a pulled page (snapshot or log) through the merge rule, moves the clock past what it
    /// received, and saves `state` (the position after the page): all or nothing. Returns how many
    /// changes were new here. `stored`: the changes' stored forms, when made already (see `applyAccepted`).
    func applyPulled(_ changes: [Wire.LoggedChange], serverTime: UInt64, state: SyncState, schema: Schema,
                     batches: [SignedBatch] = [], stored: [StoredChange]? = nil) async throws -> Int {
        return try await write { db in
            try Replica.storeBatches(batches, db)
            let applied = try Replica.applyAccepted(changes, schema: schema, db, stored: stored)
            var clock = try ReplicaClock.load(db)
            clock.offset = WallClock.offset(toServerTime: serverTime)
            if let newest = changes.lazy.map(\.change.hlc).max() { clock.receive(newest, now: clock.now) }
            try clock.save(db)
            try state.save(db)
            return applied
        }
    }

    /// Outbox entries to push, record by record: not rejected, and after `after` when given; at most
    /// `limit` of them and about `maxBytes` of push body, but always one when there is one. A batch that
    /// the outbox does not end ends with a whole record (`OutboxEntry.endingWithAWholeRecord`).
    func pushable(after: OutboxEntry.Position?, limit: Int, maxBytes: Int = .max) async throws -> [OutboxEntry] {
        try await read { db in
            let read = try OutboxEntry.pushable(after: after, limit: limit, db)
            let batch = OutboxEntry.batch(read, maxBytes: maxBytes)
            return read.count < limit && batch.count == read.count ? batch : OutboxEntry.endingWithAWholeRecord(batch)
        }
    }

    /// What the server said about a batch of pushed entries, once recorded.
    struct PushRecord: Sendable {
        var accepted = 0
        /// How many of the entries the response answered for.
        var answered = 0
        /// Some entry was rejected because the device clock is too far ahead.
        var clockAhead = false
        /// The sync state with the acknowledged changes counted.
        var state: SyncState
    }

    /// Records a push response: accepted changes are applied as accepted at once (so the value never
    /// flickers back) and leave the outbox; rejected ones stay, marked with the reason. Every record
    /// touched is refreshed once; `state`, with the acknowledged changes counted, is saved too.
    func recordPush(_ response: Wire.PushResponse, for entries: [OutboxEntry], author: String, state: SyncState,
                    schema: Schema) async throws -> PushRecord {
        try await write { db in
            var record = PushRecord(state: state)
            var accepted: [Wire.LoggedChange] = []
            let byHLC = Dictionary(entries.map { ($0.hlc, $0) }, uniquingKeysWith: { first, _ in first })
            var touched: [String] = []
            for result in response.results {
                guard let entry = byHLC[result.hlc] else { continue }
                record.answered += 1
                switch result.status {
                case .applied, .conflict, .duplicate:
                    accepted.append(Wire.LoggedChange(seq: result.seq ?? 0, change: entry.change(author: author), receivedAt: response.serverTime))
                    try OutboxEntry.remove(accepted: entry, db)
                case .rejected where result.code == "clock_ahead":
                    record.clockAhead = true
                case .rejected:
                    try OutboxEntry.markRejected(entry, code: result.code, reason: result.reason, db)
                }
                touched.append(entry.record)
            }
            try Replica.applyAccepted(accepted, schema: schema, db, alsoRefresh: touched, ownAccepted: true)
            record.accepted = accepted.count
            if let highest = accepted.map(\.seq).max(), highest > 0 {
                record.state.accepted(upTo: highest)
                try record.state.save(db)
            }
            return record
        }
    }

    /// Re-stamps every pending (not rejected) entry with the clock restarted from what the server
    /// accepted and corrected by the server's time. None of them was accepted, so their identities
    /// may change; a pending delete follows the pending edits it covers to their new stamps.
    func restamp(serverTime: UInt64, schema: Schema) async throws {
        try await write { db in
            var clock = try ReplicaClock.load(db)
            clock.offset = WallClock.offset(toServerTime: serverTime)
            clock.restart(from: try String.fetchOne(db, sql: "SELECT MAX(hlc) FROM change").flatMap(HLC.init(text:)))
            let now = clock.now
            let entries = try OutboxEntry.fetch("WHERE outbox.rejected_code IS NULL ORDER BY outbox.hlc", db)
            var renamed: [HLC: HLC] = [:]
            for entry in entries { renamed[entry.hlc] = clock.tick(now: now) }
            try db.execute(sql: "DELETE FROM outbox WHERE rejected_code IS NULL")
            for var entry in entries {
                entry.hlc = renamed[entry.hlc] ?? entry.hlc
                entry.covers = entry.covers.map { renamed[$0] ?? $0 }
                try entry.save(db)
            }
            try clock.save(db)
            for record in Set(entries.map(\.record)) { try Replica.refresh(record: record, schema: schema, db) }
        }
    }

    /// Marks every rejected change of the responses, clock refusals included (after a re-stamp did not help).
    func markRejected(_ responses: [Wire.PushResponse]) async throws {
        try await write { db in
            let places = try OutboxEntry.placesByHLC(db)
            for response in responses {
                for result in response.results where result.status == .rejected {
                    guard let place = places[result.hlc] else { continue }
                    try OutboxEntry.markRejected(at: place, hlc: result.hlc, code: result.code, reason: result.reason, db)
                }
            }
        }
    }

    /// How many conflicts are open and which changes were rejected, after a sync.
    func syncSummary() async throws -> (conflicts: Int, rejected: [RejectedView]) {
        try await read { db in (try ReplicaQuery.conflictCount(db), try ReplicaQuery.rejected(db)) }
    }
}
