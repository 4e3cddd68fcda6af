import Foundation
import GRDB
import Shared

// Project keys, as wrapped copies only (docs/protocol.md, "Sensitive fields").
extension SQLiteSyncStore {
    func projectKeys(project: String, owner: String) async throws -> Wire.ProjectKeys {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Self.projectKeys(db, projectID: projectID, owner: owner)
        }
    }

    func createProjectKey(project: String, creation: Wire.KeyCreation, creator: String, now: UInt64) async throws -> Bool {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let current = try Row.fetchOne(db, sql: "SELECT id, position FROM project_key WHERE project_id = ? ORDER BY position DESC LIMIT 1",
                                           arguments: [projectID])
            // The write transaction orders two creations: the second finds the first's key current.
            guard current?["id"] as String? == creation.previous else { return false }
            let position = (current?["position"] as Int64? ?? 0) + 1
            try db.execute(sql: "INSERT INTO project_key (project_id, id, position, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [projectID, creation.id, position, creator, now])
            try Self.insertWraps(creation.wraps, db, projectID: projectID, now: now)
            return true
        }
    }

    func addKeyWraps(project: String, keyID: String, wraps: [Wire.KeyWrap], now: UInt64) async throws {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM project_key WHERE project_id = ? AND id = ?", arguments: [projectID, keyID]) != nil else {
                throw StoreError.notFound(KeyMessages.unknownKey(keyID))
            }
            try Self.insertWraps(wraps, db, projectID: projectID, now: now)
        }
    }

    private static func insertWraps(_ wraps: [Wire.KeyWrap], _ db: Database, projectID: Int64, now: UInt64) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO key_wrap (project_id, key_id, node, wrapped, granter, signature, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for wrap in wraps {
            try insert.execute(arguments: [projectID, wrap.keyID, wrap.node, Data(base64Encoded: wrap.wrapped) ?? Data(),
                                           wrap.granter, Data(base64Encoded: wrap.signature) ?? Data(), now])
        }
    }

    private static func projectKeys(_ db: Database, projectID: Int64, owner: String) throws -> Wire.ProjectKeys {
        let holders = try Row.fetchAll(db, sql: """
            SELECT DISTINCT key_wrap.key_id, device.owner FROM key_wrap
            JOIN device ON device.project_id = key_wrap.project_id AND device.node = key_wrap.node
            WHERE key_wrap.project_id = ? AND device.revoked_at IS NULL ORDER BY device.owner
            """, arguments: [projectID]).reduce(into: [String: [String]]()) { $0[$1[0] as String, default: []].append($1[1]) }
        let keys = try Row.fetchAll(db, sql: "SELECT id, created_by, created_at FROM project_key WHERE project_id = ? ORDER BY position",
                                    arguments: [projectID]).map { row in
            Wire.ProjectKeyInfo(id: row[0], createdBy: row[1], createdAt: UInt64(row[2] as Int64), holders: holders[row[0] as String] ?? [])
        }
        let wraps = try Row.fetchAll(db, sql: """
            SELECT key_wrap.key_id, key_wrap.node, key_wrap.wrapped, key_wrap.granter, key_wrap.signature FROM key_wrap
            JOIN device ON device.project_id = key_wrap.project_id AND device.node = key_wrap.node
            WHERE key_wrap.project_id = ? AND device.owner = ? AND device.revoked_at IS NULL ORDER BY key_wrap.key_id, key_wrap.node
            """, arguments: [projectID, owner]).map { row in
            Wire.KeyWrap(keyID: row[0], node: row[1], wrapped: (row[2] as Data).base64EncodedString(), granter: row[3],
                         signature: (row[4] as Data).base64EncodedString())
        }
        let members = try String.fetchAll(db, sql: """
            SELECT user.name FROM member JOIN user ON user.id = member.user_id WHERE member.project_id = ? AND user.revoked_at IS NULL ORDER BY user.name
            """, arguments: [projectID])
        return Wire.ProjectKeys(keys: keys, wraps: wraps, members: members)
    }
}

/// The sentences both stores use about project keys.
enum KeyMessages {
    static func unknownKey(_ id: String) -> String {
        "the project has no key \(id.prefix(16)): sync, then try again"
    }
}
