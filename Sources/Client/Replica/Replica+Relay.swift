import Foundation
import GRDB
import Shared

/// Changes the server may not hold yet that are not in the outbox: this replica's own edits published
/// in a bundle it made, and other authors' changes it received in a bundle. Each waits in `relay`
/// with the batch that signs it, and the next sync pushes it as it was signed (docs/protocol.md,
/// "Bundles"); the server credits the batch's device's owner, whoever pushes.
extension Replica {
    /// What the server said about relayed changes.
    struct RelayRecord: Sendable {
        var relayed = 0
        var refused: [(hlc: HLC, reason: String)] = []
        var state: SyncState
    }

    /// Publishes the pending edits for a bundle: signs them as batches, as a push would, keeps them
    /// here as accepted (so a later edit of the field builds on the published version instead of
    /// replacing it) and moves them from the outbox to the relay queue. Returns how many.
    func publishPending(signer: BatchSigner, author: String, schema: Schema) throws -> Int {
        // On the calling thread: the signing key is not Sendable.
        try write { db in try Replica.publishPending(signer: signer, author: author, schema: schema, db) }
    }

    /// Publishes the pending edits in the caller's transaction (`publishPending`), a batch at a time:
    /// memory holds one batch of edits however many are pending.
    static func publishPending(signer: BatchSigner, author: String, schema: Schema, batchSize: Int = 5_000, _ db: Database) throws -> Int {
        let encoder = JSONEncoder()
        let queue = try db.cachedStatement(sql: "INSERT OR REPLACE INTO relay (hlc, record, change, batch) VALUES (?, ?, ?, ?)")
        let now = WallClock.millis()
        var published = 0
        var after: OutboxEntry.Position?
        while true {
            let entries = try OutboxEntry.pushable(after: after, limit: batchSize, db)
            guard let last = entries.last else { break }
            let changes = entries.map { $0.change(author: author) }
            let batch = try signer.sign(changes)
            try Replica.storeBatches([batch], db)
            var accepted: [Wire.LoggedChange] = []
            for (entry, change) in zip(entries, changes) {
                try queue.execute(arguments: [change.hlc.text, change.record, String(decoding: try encoder.encode(change), as: UTF8.self), batch.id])
                try OutboxEntry.remove(accepted: entry, db)
                accepted.append(Wire.LoggedChange(seq: 0, change: change, receivedAt: now))
            }
            try Replica.applyAccepted(accepted, schema: schema, db, alsoRefresh: Set(entries.map(\.record)), ownAccepted: true)
            published += entries.count
            after = last.position
        }
        return published
    }

    /// Queues changes received in a bundle for relaying (those already queued stay as they are).
    static func queueRelay(_ changes: [(change: Change, batch: String)], _ db: Database) throws {
        let encoder = JSONEncoder()
        let queue = try db.cachedStatement(sql: "INSERT OR IGNORE INTO relay (hlc, record, change, batch) VALUES (?, ?, ?, ?)")
        for (change, batch) in changes {
            try queue.execute(arguments: [change.hlc.text, change.record, String(decoding: try encoder.encode(change), as: UTF8.self), batch])
        }
    }

    /// Up to `limit` queued changes after `after`, oldest first, with the batches that sign them.
    func relayable(after: HLC?, limit: Int) async throws -> (changes: [Change], batches: [SignedBatch]) {
        try await read { db in
            let decoder = JSONDecoder()
            let rows = try Row.fetchAll(db, sql: "SELECT change, batch FROM relay WHERE hlc > ? ORDER BY hlc LIMIT ?",
                                        arguments: [after?.text ?? "", limit])
            let changes = try rows.map { try decoder.decode(Change.self, from: Data(($0[0] as String).utf8)) }
            let ids = Array(Set(rows.map { $0[1] as String }))
            let batches = try Row.fetchAll(db, sql: "SELECT id, node, digests, signature FROM batch WHERE id IN (SELECT value FROM json_each(?))",
                                           arguments: [String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)]).compactMap { row -> SignedBatch? in
                guard let node = NodeID(row[1] as String), let digests = ChangeDigest.unpack(row[2] as Data) else { return nil }
                return SignedBatch(id: row[0], node: node, digests: digests, signature: Array(row[3] as Data))
            }
            return (changes, batches)
        }
    }

    /// Records the server's answer to relayed changes: accepted ones (duplicates included) leave the
    /// queue, and this replica's own get their sequence number; refused ones leave it too, with the
    /// reason (their authors' replicas still hold them and push them themselves), except those stamped
    /// ahead of the server's clock, which wait for it.
    func recordRelay(_ response: Wire.PushResponse, node: NodeID, state: SyncState) async throws -> RelayRecord {
        try await write { db in
            var record = RelayRecord(state: state)
            let queued = try db.cachedStatement(sql: "SELECT record FROM relay WHERE hlc = ?")
            let remove = try db.cachedStatement(sql: "DELETE FROM relay WHERE hlc = ?")
            // By the record's key: the change table's key is (record, HLC).
            let number = try db.cachedStatement(sql: "UPDATE change SET seq = ? WHERE record_key = (SELECT key FROM record WHERE id = ?) AND hlc = ? AND seq IS NULL")
            for result in response.results {
                // Stamped ahead of the server's clock by its maker's device: it cannot be re-stamped (it is
                // signed), and the server takes it once its clock passes the stamp. It stays queued.
                if result.status == .rejected && result.code == "clock_ahead" { continue }
                guard let recordID = try String.fetchOne(queued, arguments: [result.hlc.text]) else { continue }
                try remove.execute(arguments: [result.hlc.text])
                if result.status == .rejected {
                    record.refused.append((result.hlc, result.reason ?? "refused by the server"))
                    continue
                }
                record.relayed += 1
                if let seq = result.seq, result.hlc.node == node {
                    try number.execute(arguments: [seq, recordID, result.hlc.text])
                    record.state.accepted(upTo: seq)
                }
            }
            try record.state.save(db)
            return record
        }
    }

    /// Removes every queued change of device `node` (the server refuses that device or its owner) and returns their timestamps.
    func dropRelay(node: NodeID) async throws -> [HLC] {
        try await write { db in
            // An HLC's text is 18 characters of time and counter, then the node.
            let dropped = try String.fetchAll(db, sql: "SELECT hlc FROM relay WHERE substr(hlc, 19) = ? ORDER BY hlc", arguments: [node.rawValue])
            try db.execute(sql: "DELETE FROM relay WHERE substr(hlc, 19) = ?", arguments: [node.rawValue])
            return dropped.compactMap { HLC(text: $0) }
        }
    }

    /// How many of this replica's own changes wait in the relay queue (published in a bundle, not yet on the server).
    static func ownRelayCount(_ db: Database) throws -> Int {
        guard let node = try Setting.get(.node, db) else { return 0 }
        // An HLC's text is 18 characters of time and counter, then the node.
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM relay WHERE substr(hlc, 19) = ?", arguments: [node]) ?? 0
    }
}
