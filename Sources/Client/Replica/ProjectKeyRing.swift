import Crypto
import Foundation
import GRDB
import Shared

/// The project keys this replica holds, and what the server last said of the project's keys
/// (docs/security.md, "Sensitive fields"). A key is `held` (the server has it: opened from a wrap
/// made for this device, or created here and accepted), `local` (created here for a first sensitive
/// edit, not yet offered to the server) or `lost` (created here while another member's came first:
/// kept only to re-seal the edits made with it).
struct ProjectKeyRing: Sendable {
    enum State: String, Sendable {
        case held, local, lost
    }

    /// Key bytes by id (`SymmetricKey` is not `Sendable`: one is made where a key is used).
    private(set) var secrets: [String: Data]
    private(set) var states: [String: State]
    /// The server's answer at the last sync (without wraps); nil before any.
    let server: Wire.ProjectKeys?

    /// No keys, and nothing heard from the server.
    static let empty = ProjectKeyRing(secrets: [:], states: [:], server: nil)

    /// The ring as the replica keeps it.
    static func load(_ db: Database) throws -> ProjectKeyRing {
        var secrets: [String: Data] = [:], states: [String: State] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, secret, state FROM project_key") {
            let id: String = row[0]
            secrets[id] = row[1] as Data
            states[id] = State(rawValue: row[2]) ?? .lost
        }
        let server = try Setting.get(.projectKeys, db).flatMap { try? JSONDecoder().decode(Wire.ProjectKeys.self, from: Data($0.utf8)) }
        return ProjectKeyRing(secrets: secrets, states: states, server: server)
    }

    /// Keeps a key (a key already kept changes only its state).
    static func store(_ id: String, secret: Data, state: State, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO project_key (id, secret, state) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
                       arguments: [id, secret, state.rawValue])
    }

    /// Keeps what the server said of the project's keys (its wraps are opened and kept as keys instead).
    static func storeServer(_ keys: Wire.ProjectKeys, _ db: Database) throws {
        var kept = keys
        kept.wraps = []
        kept.created = nil
        try Setting.set(.projectKeys, String(decoding: try JSONEncoder().encode(kept), as: UTF8.self), db)
    }

    /// The key new sensitive values are sealed with: the project's current key when this replica holds
    /// it; when the project has none yet (as last heard), a key made here (`local`, offered at the next
    /// sync). Without the current key, the error names who can grant it.
    mutating func sealingKey(field: String, collection: String, user: String, _ db: Database) throws -> (id: String, key: SymmetricKey) {
        if let current = server?.current {
            if let key = secret(current.id) { return (current.id, key) }
            throw Self.notGranted(field: field, collection: collection, user: user, holders: current.holders)
        }
        if let local = states.first(where: { $0.value == .local }), let key = secret(local.key) { return (local.key, key) }
        let id = ProjectKeyID.random(), key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        try Self.store(id, secret: bytes, state: .local, db)
        secrets[id] = bytes
        states[id] = .local
        return (id, key)
    }

    /// The error of an edit this replica cannot seal.
    static func notGranted(field: String, collection: String, user: String, holders: [String]) -> ClientError {
        let who = holders.isEmpty ? "a member who holds it" : "a member who holds it (\(holders.prefix(5).joined(separator: ", ")))"
        return ClientError("field '\(field)' of \(collection) is sensitive and this replica does not hold the project's key: "
                           + "ask \(who) to run 'casebook grant \(user)', then run 'casebook sync'")
    }

    /// A sensitive field's value as it reads, or nil when it is sealed with a key this replica does not
    /// hold (or was altered, or moved to another record or field).
    func open(_ sealed: SealedValue, place: SealedValue.Place) -> FieldValue? {
        secret(sealed.keyID).flatMap { sealed.open(key: $0, place: place) }
    }

    /// The key `id`, when this replica holds it (in any state).
    func secret(_ id: String) -> SymmetricKey? { secrets[id].map { SymmetricKey(data: $0) } }

    /// The keys in `state`.
    func keys(in state: State) -> [(id: String, key: SymmetricKey)] {
        states.filter { $0.value == state }.sorted { $0.key < $1.key }.compactMap { id, _ in secret(id).map { (id, $0) } }
    }
}
