import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// The store for teams that outgrow one machine: PostgreSQL, shared by any number of server instances.
///
/// Sequence numbers must become visible in commit order across instances. A push takes the
/// project's row `FOR NO KEY UPDATE` before reading `last_seq`, so pushes to one project run one
/// after another (on any instance) and each commits before the next numbers its changes. A pull
/// reads its page and `last_seq` in one REPEATABLE READ transaction: it sees a prefix of the
/// commits, never a later number without the earlier ones. Pushes to different projects do not wait
/// for each other.
///
/// The connection pool is a service: `serve` runs it beside the HTTP server; admin commands and
/// tests run it with `whileRunning`. The tables are in `PostgresMigrations`; pushes in `+Push`,
/// pulls and snapshots in `+Pull`, the connection handling in `+Connection`, evidence files in
/// `+Files` (their content in the database, so that every instance serves every file), custody in
/// `+Custody`, purges in `+Purge`.
final class PostgresSyncStore: SyncStore, Service {
    /// The settings a store is opened with.
    struct Settings: Sendable {
        /// The most connections this instance opens.
        var poolSize = 10
        /// How long opening a connection may take (a host that does not answer fails after this).
        var connectTimeout: Duration = .seconds(10)
        /// How long one operation (a request's transaction) may take, waiting for a connection included.
        var operationTimeout: Duration = .seconds(30)
    }

    let location: PostgresLocation
    let settings: Settings
    let faults: FaultInjector
    /// The connection pool, run by `run()`.
    let client: PostgresClient
    let logger: Logger
    /// Pushes to one project queue here before taking a pooled connection (see `push`).
    let pushQueues = KeyedQueue()
    /// The running hashes of uploads in progress on this instance (`+Files`).
    let hashers = UploadHashers()

