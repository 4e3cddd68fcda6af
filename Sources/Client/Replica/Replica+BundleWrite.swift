import Foundation
import GRDB
import Shared

/// What `casebook bundle create` reads out of the replica, in one read transaction, record by record
/// into the sealer: memory holds one change or one file chunk at a time, not the bundle.
extension Replica {
    /// What a bundle holds, counted.
    struct BundleCount: Sendable, Equatable {
        var changes = 0
        var files = 0
        /// Changes of records restricted to groups, left out (the bundle is for every member).
        var restricted = 0
    }

    /// Writes everything the replica knows into `sealer`: its header (with the chain values it
    /// verified), the signed batches, every change of a record open to the whole team (those not
    /// known to be on the server marked for relaying), custody events and attached files' content.
    func writeBundle(_ sealer: inout BundleSealer, settings: ReplicaSettings, progress: ProgressLine) throws -> BundleCount {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let store = files
        return try read { db in
            var count = BundleCount()
            let verified = try Row.fetchAll(db, sql: "SELECT seq, chain FROM verified_chain ORDER BY seq DESC LIMIT 256").map {
                BundleHeader.Verified(seq: $0[0], chain: $0[1])
            }
            let header = BundleHeader(project: settings.project, creator: settings.node.rawValue, author: settings.user,
                                      createdAt: WallClock.millis(), verified: verified)
            try sealer.append(BundleRecord(.header, Array(try encoder.encode(header))))
            let batches = try Row.fetchCursor(db, sql: "SELECT id, node, digests, signature FROM batch")
            while let row = try batches.next() {
                guard let node = NodeID(row[1] as String), let digests = ChangeDigest.unpack(row[2] as Data) else { continue }
                let batch = SignedBatch(id: row[0], node: node, digests: digests, signature: Array(row[3] as Data))
                try sealer.append(BundleRecord(.batch, Array(try encoder.encode(batch))))
            }
            let restricted = try Replica.restrictedRecords(db)
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0
            var referenced = Set<String>()
            let rows = try Row.fetchCursor(db, sql: """
                SELECT record.id, change.collection, change.field, change.value, change.hlc, change.author, change.base,
                       change.supersedes, change.covers, change.seq, change.received_at, relay.hlc IS NOT NULL
                FROM change JOIN record ON record.key = change.record_key LEFT JOIN relay ON relay.hlc = change.hlc
                ORDER BY change.record_key, change.hlc
                """)
            // In the table's own order, record by record and oldest first within one (a change after the
            // ones it builds on): ordered by time alone, SQLite would sort every change in memory first.
            while let row = try rows.next() {
                guard !restricted.contains(row[0] as String) else {
                    count.restricted += 1
                    continue
                }
                let change = try Replica.storedChange(row)
                if case .files(let refs) = change.value { referenced.formUnion(refs.map(\.sha256)) }
                let carried = BundleChange(change: change, seq: row[9], receivedAt: UInt64(max(0, row[10] as Int64)), relay: row[11])
                try sealer.append(BundleRecord(.change, Array(try encoder.encode(carried))))
                count.changes += 1
                progress.update("writing changes", done: count.changes + count.restricted, total: total)
            }
            for event in try CustodyLog.all(db) where referenced.contains(event.sha256) {
                try sealer.append(BundleRecord(.custody, Array(try encoder.encode(event))))
            }
            count.files = try Replica.writeFiles(try FileCatalog.allHeld(db).filter { referenced.contains($0.sha256) }, store: store,
                                                 into: &sealer, progress: progress)
            return count
        }
    }

    /// Writes the content of `held` files into `sealer`, a chunk at a time; returns how many.
    private static func writeFiles(_ held: [(sha256: String, size: Int64)], store: FileStore, into sealer: inout BundleSealer,
                                   progress: ProgressLine) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = held.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        progress.start(bytes: 0)
        for file in held {
            try sealer.append(BundleRecord(.file, Array(try encoder.encode(BundleFile(sha256: file.sha256, size: file.size)))))
            // Each chunk is authenticated as it is read; the receiver checks the whole against the hash.
            let stored = try StoredFile(store: store, sha256: file.sha256, size: file.size)
            for index in 0..<stored.chunkCount {
                let chunk = try stored.chunk(index)
                try sealer.append(BundleRecord(.fileData, chunk))
                done += Int64(chunk.count)
                progress.bytes("writing files", done: done, total: bytes)
            }
        }
        return held.count
    }

    /// Records restricted to groups (their access heads name a group): a bundle is for every member, so it leaves them out.
    static func restrictedRecords(_ db: Database) throws -> Set<String> {
        var restricted = Set<String>()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT record.id, change.value FROM change JOIN record ON record.key = change.record_key
            WHERE change.field = ? AND change.head
            """, arguments: [Change.accessField])
        while let row = try rows.next() {
            if !AccessRule.groups(try StorageText.decodeValue(row[1])).isEmpty { restricted.insert(row[0]) }
        }
        return restricted
    }
}
