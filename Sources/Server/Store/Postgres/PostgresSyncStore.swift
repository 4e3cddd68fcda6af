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
/// tests run it with `whileRunning`.
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
    private let client: PostgresClient
    private let logger: Logger
    private let pushQueues = KeyedQueue()

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
                    try await PostgresSchema.migrate(connection, logger: logger)
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
        return try text.map { try Schema.fromJSON(Data($0.utf8)) }
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
                guard revoked == nil else { throw StoreError.conflict("user '\(name)' was revoked; add them under a new name") }
                userID = id
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
            let role = try await db.query("""
                SELECT member.role FROM member JOIN project ON project.id = member.project_id
                WHERE member.user_id = \(userID) AND project.name = \(project)
                """, logger: logger).decode(String.self).collect().first
            return role.flatMap(Role.init(rawValue:)).map { Membership(project: project, role: $0) }
        }
    }

    // MARK: Sync

    func push(project: String, changes: [Change], author: String, policy: PushPolicy) async throws -> [Wire.ChangeResult] {
        // Pushes to one project run one at a time anyway (the row lock below); queueing them here
        // first keeps all but one off the pool, so they cannot starve this instance's pulls.
        try await transaction(queue: project) { db, logger in
            // The project's row lock orders pushes: numbers are read, used and committed one push at a time.
            guard let (projectID, schemaText, lastSeq) = try await db.query(
                "SELECT id, schema, last_seq FROM project WHERE name = \(project) FOR NO KEY UPDATE", logger: logger
            ).decode((Int64, String, Int64).self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            let schema = try Schema.fromJSON(Data(schemaText.utf8))
            let context = try await PostgresSchema.loadContext(db, projectID: projectID, lastSeq: lastSeq, changes: changes, logger: logger)
            let plan = PushPlanner.plan(changes, schema: schema, author: author, policy: policy, context: context)
            try await PostgresSchema.write(plan, db, projectID: projectID, logger: logger)
            try self.faults.check("push")
            return plan.results
        }
    }

    func pull(project: String, after: Int64, limit: Int, skip: OwnChanges?) async throws -> PullPage {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, latest) = try await Self.project(db, name: project, logger: logger)
            guard after <= latest else { throw StoreError.cursorAhead(after: after, latest: latest) }
            let fetch = Int64(limit + 1)
            let query: PostgresQuery = if let skip {
                // The node is the part of the HLC text after "MMMMMMMMMMMM-CCCC-" (character 19 on).
                """
                SELECT \(unescaped: PostgresSchema.changeColumns) FROM change
                WHERE project_id = \(projectID) AND seq > \(after) AND NOT (seq <= \(skip.upTo) AND substr(hlc, 19) = \(skip.node.rawValue))
                ORDER BY seq LIMIT \(fetch)
                """
            } else {
                "SELECT \(unescaped: PostgresSchema.changeColumns) FROM change WHERE project_id = \(projectID) AND seq > \(after) ORDER BY seq LIMIT \(fetch)"
            }
            var changes = try await PostgresSchema.rows(db.query(query, logger: logger)).map(PostgresSchema.loggedChange)
            let more = changes.count > limit
            if more { changes.removeLast() }
            // A full page ends at its last change; otherwise everything up to `latest` was considered.
            let cursor = more ? (changes.last?.seq ?? after) : max(after, latest)
            let conflicts = cursor > after
                ? try await PostgresSchema.conflictStates(db, projectID: projectID, after: after, upTo: cursor, logger: logger) : []
            return PullPage(changes: changes, conflicts: conflicts, cursor: cursor, more: more, latest: max(latest, cursor))
        }
    }

    func snapshot(project: String, after: HLC?, limit: Int) async throws -> SnapshotPage {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, since) = try await Self.project(db, name: project, logger: logger)
            var changes = try await PostgresSchema.rows(db.query("""
                SELECT \(unescaped: PostgresSchema.changeColumns) FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
                WHERE head.project_id = \(projectID) AND head.hlc > \(after?.text ?? "") ORDER BY head.hlc LIMIT \(Int64(limit + 1))
                """, logger: logger)).map(PostgresSchema.loggedChange)
            let more = changes.count > limit
            if more { changes.removeLast() }
            var total: Int?
            if after == nil {
                total = try await db.query("SELECT COUNT(*) FROM head WHERE project_id = \(projectID)", logger: logger)
                    .decode(Int64.self).collect().first.map(Int.init)
            }
            return SnapshotPage(changes: changes, since: since, next: more ? changes.last?.change.hlc : nil, total: total)
        }
    }

    /// A session setting of a pooled connection (to check the time limits the pool sets).
    func sessionSetting(_ name: String) async throws -> String? {
        try await statement { db, logger in
            try await db.query("SELECT current_setting(\(name))", logger: logger).decode(String.self).collect().first
        }
    }

    // MARK: Helpers

    /// The project's id and last sequence number.
    private static func project(_ db: PostgresConnection, name: String, logger: Logger) async throws -> (Int64, Int64) {
        guard let row = try await db.query("SELECT id, last_seq FROM project WHERE name = \(name)", logger: logger)
            .decode((Int64, Int64).self).collect().first else {
            throw StoreError.notFound("there is no project named '\(name)'")
        }
        return row
    }

    /// Runs `body`, a single statement (atomic on its own), on a pooled connection: no BEGIN and
    /// COMMIT round trips for the reads every request makes (token, membership, schema).
    private func statement<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await onConnection(body)
    }

    /// Runs `body` in one transaction on a pooled connection, within the operation time limit;
    /// with `queue`, after the earlier transactions of the same queue (in this process) finished.
    ///
    /// Writes run at READ COMMITTED whatever the database's default (the project lock orders
    /// them; a stricter level would only make waiting pushes fail); reads run at REPEATABLE READ
    /// so that everything one request reads comes from the same commits.
    private func transaction<T: Sendable>(
        readOnly: Bool = false, queue: String? = nil, _ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await onConnection(queue: queue) { db, logger in
            try await db.query(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
            do {
                let result = try await body(db, logger)
                try await db.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await db.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection within the operation time limit, translating PostgreSQL's errors.
    ///
    /// The database enforces the same limit on each statement and on lock waits (session settings
    /// of every pooled connection), so work given up on here is also stopped there. Clients get a
    /// short message; the details (host, PostgreSQL's own message) go to the log only.
    private func onConnection<T: Sendable>(
        queue: String? = nil, _ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let client = self.client, logger = self.logger, location = self.location, queues = self.pushQueues
        let leased = LeasedConnection()
        do {
            return try await withDeadline(
                settings.operationTimeout,
                message: "the server's database did not answer in time: try again in a moment"
            ) {
                if let queue { try await queues.acquire(queue) }
                do {
                    let result = try await client.withConnection { db in
                        leased.hold(db)
                        defer { leased.hold(nil) }
                        return try await body(db, logger)
                    }
                    if let queue { await queues.release(queue) }
                    return result
                } catch {
                    if let queue { await queues.release(queue) }
                    throw error
                }
            }
        } catch let error as StoreError {
            // Given up on while a connection was still in use: close it. A database that went
            // silent (a network partition) would otherwise keep it leased for good, and the pool
            // would shrink with every such request; closing fails its query and frees the lease.
            if let stuck = leased.take() {
                logger.warning("closing a database connection that did not answer within \(Int(settings.operationTimeout.seconds)) s")
                stuck.close().whenComplete { _ in }
            }
            throw error
        } catch let error as PSQLError {
            // Not the query: its parameters hold record contents and token hashes.
            logger.error("PostgreSQL failed: \(location.explain(error))")
            switch error.serverInfo?[.sqlState] {
            case "23505": throw StoreError.conflict("it was being created by another request at the same moment: try again")
            case "57014", "55P03": throw StoreError.unavailable("the server's database is busy: try again in a moment")
            default: throw StoreError.unavailable("the server's database is unavailable: try again in a moment")
            }
        }
    }
}

/// The connection an operation is using, if it is still using one.
private final class LeasedConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var connection: PostgresConnection?

    func hold(_ connection: PostgresConnection?) { lock.withLock { self.connection = connection } }

    func take() -> PostgresConnection? {
        lock.withLock {
            defer { connection = nil }
            return connection
        }
    }
}

/// One-at-a-time queues by key (FIFO), for work that the database would serialise anyway.
actor KeyedQueue {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var busy = Set<String>()

    /// Waits for the key's turn; throws if the task was cancelled meanwhile (and gives the turn back).
    func acquire(_ key: String) async throws {
        if busy.insert(key).inserted { return }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
        if Task.isCancelled {
            release(key)
            throw CancellationError()
        }
    }

    /// Ends the current turn: the next waiter (if any) gets it.
    func release(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            busy.remove(key)
        }
    }
}