    /// Reaches the database with one connection (failing within `connectTimeout` with a message
    /// that says what is wrong), applies migrations, and prepares the pool; `run` starts it.
    static func open(url: String, settings: Settings = Settings(), faults: FaultInjector = FaultInjector(),
                     logger: Logger = Logger(label: "casebook-server.postgres")) async throws -> PostgresSyncStore {
        let location = try PostgresLocation(url: url)
        let configuration = try location.connectionConfiguration(connectTimeout: settings.connectTimeout)
        let connection = try await withDeadline(
            settings.connectTimeout + .seconds(2),
            message: "PostgreSQL at \(location.host):\(location.port) did not answer within \(Int(settings.connectTimeout.seconds)) s: is it running and reachable, and is the database URL right?"
        ) {
            do {
                return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            } catch {
                throw StoreError.unavailable(location.explain(error))
            }
        }
        // Migrations get a limit of their own: another instance may be applying them (we wait for
        // its advisory lock), and a future migration on a big table may take minutes.
        let migrationLimit = max(settings.operationTimeout, .seconds(600))
        do {
            try await withDeadline(migrationLimit, message: "the database migration did not finish within \(Int(migrationLimit.seconds)) s: check PostgreSQL's activity (pg_stat_activity) and start again") {
                do {
                    try await PostgresMigrations.migrate(connection, logger: logger)
                } catch let error as StoreError {
                    throw error
                } catch {
                    throw StoreError.unavailable(location.explain(error))
                }
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
        let pool = try location.clientConfiguration(poolSize: settings.poolSize, connectTimeout: settings.connectTimeout,
                                                    statementTimeout: settings.operationTimeout)
        return PostgresSyncStore(location: location, settings: settings, faults: faults, logger: logger,
                                 client: PostgresClient(configuration: pool, backgroundLogger: logger))
    }

    private init(location: PostgresLocation, settings: Settings, faults: FaultInjector, logger: Logger, client: PostgresClient) {
        self.location = location
        self.settings = settings
        self.faults = faults
        self.logger = logger
        self.client = client
    }

    /// Runs the connection pool until cancelled (or until graceful shutdown).
    func run() async throws {
        await client.run()
    }

    /// Runs the pool while `body` runs: for admin commands and tests.
    func whileRunning<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await self.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    // MARK: Projects and users

    func createProject(name: String, schema: Schema, now: UInt64) async throws {
        let schemaText = String(decoding: try schema.jsonData(), as: UTF8.self)
        try await transaction { db, logger in
            let existing = try await db.query("SELECT 1 FROM project WHERE name = \(name)", logger: logger).collect()
            guard existing.isEmpty else { throw StoreError.conflict("a project named '\(name)' already exists") }
            try await db.query("INSERT INTO project (name, schema, created_at) VALUES (\(name), \(schemaText), \(Int64(now)))", logger: logger)
        }
    }

    func schema(project: String) async throws -> Schema? {
        let text = try await statement { db, logger in
            try await db.query("SELECT schema FROM project WHERE name = \(project)", logger: logger).decode(String.self).collect().first
        }
        return try text.map { try StoredSchema.decode($0, project: project) }
    }

    func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws {
        try await transaction { db, logger in
            guard let projectID = try await db.query("SELECT id FROM project WHERE name = \(project)", logger: logger).decode(Int64.self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)': create it with 'casebook-server project create \(project)'")
            }
            let userID: Int64
            if let (id, revoked) = try await db.query(
                "SELECT id, revoked_at FROM account WHERE name = \(name) FOR UPDATE", logger: logger
            ).decode((Int64, Int64?).self).collect().first {
                userID = id
                if revoked != nil {
                    // Added again after a revocation: only the membership named now, with a new token.
                    try await db.query("UPDATE account SET revoked_at = NULL WHERE id = \(id)", logger: logger)
                    try await db.query("DELETE FROM member WHERE user_id = \(id)", logger: logger)
                }
            } else {
                guard let id = try await db.query(
                    "INSERT INTO account (name, created_at) VALUES (\(name), \(Int64(now))) RETURNING id", logger: logger
                ).decode(Int64.self).collect().first else {
                    throw StoreError.unavailable("the database did not return the new user's id")
                }
                userID = id
            }
            try await db.query("""
                INSERT INTO member (user_id, project_id, role) VALUES (\(userID), \(projectID), \(role.rawValue))
                ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role
                """, logger: logger)
            try await db.query("INSERT INTO token (hash, user_id, created_at) VALUES (\(tokenHash), \(userID), \(Int64(now)))", logger: logger)
        }
    }

    func revokeUser(name: String, now: UInt64) async throws {
        try await transaction { db, logger in
            guard let userID = try await db.query("SELECT id FROM account WHERE name = \(name) FOR UPDATE", logger: logger).decode(Int64.self).collect().first else {
                throw StoreError.notFound("there is no user named '\(name)'")
            }
            try await db.query("UPDATE account SET revoked_at = COALESCE(revoked_at, \(Int64(now))) WHERE id = \(userID)", logger: logger)
            try await db.query("DELETE FROM token WHERE user_id = \(userID)", logger: logger)
        }
    }

    func revokeToken(user: String, tokenID: String) async throws {
        try await transaction { db, logger in
            guard let userID = try await db.query("SELECT id FROM account WHERE name = \(user) FOR UPDATE", logger: logger).decode(Int64.self).collect().first else {
                throw StoreError.notFound("there is no user named '\(user)'")
            }
            let hashes = try await db.query("SELECT hash FROM token WHERE user_id = \(userID)", logger: logger).decode(Data.self).collect()
            let hash = try TokenHasher.select(hashes, id: tokenID, user: user)
            try await db.query("DELETE FROM token WHERE hash = \(hash)", logger: logger)
        }
    }

    func removeMember(user: String, project: String) async throws {
        try await transaction { db, logger in
            let removed = try await db.query("""
                DELETE FROM member WHERE user_id = (SELECT id FROM account WHERE name = \(user))
                AND project_id = (SELECT id FROM project WHERE name = \(project)) RETURNING user_id
                """, logger: logger).decode(Int64.self).collect()
            guard !removed.isEmpty else { throw StoreError.notFound("'\(user)' is not a member of project '\(project)'") }
        }
    }

    func authenticate(tokenHash: Data) async throws -> AuthenticatedUser? {
        try await statement { db, logger in
            let rows = try await db.query("""
                SELECT account.id, account.name, token.hash FROM token JOIN account ON account.id = token.user_id
                WHERE token.hash = \(tokenHash) AND account.revoked_at IS NULL
                """, logger: logger).decode((Int64, String, Data).self).collect()
            guard let (id, name, hash) = rows.first, TokenHasher.constantTimeEquals(hash, tokenHash) else { return nil }
            return AuthenticatedUser(id: id, name: name)
        }
    }

    func membership(userID: Int64, project: String) async throws -> Membership? {
        try await statement { db, logger in
            // One statement: the role and the user's groups (NULL when in none).
            let rows = try await db.query("""
                SELECT member.role, group_member.name FROM member JOIN project ON project.id = member.project_id
                LEFT JOIN group_member ON group_member.project_id = member.project_id AND group_member.user_id = member.user_id
                WHERE member.user_id = \(userID) AND project.name = \(project)
                """, logger: logger).decode((String, String?).self).collect()
            guard let first = rows.first, let role = Role(rawValue: first.0) else { return nil }
            return Membership(project: project, role: role, groups: Set(rows.compactMap(\.1)), userID: userID)
        }
    }

    /// A session setting of a pooled connection (to check the time limits the pool sets).
    func sessionSetting(_ name: String) async throws -> String? {
        try await statement { db, logger in
            try await db.query("SELECT current_setting(\(name))", logger: logger).decode(String.self).collect().first
        }
    }
}
