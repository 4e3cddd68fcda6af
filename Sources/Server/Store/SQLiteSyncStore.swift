import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The embedded store: one SQLite database in WAL mode, in the server's data folder.
///
/// GRDB's pool gives one writer and concurrent readers. Sequence numbers come from the
/// project's `last_seq`, read and bumped inside the write transaction, so they are visible in
/// commit order. Admin commands open the same file while `serve` runs; the busy timeout lets
/// them wait for each other. The tables are in `SQLiteMigrations`; pushes in `+Push`, pulls and
/// snapshots in `+Pull`, evidence files in `+Files` (their content in `DATA/files`, see
/// `FileFolder`), custody in `+Custody`, purges in `+Purge`.
final class SQLiteSyncStore: SyncStore {
    let pool: DatabasePool
    /// Test hook: makes the next write transaction fail, to check that nothing of it is kept.
    let faults: FaultInjector
    /// The content of evidence files, beside the database (`+Files`).
    let files: FileFolder
    /// The running hashes of uploads in progress.
    let hashers = UploadHashers()
    /// Chunks of one file are stored one at a time (by this process; the database's single writer orders the rest).
    let fileQueues = KeyedQueue()
    /// How many bytes of an upload are written between two flushes (`FileFolder.flushInterval`).
    let flushInterval: Int64

    /// The page cache of each reading connection, in KiB.
    static let readerCacheKiB = 8192

    /// Opens (creating if needed) the database `casebook.sqlite` in `folder`.
    init(folder: URL, faults: FaultInjector = FaultInjector(), flushInterval: Int64 = FileFolder.flushInterval) throws {
        self.flushInterval = flushInterval
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = folder.appendingPathComponent("casebook.sqlite").path
        var configuration = SQLiteTuning.configuration(setJournalToWAL: false)
        // Readers serve pages each read once: with the writer's 64 MB cache on each of them, the
        // server's memory grew with the store (every reader filled its own cache during a large
        // pull). 8 MB each bounds it; the operating system's cache still holds the file.
        configuration.prepareDatabase { db in
            if db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(SQLiteSyncStore.readerCacheKiB)") }
        }
        SQLiteTuning.apply()
        pool = try DatabasePool(path: path, configuration: configuration)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        self.faults = faults
        files = FileFolder(root: folder.appendingPathComponent("files", isDirectory: true))
        let migrator = SQLiteMigrations.migrator
        if try pool.read(migrator.hasBeenSuperseded) {
            throw StoreError.unavailable("the database in \(folder.path) was set up by a newer casebook-server: run that version (this one would misread it)")
        }
        if try pool.read({ db in try !migrator.appliedMigrations(db).isEmpty && !migrator.hasCompletedMigrations(db) }) {
            // One transaction (all or nothing); it rewrites the heads, so a large store takes a while.
            FileHandle.standardError.write(Data("upgrading the store in \(folder.path) to this version's format (once; a large store takes a minute)...\n".utf8))
        }
        try migrator.migrate(pool)
    }

    // MARK: Projects and users

