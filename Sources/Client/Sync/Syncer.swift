import Foundation
import GRDB
import Shared
import SQLiteSupport

/// A push batch on its way: its outbox entries and the request's answer to come.
private struct PushFlight {
    let entries: [OutboxEntry]
    let response: Task<Wire.PushResponse, any Error>
}

/// What a sync did.
struct SyncReport: Sendable {
    var pushed = 0
    var pulled = 0
    var conflicts = 0
    var rejected: [RejectedView] = []
    /// Why the server refused every push (a viewer's replica, say); the pull still ran.
    var pushRefused: String?
    /// Seconds spent in each part, for `sync --json` and the benchmark.
    var snapshotSeconds = 0.0
    var pushSeconds = 0.0
    var pullSeconds = 0.0
}

/// Runs a sync: the first time, the snapshot of current versions; then push the outbox; then
/// pull the log from the cursor. Each pulled page is committed with its cursor in one
/// transaction, so a sync cut off anywhere loses nothing and the next one continues.
struct Syncer {
    let replica: Replica
    let client: any SyncTransport
    let settings: ReplicaSettings
    let progress: Progress
    var pushBatch = 5_000
    var pageSize = 10_000

    func run() async throws -> SyncReport {
        var report = SyncReport()
        defer { progress.finish() }
        let clock = ContinuousClock()
        var start = clock.now
        report.pulled += try await snapshotIfNeeded()
        report.snapshotSeconds = (clock.now - start).seconds
        start = clock.now
        do {
            report.pushed = try await push()
        } catch let error as ClientError where error.status == 403 {
            // Refused outright (a viewer): keep the outbox, still bring the replica up to date.
            report.pushRefused = error.message
        }
        report.pushSeconds = (clock.now - start).seconds
        start = clock.now
        report.pulled += try await pullLog()
        report.pullSeconds = (clock.now - start).seconds
        (report.conflicts, report.rejected) = try await replica.database.read { db in
            (try ReplicaQuery.conflictCount(db), try ReplicaQuery.rejected(db))
        }
        return report
    }

    // MARK: Pull

    /// The first sync's snapshot: current versions only, resumable page by page.
    private func snapshotIfNeeded() async throws -> Int {
        let (done, start) = try await replica.database.read { db in
            (try Setting.get(.snapshotDone, db) != nil, try Setting.get(.snapshotAfter, db).flatMap(HLC.init(text:)))
        }
        guard !done else { return 0 }
        var received = 0
        var total: Int?
        let client = self.client, limit = pageSize
        func fetch(after: HLC?) -> Task<Wire.SnapshotResponse, any Error> {
            Task { try await client.snapshot(after: after, limit: limit) }
        }
        var pending = fetch(after: start)
        while true {
            let page = try await pending.value
            // The next page travels while this one is applied.
            let next = page.next.map { fetch(after: $0) }
            if let pageTotal = page.total { total = pageTotal }
            received += page.changes.count
            let schema = settings.schema
            do {
                try await replica.database.write { db in
                    try Replica.applyConfirmed(page.changes, schema: schema, db)
                    try Self.receive(page.changes, serverTime: page.serverTime, db)
                    if try Setting.get(.snapshotSince, db) == nil { try Setting.set(.snapshotSince, String(page.since), db) }
                    try Setting.set(.snapshotAfter, page.next?.text, db)
                    if page.next == nil {
                        try Setting.set(.snapshotDone, "1", db)
                        try Setting.set(.cursor, try Setting.get(.snapshotSince, db), db)
                    }
                }
            } catch {
                next?.cancel()
                throw error
            }
            progress.update("receiving current records", done: received, total: total)
            guard let next else { break }
            pending = next
        }
        return received
    }

