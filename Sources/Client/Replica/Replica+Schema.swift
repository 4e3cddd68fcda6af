import Foundation
import GRDB
import Shared

/// Schema versions (docs/protocol.md, "Schema versions"): the replica keeps the project's schema
/// as a setting and takes a newer version during a sync.
extension Replica {
    /// Makes `schema` the replica's. When changes made with `previous` are still pending, remembers
    /// that version, so their push tells the server they were made with it.
    func adoptSchema(_ schema: Schema, previous: Schema) async throws {
        let text = String(decoding: try schema.jsonData(), as: UTF8.self)
        try await write { db in
            try Setting.set(.schema, text, db)
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0
            if pending > 0, try Setting.get(.outboxSchemaVersion, db) == nil {
                try Setting.set(.outboxSchemaVersion, String(previous.version), db)
            }
        }
    }

    /// The schema version a push names: the oldest its pending changes were made with. Once the
    /// outbox is empty, the replica's own version again.
    func pushSchemaVersion(current: Schema) async throws -> Int {
        try await write { db in
            guard let text = try Setting.get(.outboxSchemaVersion, db), let version = Int(text) else { return current.version }
            if try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 == 0 {
                try Setting.set(.outboxSchemaVersion, nil, db)
                return current.version
            }
            return min(version, current.version)
        }
    }
}