    func createProject(name: String, schema: Schema, now: UInt64) async throws {
        let schemaText = String(decoding: try schema.jsonData(), as: UTF8.self)
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM project WHERE name = ?", arguments: [name]) == true {
                throw StoreError.conflict("a project named '\(name)' already exists")
            }
            try db.execute(sql: "INSERT INTO project (name, schema, created_at) VALUES (?, ?, ?)", arguments: [name, schemaText, now])
        }
    }

    func schema(project: String) async throws -> Schema? {
        let text = try await read { db in
            try String.fetchOne(db, sql: "SELECT schema FROM project WHERE name = ?", arguments: [project])
        }
        return try text.map { try StoredSchema.decode($0, project: project) }
    }

    func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws {
        try await write { db in
            guard let projectID = try Int64.fetchOne(db, sql: "SELECT id FROM project WHERE name = ?", arguments: [project]) else {
                throw StoreError.notFound("there is no project named '\(project)': create it with 'casebook-server project create \(project)'")
            }
            let userID: Int64
            if let row = try Row.fetchOne(db, sql: "SELECT id, revoked_at FROM user WHERE name = ?", arguments: [name]) {
                userID = row["id"]
                if row["revoked_at"] as Int64? != nil {
                    // Added again after a revocation: only the membership named now, with a new token.
                    try db.execute(sql: "UPDATE user SET revoked_at = NULL WHERE id = ?", arguments: [userID])
                    try db.execute(sql: "DELETE FROM member WHERE user_id = ?", arguments: [userID])
                }
            } else {
                try db.execute(sql: "INSERT INTO user (name, created_at) VALUES (?, ?)", arguments: [name, now])
                userID = db.lastInsertedRowID
            }
            try db.execute(
                sql: """
                    INSERT INTO member (user_id, project_id, role) VALUES (?, ?, ?)
                    ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role
                    """,
                arguments: [userID, projectID, role.rawValue])
            try db.execute(sql: "INSERT INTO token (hash, user_id, created_at) VALUES (?, ?, ?)", arguments: [tokenHash, userID, now])
        }
    }

    func revokeUser(name: String, now: UInt64) async throws {
        try await write { db in
            guard let userID = try Int64.fetchOne(db, sql: "SELECT id FROM user WHERE name = ?", arguments: [name]) else {
                throw StoreError.notFound("there is no user named '\(name)'")
            }
            try db.execute(sql: "UPDATE user SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [now, userID])
            try db.execute(sql: "DELETE FROM token WHERE user_id = ?", arguments: [userID])
        }
    }

    func revokeToken(user: String, tokenID: String) async throws {
        try await write { db in
            guard let userID = try Int64.fetchOne(db, sql: "SELECT id FROM user WHERE name = ?", arguments: [user]) else {
                throw StoreError.notFound("there is no user named '\(user)'")
            }
            let hashes = try Data.fetchAll(db, sql: "SELECT hash FROM token WHERE user_id = ?", arguments: [userID])
            let hash = try TokenHasher.select(hashes, id: tokenID, user: user)
            try db.execute(sql: "DELETE FROM token WHERE hash = ?", arguments: [hash])
        }
    }

    func removeMember(user: String, project: String) async throws {
        try await write { db in
            try db.execute(sql: """
                DELETE FROM member WHERE user_id = (SELECT id FROM user WHERE name = ?) AND project_id = (SELECT id FROM project WHERE name = ?)
                """, arguments: [user, project])
            guard db.changesCount == 1 else { throw StoreError.notFound("'\(user)' is not a member of project '\(project)'") }
        }
    }

    func authenticate(tokenHash: Data) async throws -> AuthenticatedUser? {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT user.id, user.name, token.hash FROM token JOIN user ON user.id = token.user_id
                    WHERE token.hash = ? AND user.revoked_at IS NULL
                    """,
                arguments: [tokenHash])
            guard let row, TokenHasher.constantTimeEquals(row["hash"], tokenHash) else { return nil }
            return AuthenticatedUser(id: row["id"], name: row["name"])
        }
    }

    func membership(userID: Int64, project: String) async throws -> Membership? {
        try await read { db in
            guard let row = try Row.fetchOne(
                db,
                sql: "SELECT member.role, project.id FROM member JOIN project ON project.id = member.project_id WHERE member.user_id = ? AND project.name = ?",
                arguments: [userID, project]), let role = Role(rawValue: row[0]) else { return nil }
            return Membership(project: project, role: role, groups: try Self.groups(db, userID: userID, projectID: row[1]), userID: userID)
        }
    }

    // MARK: Helpers

    /// The project's id and (unless `loadSchema` is false) its schema.
    static func project(_ db: Database, name: String, loadSchema: Bool = true) throws -> (Int64, Schema) {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, schema FROM project WHERE name = ?", arguments: [name]) else {
            throw StoreError.notFound("there is no project named '\(name)'")
        }
        let schema = loadSchema ? try StoredSchema.decode(row["schema"], project: name) : Schema.upr
        return (row["id"], schema)
    }

    /// Runs a read transaction, translating SQLite's busy and locked failures into a store error.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError where Self.isBusy(error) {
            throw StoreError.busy
        }
    }

    /// Runs a write transaction, translating SQLite's failures into store errors. With `fullIsStorage`
    /// (the file endpoints), a full disk is `.insufficientStorage` (507) rather than `.unavailable`.
    func write<T: Sendable>(fullIsStorage: Bool = false, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError where Self.isBusy(error) {
            throw StoreError.busy
        } catch let error as DatabaseError where fullIsStorage && error.resultCode == .SQLITE_FULL {
            throw StoreError.insufficientStorage("the server's disk is full: nothing of this request was kept; ask the server's admin to free space, then try again")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_IOERR {
            throw StoreError.unavailable("the database could not be written (\(error.resultCode)): check the disk of the server")
        }
    }

    /// Whether SQLite gave up waiting for another connection (the busy timeout ran out).
    static func isBusy(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }
}