    /// The log after the cursor, page by page.
    private func pullLog() async throws -> Int {
        let (startCursor, ownUpTo): (Int64, Int64) = try await replica.database.read { db in
            (Int64(try Setting.get(.cursor, db) ?? "0") ?? 0, Int64(try Setting.get(.ownAcknowledged, db) ?? "0") ?? 0)
        }
        var cursor = startCursor
        let start = cursor
        var received = 0
        let client = self.client, node = settings.node, limit = pageSize, ownBound = ownUpTo
        // Our own acknowledged changes are already here: the server leaves them out.
        func fetch(after: Int64) -> Task<Wire.PullResponse, any Error> {
            Task { try await client.pull(after: after, limit: limit, skip: ownBound > after ? (node, ownBound) : nil) }
        }
        var pending = fetch(after: cursor)
        while true {
            let page = try await pending.value
            // The next page travels while this one is applied: client and server work at the same time.
            let next = page.more ? fetch(after: page.cursor) : nil
            let schema = settings.schema
            let applied: Int
            do {
                applied = try await replica.database.write { db in
                    let applied = try Replica.applyConfirmed(page.changes, schema: schema, db)
                    try Self.receive(page.changes, serverTime: page.serverTime, db)
                    try Setting.set(.cursor, String(page.cursor), db)
                    // The last page completes the sync: record when, in the same transaction.
                    if !page.more { try Setting.set(.lastSync, String(UInt64(Date().timeIntervalSince1970 * 1000)), db) }
                    return applied
                }
            } catch {
                next?.cancel()
                throw error
            }
            received += applied
            cursor = page.cursor
            progress.update("pulling changes", done: Int(cursor - start), total: Int(page.latest - start))
            guard let next else { break }
            pending = next
        }
        return received
    }

    /// Moves the replica's clock past everything received, and remembers the server's clock offset.
    private static func receive(_ changes: [Wire.LoggedChange], serverTime: UInt64, _ db: Database) throws {
        let offset = Int64(serverTime) - Int64(Date().timeIntervalSince1970 * 1000)
        try Setting.set(.clockOffset, String(offset), db)
        guard let newest = changes.map(\.change.hlc).max() else { return }
        let node = NodeID(try Setting.get(.node, db) ?? "") ?? newest.node
        var clock = HybridClock(node: node, maxDriftMillis: HLC.maxMillis, latest: try Setting.get(.clock, db).flatMap(HLC.init(text:)))
        _ = try? clock.receive(newest, now: UInt64(max(0, Int64(Date().timeIntervalSince1970 * 1000) + offset)))
        try Setting.set(.clock, clock.latest.text, db)
    }

    // MARK: Push

    /// Pushes the outbox in batches, oldest first. Accepted changes are applied locally at once
    /// (so the value never flickers back), refused ones are parked with their reason, and
    /// changes refused for a clock too far ahead are re-stamped with the server's time and sent again.
    ///
    /// While one batch's acknowledgement is recorded, the next batch is already on its way, so the
    /// client and the server work at the same time. The HTTP client keeps one connection, so the
    /// server still receives the batches in order.
    private func push() async throws -> Int {
        var pushed = 0
        var restamped = false
        var sentUpTo: HLC?
        var inFlight: PushFlight?
        let client = self.client, user = settings.user, batch = pushBatch
        func send() async throws -> PushFlight? {
            let after = sentUpTo
            let entries = try await replica.database.read { db in try OutboxEntry.pushable(after: after, limit: batch, db) }
            guard let last = entries.last else { return nil }
            sentUpTo = last.hlc
            let changes = entries.map { $0.change(author: user) }
            return PushFlight(entries: entries, response: Task { try await client.push(changes) })
        }
        /// Waits for a batch's answer and records it.
        func land(_ flight: PushFlight) async throws -> (response: Wire.PushResponse, clockAhead: Bool) {
            let response = try await flight.response.value
            let outcome = try await record(response, for: flight.entries)
            guard outcome.answered > 0 else {
                throw ClientError("the server did not answer for the changes sent: your local changes are kept; try again, and tell the server's admin if it persists")
            }
            pushed += outcome.accepted
            progress.update("pushing changes", done: pushed, total: nil)
            return (response, outcome.clockAhead)
        }
        do {
            while true {
                let next = try await send()
                guard let current = inFlight else {
                    guard let next else { break }
                    inFlight = next
                    continue
                }
                inFlight = next
                let landed = try await land(current)
                guard landed.clockAhead else {
                    if next == nil { break }
                    continue
                }
                // The device clock is far ahead: finish what travels, re-stamp with the server's
                // time, and send the outbox again from its start (once).
                var answers = [landed.response]
                if let next { answers.append(try await land(next).response) }
                inFlight = nil
                sentUpTo = nil
                guard !restamped else {
                    for response in answers { try await park(response) }
                    break
                }
                try await restamp(serverTime: landed.response.serverTime)
                restamped = true
            }
        } catch {
            inFlight?.response.cancel()
            throw error
        }
        return pushed
    }

