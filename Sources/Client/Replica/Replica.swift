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
    /// The folder holding the database and the token.
    let home: URL
    /// One connection: a command is short-lived and sequential, and a second connection would
    /// only cost start-up time. Other processes are kept out by SQLite's locks (WAL mode).
    private let database: DatabaseQueue

    static let databaseName = "replica.sqlite"
    static let tokenName = "token"

    /// Opens an existing replica; the error says to run `casebook init` when there is none.
    static func open(home: URL) throws -> Replica {
        let path = home.appendingPathComponent(databaseName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ClientError("there is no replica in \(home.path): run 'casebook init --server URL --project NAME --token TOKEN' first")
        }
        return try Replica(home: home)
    }

    /// Creates a new replica in `home` (which must not hold one yet).
    static func create(home: URL, settings: [Setting: String], token: String) throws -> Replica {
        let path = home.appendingPathComponent(databaseName).path
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path)
        let tokenPath = home.appendingPathComponent(tokenName).path
        // Nothing half made: if any step fails, the files written so far are removed.
        func undo() {
            for name in [tokenName, databaseName, databaseName + "-wal", databaseName + "-shm"] {
                try? FileManager.default.removeItem(atPath: home.appendingPathComponent(name).path)
            }
        }
        guard FileManager.default.createFile(atPath: tokenPath, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClientError("cannot write the token file in \(home.path): check that the folder is writable")
        }
        do {
            let replica = try Replica(home: home)
            try replica.database.write { db in
                for (key, value) in settings { try Setting.set(key, value, db) }
            }
            return replica
        } catch {
            undo()
            throw error
        }
    }

    private init(home: URL) throws {
        self.home = home
        let configuration = SQLiteTuning.configuration(setJournalToWAL: true)
        let path = home.appendingPathComponent(Self.databaseName).path
        let oldMask = umask(0o077)
        defer { umask(oldMask) }
        do {
            SQLiteTuning.apply()
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw ClientError("cannot open the replica in \(home.path) (\(error.message ?? "\(error.resultCode)")): check the folder's permissions and free space")
        }
        try Self.migrate(database, in: home)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
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

    /// A read transaction run on the calling thread, for the replica's own operations and its tests.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try database.read(body)
    }

    /// A write transaction run on the calling thread, for the replica's own operations and its tests.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try database.write(body)
    }

    /// The token, read from its own file (never printed).
    func token() throws -> String {
        let path = home.appendingPathComponent(Self.tokenName).path
        guard let data = FileManager.default.contents(atPath: path),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else { throw ClientError("the token file \(path) is missing: run 'casebook init' again in a new --home") }
        return token
    }

    /// The replica's settings.
    func settings() throws -> ReplicaSettings {
        try database.read { db in try ReplicaSettings(db) }
    }
}
