import Foundation
import Logging
import PostgresNIO
import Shared

// Project keys, as wrapped copies only (docs/protocol.md, "Sensitive fields").
extension PostgresSyncStore {
    func projectKeys(project: String, owner: String) async throws -> Wire.ProjectKeys {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            return try await Self.projectKeys(db, projectID: projectID, owner: owner, logger: logger)
        }
    }

    func createProjectKey(project: String, creation: Wire.KeyCreation, creator: String, now: UInt64) async throws -> Bool {
        try await transaction { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            let current = try await db.query("""
                SELECT id, position FROM project_key WHERE project_id = \(projectID) ORDER BY position DESC LIMIT 1
                """, logger: logger).decode((String, Int64).self).collect().first
            guard current?.0 == creation.previous else { return false }
            // Two creations at once both find the same current key; the unique position lets one insert.
            let inserted = try await db.query("""
                INSERT INTO project_key (project_id, id, position, created_by, created_at)
                VALUES (\(projectID), \(creation.id), \((current?.1 ?? 0) + 1), \(creator), \(Int64(now))) ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger).decode(Int.self).collect()
            guard !inserted.isEmpty else { return false }
            try await Self.insertWraps(creation.wraps, db, projectID: projectID, now: now, logger: logger)
            return true
        }
    }

    func addKeyWraps(project: String, keyID: String, wraps: [Wire.KeyWrap], now: UInt64) async throws {
        try await transaction { db, logger in
            let (projectID, _) = try await Self.project(db, name: project, logger: logger)
            let known = try await db.query("SELECT 1 FROM project_key WHERE project_id = \(projectID) AND id = \(keyID)", logger: logger)
                .decode(Int.self).collect()
            guard !known.isEmpty else { throw StoreError.notFound(KeyMessages.unknownKey(keyID)) }
            try await Self.insertWraps(wraps, db, projectID: projectID, now: now, logger: logger)
        }
    }

    private static func insertWraps(_ wraps: [Wire.KeyWrap], _ db: PostgresConnection, projectID: Int64, now: UInt64, logger: Logger) async throws {
        for wrap in wraps {
            let wrapped = Data(base64Encoded: wrap.wrapped) ?? Data(), signature = Data(base64Encoded: wrap.signature) ?? Data()
            try await db.query("""
                INSERT INTO key_wrap (project_id, key_id, node, wrapped, granter, signature, granted_at)
                VALUES (\(projectID), \(wrap.keyID), \(wrap.node), \(wrapped), \(wrap.granter), \(signature), \(Int64(now))) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    private static func projectKeys(_ db: PostgresConnection, projectID: Int64, owner: String, logger: Logger) async throws -> Wire.ProjectKeys {
        var holders: [String: [String]] = [:]
        for try await (keyID, holder) in try await db.query("""
            SELECT DISTINCT key_wrap.key_id, device.owner FROM key_wrap
            JOIN device ON device.project_id = key_wrap.project_id AND device.node = key_wrap.node
            WHERE key_wrap.project_id = \(projectID) AND device.revoked_at IS NULL ORDER BY device.owner
            """, logger: logger).decode((String, String).self) {
            holders[keyID, default: []].append(holder)
        }
        var keys: [Wire.ProjectKeyInfo] = []
        for try await (id, createdBy, createdAt) in try await db.query("""
            SELECT id, created_by, created_at FROM project_key WHERE project_id = \(projectID) ORDER BY position
            """, logger: logger).decode((String, String, Int64).self) {
            keys.append(Wire.ProjectKeyInfo(id: id, createdBy: createdBy, createdAt: UInt64(createdAt), holders: holders[id] ?? []))
        }
        var wraps: [Wire.KeyWrap] = []
        for try await (keyID, node, wrapped, granter, signature) in try await db.query("""
            SELECT key_wrap.key_id, key_wrap.node, key_wrap.wrapped, key_wrap.granter, key_wrap.signature FROM key_wrap
            JOIN device ON device.project_id = key_wrap.project_id AND device.node = key_wrap.node
            WHERE key_wrap.project_id = \(projectID) AND device.owner = \(owner) AND device.revoked_at IS NULL
            ORDER BY key_wrap.key_id, key_wrap.node
            """, logger: logger).decode((String, String, Data, String, Data).self) {
            wraps.append(Wire.KeyWrap(keyID: keyID, node: node, wrapped: wrapped.base64EncodedString(), granter: granter,
                                      signature: signature.base64EncodedString()))
        }
        let members = try await db.query("""
            SELECT account.name FROM member JOIN account ON account.id = member.user_id
            WHERE member.project_id = \(projectID) AND account.revoked_at IS NULL ORDER BY account.name
            """, logger: logger).decode(String.self).collect()
        return Wire.ProjectKeys(keys: keys, wraps: wraps, members: members)
    }
}
