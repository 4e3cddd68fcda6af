import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The local replica: one SQLite database (WAL) in the home folder, owning its migrator.
///
/// Sources of truth are the `change` log (everything pulled or acknowledged, with history,
/// each change flagged `head` while it is one of the current versions of its field as the merge
/// rule leaves them), and the `outbox` (local edits not yet accepted, one per field). Everything
/// a read needs — the visible values with pending edits on top, the search keys, the open
/// conflicts — is derived per record by `refresh(record:)` whenever one of those sources changes.
/// Records are known by their ids everywhere but inside the database, where the `record` table
/// gives each a local integer `key` that the per-change tables are keyed by.
final class Replica: Sendable {
    /// The folder holding the database (and, when encrypted, its key file).
    let home: URL
    /// One connection: a command is short-lived and sequential, and a second connection would
    /// only cost start-up time. Other processes are kept out by SQLite's locks (WAL mode).
    private let database: DatabaseQueue
    /// The path whose key this replica registered with the page cipher (nil: plaintext or in memory).
    private let encryptedPath: String?
    /// The content of attached files (sealed with keys derived from the data key when encrypted).
    let files: FileStore

    /// The database of a plaintext replica (made by an older version, or with `--no-passphrase`).
    static let databaseName = "replica.sqlite"
    /// The database of an encrypted replica, beside its key file (`KeyFile`).
    static let encryptedDatabaseName = "replica.db"
    /// Where older versions kept the token, in plain text (read as a fallback).
    static let tokenName = "token"

    /// Opens an existing replica: an encrypted one with its data `key` (verified against the key file
    /// first), a plaintext one without. The error says to run `casebook init` when there is none.
    static func open(home: URL, key: DataKey? = nil) throws -> Replica {
        switch kind(home: home) {
        case .none:
            throw ClientError("there is no replica in \(home.path): run 'casebook init --server URL --project NAME --token TOKEN' first")
        case .plaintext:
            removeAbandonedEncryption(home)
            FileStore.removeSealedFolder(home: home)
            return try Replica(home: home, key: nil)
        case .encrypted:
            guard let key else { throw lockedError(home) }
            guard let keyFile = try KeyFile.read(home: home), keyFile.verify(key) else { throw wrongKeyError(home) }
            let replica = try Replica(home: home, key: key)
            try replica.finishEncryption()
            return replica
        }
    }

