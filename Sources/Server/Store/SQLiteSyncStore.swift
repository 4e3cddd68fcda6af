import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The embedded store: one SQLite database in WAL mode, in the server's data folder.
///
/// GRDB's pool gives one writer and concurrent readers. Sequence numbers come from the
/// project's `last_seq`, read and bumped inside the write transaction, so they are visible in
/// commit order. Admin commands open the same file while `serve` runs; the busy timeout lets
/// them wait for each other.
final class SQLiteSyncStore: SyncStore {
    let pool: DatabasePool
    /// Test hook: makes the next write transaction fail, to check that nothing of it is kept.
    let faults: FaultInjector

    /// Opens (creating if needed) the database `casebook.sqlite` in `folder`.
    init(folder: URL, faults: FaultInjector = FaultInjector()) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = folder.appendingPathComponent("casebook.sqlite").path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Checkpoint every 40 MB of WAL instead of 4 MB: far fewer fsyncs during a large sync.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        SQLiteTuning.apply()
        pool = try DatabasePool(path: path, configuration: configuration)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        self.faults = faults
        let migrator = SQLiteSchema.migrator
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
        let text = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT schema FROM project WHERE name = ?", arguments: [project])
        }
        return try text.map { try Schema.fromJSON(Data($0.utf8)) }
    }

    func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws {
        try await write { db in
            guard let projectID = try Int64.fetchOne(db, sql: "SELECT id FROM project WHERE name = ?", arguments: [project]) else {
                throw StoreError.notFound("there is no project named '\(project)': create it with 'casebook-server project create \(project)'")
            }
            let userID: Int64
            if let row = try Row.fetchOne(db, sql: "SELECT id, revoked_at FROM user WHERE name = ?", arguments: [name]) {
                guard row["revoked_at"] as Int64? == nil else {
                    throw StoreError.conflict("user '\(name)' was revoked; add them under a new name")
                }
                userID = row["id"]
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

    func authenticate(tokenHash: Data) async throws -> AuthenticatedUser? {
        try await pool.read { db in
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
        try await pool.read { db in
            let role = try String.fetchOne(
                db,
                sql: "SELECT member.role FROM member JOIN project ON project.id = member.project_id WHERE member.user_id = ? AND project.name = ?",
                arguments: [userID, project])
            return role.flatMap(Role.init(rawValue:)).map { Membership(project: project, role: $0) }
        }
    }

    // MARK: Sync

    func push(project: String, changes: [Change], author: String, policy: PushPolicy) async throws -> [Wire.ChangeResult] {
        try await write { db in
            let (projectID, schema) = try Self.project(db, name: project)
            let context = try SQLiteSchema.loadContext(db, projectID: projectID, changes: changes)
            let plan = PushPlanner.plan(changes, schema: schema, author: author, policy: policy, context: context)
            try SQLiteSchema.write(plan, db, projectID: projectID)
            try self.faults.check("push")
            return plan.results
        }
    }

    func pull(project: String, after: Int64, limit: Int, skip: OwnChanges?) async throws -> PullPage {
        try await pool.read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            // Read in the same transaction as the page, so the cursor never passes an unseen change.
            let latest = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
            guard after <= latest else { throw StoreError.cursorAhead(after: after, latest: latest) }
            var changes: [Wire.LoggedChange]
            if let skip {
                // The node is the part of the HLC text after "MMMMMMMMMMMM-CCCC-" (character 19 on).
                changes = try SQLiteSchema.loggedChanges(
                    db, sql: "SELECT \(SQLiteSchema.changeColumns) FROM change WHERE project_id = ? AND seq > ? AND NOT (seq <= ? AND substr(hlc, 19) = ?) ORDER BY seq LIMIT ?",
                    arguments: [projectID, after, skip.upTo, skip.node.rawValue, limit + 1])
            } else {
                changes = try SQLiteSchema.loggedChanges(
                    db, sql: "SELECT \(SQLiteSchema.changeColumns) FROM change WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                    arguments: [projectID, after, limit + 1])
            }
            let more = changes.count > limit
            if more { changes.removeLast() }
            // A full page ends at its last change; otherwise everything up to `latest` was considered.
            let cursor = more ? (changes.last?.seq ?? after) : max(after, latest)
            let conflicts = cursor > after
                ? try SQLiteSchema.conflictStates(db, projectID: projectID, after: after, upTo: cursor) : []
            return PullPage(changes: changes, conflicts: conflicts, cursor: cursor, more: more, latest: max(latest, cursor))
        }
    }

    func snapshot(project: String, after: HLC?, limit: Int) async throws -> SnapshotPage {
        try await pool.read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let since = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
            var changes = try SQLiteSchema.loggedChanges(
                db,
                sql: """
                    SELECT \(SQLiteSchema.changeColumns) FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
                    WHERE head.project_id = ? AND head.hlc > ? ORDER BY head.hlc LIMIT ?
                    """,
                arguments: [projectID, after?.text ?? "", limit + 1])
            let more = changes.count > limit
            if more { changes.removeLast() }
            let total = after == nil ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM head WHERE project_id = ?", arguments: [projectID]) : nil
            return SnapshotPage(changes: changes, since: since, next: more ? changes.last?.change.hlc : nil, total: total)
        }
    }

    // MARK: Backup

    /// Copies the database to `target` with SQLite's online backup (writers go on meanwhile), into
    /// a temporary file first, checked, then renamed: a failed backup leaves nothing behind.
    func backup(to target: URL) throws -> (projects: Int, changes: Int) {
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            let copy = try DatabaseQueue(path: partial.path)
            try pool.backup(to: copy)
            let summary = try copy.read { db in
                guard try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"] else {
                    throw StoreError.unavailable("the backup copy failed its integrity check: try again, and check the disk")
                }
                return (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM project") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0)
            }
            try copy.close()
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial.path)
            try FileManager.default.moveItem(at: partial, to: target)
            return summary
        } catch {
            try? FileManager.default.removeItem(at: partial)
            if let error = error as? StoreError { throw error }
            throw StoreError.unavailable("the backup to \(target.path) failed: \(error.localizedDescription)")
        }
    }

    // MARK: Helpers

    private static func project(_ db: Database, name: String, loadSchema: Bool = true) throws -> (Int64, Schema) {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, schema FROM project WHERE name = ?", arguments: [name]) else {
            throw StoreError.notFound("there is no project named '\(name)'")
        }
        let schema = loadSchema ? try Schema.fromJSON(Data((row["schema"] as String).utf8)) : Schema.upr
        return (row["id"], schema)
    }

    /// Runs a write transaction, translating SQLite's failures into store errors.
    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw StoreError.unavailable("the database is busy: try again in a moment")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_IOERR {
            throw StoreError.unavailable("the database could not be written (\(error.resultCode)): check the disk of the server")
        }
    }
}

/// Makes chosen store operations fail on demand (for tests of failure handling).
final class FaultInjector: @unchecked Sendable {
    private let lock = NSLock()
    private var failing: Set<String> = []

    init() {}

    /// Makes the next `operation` fail.
    func failNext(_ operation: String) {
        lock.withLock { _ = failing.insert(operation) }
    }

    /// Throws when `operation` was set to fail (once).
    func check(_ operation: String) throws {
        let fail = lock.withLock { failing.remove(operation) != nil }
        if fail { throw StoreError.unavailable("the database could not be written (simulated failure): try again") }
    }
}