    private func record(_ response: Wire.PushResponse, for entries: [OutboxEntry]) async throws -> (accepted: Int, answered: Int, clockAhead: Bool) {
        let schema = settings.schema
        let user = settings.user
        return try await replica.database.write { db in
            var accepted: [Wire.LoggedChange] = []
            var answered = 0
            var clockAhead = false
            let byHLC = Dictionary(entries.map { ($0.hlc, $0) }, uniquingKeysWith: { first, _ in first })
            var touched: [String] = []
            let park = try db.cachedStatement(sql: "UPDATE outbox SET rejected_code = ?, rejected_reason = ? WHERE hlc = ?")
            for result in response.results {
                guard let entry = byHLC[result.hlc] else { continue }
                answered += 1
                switch result.status {
                case .applied, .conflict, .duplicate:
                    accepted.append(Wire.LoggedChange(seq: result.seq ?? 0, change: entry.change(author: user), receivedAt: response.serverTime))
                    try Self.settle(entry, db)
                case .rejected where result.code == "clock_ahead":
                    clockAhead = true
                case .rejected:
                    try park.execute(arguments: [result.code ?? "rejected", result.reason ?? "refused by the server", entry.hlc.text])
                }
                touched.append(entry.record)
            }
            // Accepted changes become confirmed at once, so the value never flickers back; every
            // record touched (accepted or refused) is refreshed once.
            try Replica.applyConfirmed(accepted, schema: schema, db, alsoRefresh: touched, acknowledging: true)
            if let highest = accepted.map(\.seq).max(), highest > 0 {
                let previous = Int64(try Setting.get(.ownAcknowledged, db) ?? "0") ?? 0
                try Setting.set(.ownAcknowledged, String(max(previous, highest)), db)
            }
            return (accepted.count, answered, clockAhead)
        }
    }

    /// Removes an accepted entry from the outbox; if the field was edited again meanwhile, the
    /// newer edit now builds on the accepted one.
    private static func settle(_ entry: OutboxEntry, _ db: Database) throws {
        let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE hlc = ?")
        try delete.executeRaw { $0.text(entry.hlc.text) }
        guard db.changesCount == 0 else { return }
        // The field was edited again meanwhile: the newer edit now builds on the accepted one.
        try db.execute(sql: "UPDATE outbox SET base = ?, supersedes = NULL WHERE record_key = (SELECT key FROM record WHERE id = ?) AND field = ?",
                       arguments: [entry.hlc.text, entry.record, entry.field])
    }

    /// Re-stamps every pending change with the clock corrected by the server's time. None of
    /// them was accepted, so their identities may change.
    private func restamp(serverTime: UInt64) async throws {
        let schema = settings.schema
        let node = settings.node
        try await replica.database.write { db in
            let offset = Int64(serverTime) - Int64(Date().timeIntervalSince1970 * 1000)
            try Setting.set(.clockOffset, String(offset), db)
            // Restart the clock from what the server has accepted, not from the wrong clock's future.
            let newestKnown = try String.fetchOne(db, sql: "SELECT MAX(hlc) FROM change").flatMap(HLC.init(text:))
            var clock = HybridClock(node: node, maxDriftMillis: HLC.maxMillis, latest: newestKnown)
            let now = LocalEditor.wallClock(offset: offset)
            let entries = try OutboxEntry.fetch("WHERE rejected_code IS NULL ORDER BY hlc", db)
            var renamed: [HLC: HLC] = [:]
            for entry in entries { renamed[entry.hlc] = clock.tick(now: now) }
            // A pending delete lists the pending edits it saw: follow them to their new stamps.
            try db.execute(sql: "DELETE FROM outbox WHERE rejected_code IS NULL")
            for var entry in entries {
                entry.hlc = renamed[entry.hlc] ?? entry.hlc
                entry.covers = entry.covers.map { renamed[$0] ?? $0 }
                try entry.save(db)
            }
            try Setting.set(.clock, clock.latest.text, db)
            for record in Set(entries.map(\.record)) { try Replica.refresh(record: record, schema: schema, db) }
        }
    }

    /// Parks every refused change of a response, clock refusals included (after one re-stamp failed).
    private func park(_ response: Wire.PushResponse) async throws {
        try await replica.database.write { db in
            for result in response.results where result.status == .rejected {
                try db.execute(sql: "UPDATE outbox SET rejected_code = ?, rejected_reason = ? WHERE hlc = ?",
                               arguments: [result.code ?? "rejected", result.reason ?? "refused by the server", result.hlc.text])
            }
        }
    }
}