    /// Creates a new replica in `home` (which must not hold one yet): encrypted with `key` (the data key
    /// `KeyFile.create` returned), or plaintext when `key` is nil. The token is kept in the database.
    @discardableResult
    static func create(home: URL, settings: [Setting: String], token: String, key: DataKey? = nil) throws -> Replica {
        guard kind(home: home) == .none else {
            throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path)
        do {
            let replica = try Replica(home: home, key: key)
            try replica.database.write { db in
                for (key, value) in settings.merging([.token: token], uniquingKeysWith: { _, new in new }) { try Setting.set(key, value, db) }
            }
            return replica
        } catch {
            // Nothing half made: the files written so far are removed.
            let name = key == nil ? databaseName : encryptedDatabaseName
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: home.appendingPathComponent(name + suffix).path)
            }
            throw error
        }
    }

    /// Creates a new encrypted replica: a key file with a new data key wrapped under `passphrase`, then
    /// the database. If any step fails, neither is left.
    @discardableResult
    static func createEncrypted(home: URL, settings: [Setting: String], token: String, passphrase: some PassphraseBytes) throws -> Replica {
        guard kind(home: home) == .none else {
            throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
        }
        let (_, key) = try KeyFile.create(home: home, passphrase: passphrase)
        do {
            return try create(home: home, settings: settings, token: token, key: key)
        } catch {
            try? KeyFile.destroy(home: home)
            throw error
        }
    }

    private init(home: URL, key: DataKey?) throws {
        self.home = home
        let path = home.appendingPathComponent(key == nil ? Self.databaseName : Self.encryptedDatabaseName).path
        let configuration = key == nil ? SQLiteTuning.configuration(setJournalToWAL: true) : DatabaseCipher.configuration()
        let oldMask = umask(0o077)
        defer { umask(oldMask) }
        files = FileStore(home: home, cipher: try key.map { try FileCipher(dataKey: $0) })
        if let key { try DatabaseCipher.register(databasePath: path, key: key) }
        encryptedPath = key == nil ? nil : path
        do {
            SQLiteTuning.apply()
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            if key != nil { DatabaseCipher.forget(databasePath: path) }
            throw ClientError("cannot open the replica in \(home.path) (\(error.message ?? "\(error.resultCode)")): check the folder's permissions and free space")
        }
        try Self.migrate(database, in: home)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    deinit {
        if let encryptedPath { DatabaseCipher.forget(databasePath: encryptedPath) }
    }

    /// A replica held in memory, for tests: the same migrations and operations, and no file at all
    /// (`home` is only named in messages; the token is not kept).
    static func inMemory(home: URL, settings: [Setting: String]) throws -> Replica {
        let replica = try Replica(inMemory: home)
        try replica.database.write { db in
            for (key, value) in settings { try Setting.set(key, value, db) }
        }
        return replica
    }

    private init(inMemory home: URL) throws {
        self.home = home
        encryptedPath = nil
        files = FileStore(home: home, cipher: nil)
        SQLiteTuning.apply()
        database = try DatabaseQueue()
        try Self.migrate(database, in: home)
    }

    /// Brings the database to this version's tables; refuses one upgraded by a newer version.
    private static func migrate(_ database: DatabaseQueue, in home: URL) throws {
        do {
            let migrator = ReplicaMigrations.migrator
            let (superseded, upgrading) = try database.read { db in
                (try migrator.hasBeenSuperseded(db), try !migrator.appliedMigrations(db).isEmpty && !migrator.hasCompletedMigrations(db))
            }
            guard !superseded else {
                throw ClientError("the replica in \(home.path) was upgraded by a newer casebook: use that version (this one would misread it)")
            }
            if upgrading {
                // Rewrites the tables once, in one transaction (all or nothing): a minute for a large replica.
                FileHandle.standardError.write(Data("upgrading the replica in \(home.path) to this version's format (once; a large replica takes a minute)...\n".utf8))
            }
            try migrator.migrate(database)
        } catch let error as DatabaseError {
            throw ClientError("cannot open the replica in \(home.path) (\(error.message ?? "\(error.resultCode)")): check the folder's permissions and free space")
        }
    }

    /// A read transaction, for the replica's own operations (the `Replica+*.swift` files): commands,
    /// the syncer and the importer call those named operations instead, never SQL.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await database.read(body)
    }

    /// A write transaction (all or nothing), for the replica's own operations, like `read`.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await database.write(body)
    }

    /// Statements outside a transaction (pragmas, checkpoints), for the replica's own operations.
    func outsideTransaction<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await database.writeWithoutTransaction(body)
    }

    /// A read transaction run on the calling thread, for the replica's own operations and its tests.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try database.read(body)
    }

    /// A write transaction run on the calling thread, for the replica's own operations and its tests.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try database.write(body)
    }

    /// The token (never printed): a setting, or the file `token` of a replica made by an older version.
    func token() throws -> String {
        if let token = try database.read({ db in try Setting.get(.token, db) }), !token.isEmpty { return token }
        let path = home.appendingPathComponent(Self.tokenName).path
        guard let data = FileManager.default.contents(atPath: path),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else { throw ClientError("the token file \(path) is missing: run 'casebook init' again in a new --home") }
        return token
    }

    /// Whether the user chose an unencrypted replica (`init --no-passphrase`): no warning for it then.
    func plaintextByChoice() throws -> Bool {
        try database.read { db in try Setting.get(.encryption, db) == "off" }
    }

    /// The replica's settings.
    func settings() throws -> ReplicaSettings {
        try database.read { db in try ReplicaSettings(db) }
    }
}
