import Foundation
import Logging
import PostgresNIO
import Shared

// Device keys and signed batches (docs/protocol.md, "Signatures").
extension PostgresSyncStore {
    func registerDevice(project: String, node: NodeID, owner: String, signingKey: Data, agreement: DeviceAgreement?, now: UInt64) async throws {
        try await transaction { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            // The node row is the lock that orders two registrations of one node.
            try await db.query("""
                INSERT INTO node (project_id, node, author) VALUES (\(projectID), \(node.rawValue), \(owner)) ON CONFLICT DO NOTHING
                """, logger: logger)
            let nodeOwner = try await db.query(
                "SELECT author FROM node WHERE project_id = \(projectID) AND node = \(node.rawValue) FOR UPDATE", logger: logger
            ).decode(String.self).collect().first
            guard nodeOwner == owner else { throw StoreError.conflict(DeviceMessages.nodeTaken(node)) }
            if let (key, stored) = try await db.query(
                "SELECT signing_key, agreement_key FROM device WHERE project_id = \(projectID) AND node = \(node.rawValue)", logger: logger
            ).decode((Data, Data?).self).collect().first {
                guard key == signingKey else { throw StoreError.conflict(DeviceMessages.otherKey(node)) }
                guard let agreement else { return }
                if let stored {
                    guard stored == agreement.key else { throw StoreError.conflict(DeviceMessages.otherKey(node)) }
                    return
                }
                try await db.query("""
                    UPDATE device SET agreement_key = \(agreement.key), agreement_signature = \(agreement.signature)
                    WHERE project_id = \(projectID) AND node = \(node.rawValue)
                    """, logger: logger)
                return
            }
            try await db.query("""
                INSERT INTO device (project_id, node, owner, signing_key, agreement_key, agreement_signature, registered_at)
                VALUES (\(projectID), \(node.rawValue), \(owner), \(signingKey), \(agreement?.key), \(agreement?.signature), \(Int64(now)))
                """, logger: logger)
        }
    }

    func devices(project: String) async throws -> [Wire.Device] {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            var devices: [Wire.Device] = []
            for try await (node, owner, key, registered, revoked, agreement, signature) in try await db.query("""
                SELECT node, owner, signing_key, registered_at, revoked_at, agreement_key, agreement_signature
                FROM device WHERE project_id = \(projectID) ORDER BY registered_at, node
                """, logger: logger).decode((String, String, Data, Int64, Int64?, Data?, Data?).self) {
                devices.append(Wire.Device(node: node, owner: owner, signingKey: key.base64EncodedString(),
                                           agreementKey: agreement?.base64EncodedString(), agreementSignature: signature?.base64EncodedString(),
                                           registeredAt: UInt64(registered), revokedAt: revoked.map { UInt64($0) }))
            }
            return devices
        }
    }

    func revokeDevice(node: NodeID, project: String?, now: UInt64) async throws -> Int {
        try await transaction { db, logger in
            try await db.query("""
                UPDATE device SET revoked_at = \(Int64(now)) WHERE node = \(node.rawValue) AND revoked_at IS NULL
                AND (\(project)::text IS NULL OR project_id = (SELECT id FROM project WHERE name = \(project)))
                RETURNING 1
                """, logger: logger).decode(Int.self).collect().count
        }
    }

    /// Stores batches not stored yet (a batch re-sent with a retried push is the same batch).
    static func storeBatches(_ batches: [SignedBatch], _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        for batch in batches {
            let digests = Data(ChangeDigest.pack(batch.digests))
            try await db.query("""
                INSERT INTO batch (project_id, id, node, digests, signature)
                VALUES (\(projectID), \(batch.id), \(batch.node.rawValue), \(digests), \(Data(batch.signature))) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// The batches that hold these changes (each looked up by its HLC), and where the unsigned changes end.
    static func signatures(of changes: [Wire.LoggedChange], _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws -> (batches: [SignedBatch], unsignedUpTo: Int64) {
        let ids = changes.isEmpty ? [] : try await db.query(batchIDsQuery(changes.map(\.change.hlc.text), projectID: projectID), logger: logger)
            .decode(String.self).collect()
        return try await signatures(ofBatches: ids, db, projectID: projectID, logger: logger)
    }

    /// The batches with these ids (a page's, read with its rows: no lookup per change), and where
    /// the unsigned changes end.
    static func signatures(ofBatches ids: [String], _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws -> (batches: [SignedBatch], unsignedUpTo: Int64) {
        let unsignedUpTo = try await db.query("SELECT unsigned_up_to FROM project WHERE id = \(projectID)", logger: logger)
            .decode(Int64.self).collect().first ?? 0
        guard !ids.isEmpty else { return ([], unsignedUpTo) }
        var batches: [SignedBatch] = []
        for try await (id, node, digests, signature) in try await db.query(batchesQuery(ids: ids, projectID: projectID), logger: logger)
            .decode((String, String, Data, Data).self) {
            guard let nodeID = NodeID(node), let digests = ChangeDigest.unpack(digests) else { throw StoreDefect(description: "batch \(id) is damaged in the store") }
            batches.append(SignedBatch(id: id, node: nodeID, digests: digests, signature: Array(signature)))
        }
        return (batches, unsignedUpTo)
    }
}

// The project's server agreement key, for bundles (docs/protocol.md, "Bundles").
extension PostgresSyncStore {
    func agreementKey(project: String, made: [UInt8], now: UInt64) async throws -> [UInt8] {
        try await transaction { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            try await db.query("""
                INSERT INTO server_agreement_key (project_id, agreement_key, created_at) VALUES (\(projectID), \(Data(made)), \(Int64(clamping: now)))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            let stored = try await db.query("SELECT agreement_key FROM server_agreement_key WHERE project_id = \(projectID)", logger: logger)
                .decode(Data.self).collect().first
            return Array(stored ?? Data(made))
        }
    }
}
