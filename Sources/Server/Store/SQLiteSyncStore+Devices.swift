import Foundation
import GRDB
import Shared
import SQLiteSupport

// Device keys and signed batches (docs/protocol.md, "Signatures").
extension SQLiteSyncStore {
    func registerDevice(project: String, node: NodeID, owner: String, signingKey: Data, agreement: DeviceAgreement?, now: UInt64) async throws {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            if let nodeOwner = try String.fetchOne(db, sql: "SELECT author FROM node WHERE project_id = ? AND node = ?", arguments: [projectID, node.rawValue]),
               nodeOwner != owner {
                throw StoreError.conflict(DeviceMessages.nodeTaken(node))
            }
            if let row = try Row.fetchOne(db, sql: "SELECT signing_key, agreement_key FROM device WHERE project_id = ? AND node = ?",
                                          arguments: [projectID, node.rawValue]) {
                guard row[0] as Data == signingKey else { throw StoreError.conflict(DeviceMessages.otherKey(node)) }
                guard let agreement else { return }
                if let stored = row[1] as Data? {
                    guard stored == agreement.key else { throw StoreError.conflict(DeviceMessages.otherKey(node)) }
                    return
                }
                try db.execute(sql: "UPDATE device SET agreement_key = ?, agreement_signature = ? WHERE project_id = ? AND node = ?",
                               arguments: [agreement.key, agreement.signature, projectID, node.rawValue])
                return
            }
            try db.execute(sql: "INSERT OR IGNORE INTO node (project_id, node, author) VALUES (?, ?, ?)", arguments: [projectID, node.rawValue, owner])
            try db.execute(sql: """
                INSERT INTO device (project_id, node, owner, signing_key, agreement_key, agreement_signature, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [projectID, node.rawValue, owner, signingKey, agreement?.key, agreement?.signature, now])
        }
    }

    func devices(project: String) async throws -> [Wire.Device] {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Row.fetchAll(db, sql: """
                SELECT node, owner, signing_key, registered_at, revoked_at, agreement_key, agreement_signature
                FROM device WHERE project_id = ? ORDER BY registered_at, node
                """, arguments: [projectID]).map { row in
                Wire.Device(node: row[0], owner: row[1], signingKey: (row[2] as Data).base64EncodedString(),
                            agreementKey: (row[5] as Data?)?.base64EncodedString(), agreementSignature: (row[6] as Data?)?.base64EncodedString(),
                            registeredAt: UInt64(row[3] as Int64), revokedAt: (row[4] as Int64?).map { UInt64($0) })
            }
        }
    }

    func revokeDevice(node: NodeID, project: String?, now: UInt64) async throws -> Int {
        try await write { db in
            try db.execute(sql: """
                UPDATE device SET revoked_at = ? WHERE node = ? AND revoked_at IS NULL
                AND (? IS NULL OR project_id = (SELECT id FROM project WHERE name = ?))
                """, arguments: [now, node.rawValue, project, project])
            return db.changesCount
        }
    }

    /// Stores batches not stored yet (a batch re-sent with a retried push is the same batch).
    static func storeBatches(_ batches: [SignedBatch], _ db: Database, projectID: Int64) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO batch (project_id, id, node, digests, signature) VALUES (?, ?, ?, ?, ?)")
        for batch in batches {
            try insert.execute(arguments: [projectID, batch.id, batch.node.rawValue, Data(ChangeDigest.pack(batch.digests)), Data(batch.signature)])
        }
    }

    /// The batches that hold these changes (each looked up by its HLC), and where the unsigned changes end.
    static func signatures(of changes: [Wire.LoggedChange], _ db: Database, projectID: Int64) throws -> (batches: [SignedBatch], unsignedUpTo: Int64) {
        let batchIDs = changes.isEmpty ? [] : try String.fetchAll(db, sql: """
            SELECT DISTINCT batch FROM change WHERE project_id = ? AND hlc IN (SELECT value FROM json_each(?)) AND batch IS NOT NULL
            """, arguments: [projectID, jsonArray(changes.map(\.change.hlc.text))])
        return try signatures(ofBatches: batchIDs, db, projectID: projectID)
    }

    /// The batches with these ids (a page's, read with its rows: no lookup per change), and where
    /// the unsigned changes end.
    static func signatures(ofBatches ids: [String], _ db: Database, projectID: Int64) throws -> (batches: [SignedBatch], unsignedUpTo: Int64) {
        let unsignedUpTo = try Int64.fetchOne(db, sql: "SELECT unsigned_up_to FROM project WHERE id = ?", arguments: [projectID]) ?? 0
        guard !ids.isEmpty else { return ([], unsignedUpTo) }
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, node, digests, signature FROM batch WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))
            """, arguments: [projectID, jsonArray(ids)])
        return (try rows.map(batch), unsignedUpTo)
    }

    private static func batch(_ row: Row) throws -> SignedBatch {
        guard let node = NodeID(row[1] as String), let digests = ChangeDigest.unpack(row[2] as Data) else {
            throw StoreDefect(description: "batch \(row[0] as String) is damaged in the store")
        }
        return SignedBatch(id: row[0], node: node, digests: digests, signature: Array(row[3] as Data))
    }
}

/// A device's X25519 agreement key (32 bytes) and the signature of its signing key over it.
struct DeviceAgreement: Sendable {
    var key: Data
    var signature: Data
}

/// The sentences both stores use about devices.
enum DeviceMessages {
    static func nodeTaken(_ node: NodeID) -> String {
        "replica node \(node) belongs to another user of this project: start a new replica with 'casebook init'"
    }

    static func otherKey(_ node: NodeID) -> String {
        "replica node \(node) is registered with another key: a device's key never changes; start a new replica with 'casebook init'"
    }
}

// The project's server agreement key, for bundles (docs/protocol.md, "Bundles").
extension SQLiteSyncStore {
    func agreementKey(project: String, made: [UInt8], now: UInt64) async throws -> [UInt8] {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            try db.execute(sql: "INSERT OR IGNORE INTO server_agreement_key (project_id, agreement_key, created_at) VALUES (?, ?, ?)",
                           arguments: [projectID, Data(made), Int64(clamping: now)])
            let stored = try Data.fetchOne(db, sql: "SELECT agreement_key FROM server_agreement_key WHERE project_id = ?", arguments: [projectID])
            return Array(stored ?? Data(made))
        }
    }
}
