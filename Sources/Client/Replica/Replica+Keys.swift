import Crypto
import Foundation
import GRDB
import Shared

/// The project keys of sensitive fields in the replica (docs/security.md, "Sensitive fields").
extension Replica {
    /// The rejection code of a pending edit sealed with a key the project did not adopt, which this
    /// replica cannot re-seal yet (it does not hold the current key).
    static let sealedKeyCode = "sealed_key"

    /// The keys this replica holds and what the server last said of them.
    func keyRing() async throws -> ProjectKeyRing {
        try await read { db in try ProjectKeyRing.load(db) }
    }

    /// Whether a sync must ask the server for the project's keys: never asked yet; a key made here to
    /// offer; the current key not held (waiting for a grant); sealed edits to push (which must use the
    /// current key); or `pulled` sealed values of a key this replica does not hold (a rotation, a grant).
    func needsKeys(pulled: Set<String>) async throws -> Bool {
        try await read { db in
            let ring = try ProjectKeyRing.load(db)
            guard let server = ring.server else { return true }
            if !ring.keys(in: .local).isEmpty || pulled.contains(where: { ring.secret($0) == nil }) { return true }
            if let current = server.current, ring.secret(current.id) == nil { return true }
            return try Bool.fetchOne(db, sql: "SELECT 1 FROM outbox WHERE value LIKE ? LIMIT 1", arguments: ["t:" + SealedValue.prefix + "%"]) ?? false
        }
    }

    /// Keeps keys opened from wraps (as held), marks the outcome of offering a local key, and keeps
    /// the server's answer; then re-seals the pending edits sealed with a key the project does not
    /// have, or holds them back (`sealedKeyCode`) until this replica gets the current key.
    func adoptKeys(_ answer: Wire.ProjectKeys, opened: [String: Data], settled: [String: ProjectKeyRing.State],
                   project: String, schema: Schema) async throws {
        try await write { db in
            for (id, key) in opened { try ProjectKeyRing.store(id, secret: key, state: .held, db) }
            for (id, state) in settled { try db.execute(sql: "UPDATE project_key SET state = ? WHERE id = ?", arguments: [state.rawValue, id]) }
            try ProjectKeyRing.storeServer(answer, db)
            try Replica.reseal(project: project, schema: schema, db)
        }
    }

    /// Re-seals every pending edit whose sealed value uses a key the server does not know (made here, not
    /// adopted) with the current key, or marks it held back when this replica does not hold that key.
    private static func reseal(project: String, schema: Schema, _ db: Database) throws {
        let ring = try ProjectKeyRing.load(db)
        // Only a key made here can be one the server does not know: without one, nothing to re-seal.
        guard !ring.keys(in: .local).isEmpty || !ring.keys(in: .lost).isEmpty else { return }
        let known = Set(ring.server?.keys.map(\.id) ?? [])
        let current = ring.server?.current
        for entry in try OutboxEntry.fetch("ORDER BY outbox.hlc", db) {
            guard schema.collection(entry.collection)?.field(entry.field)?.sensitive == true, case .text(let text) = entry.value,
                  let sealed = SealedValue(text: text), !known.contains(sealed.keyID) else { continue }
            let place = SealedValue.Place(project: project, collection: entry.collection, record: entry.record, field: entry.field)
            if let current, let key = ring.secret(current.id), let value = ring.open(sealed, place: place) {
                let resealed = try SealedValue(sealing: value, key: key, keyID: current.id, place: place)
                try db.execute(sql: "UPDATE outbox SET value = ?, rejected_code = NULL, rejected_reason = NULL WHERE record_key = ? AND field = ?",
                               arguments: [StorageText.encode(.text(resealed.text)), entry.recordKey, entry.field])
                try Replica.refresh(record: entry.record, schema: schema, db)
            } else if entry.rejectedCode == nil {
                let holders = current?.holders ?? []
                let reason = "sealed with a project key another member's came before: "
                    + ProjectKeyRing.notGranted(field: entry.field, collection: entry.collection, user: try Setting.get(.user, db) ?? "USER", holders: holders).message
                try OutboxEntry.markRejected(entry, code: sealedKeyCode, reason: reason, db)
            }
        }
    }
}
