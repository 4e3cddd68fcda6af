import Foundation
import Logging
import PostgresNIO

// Every operation runs on a pooled connection within the operation time limit, and PostgreSQL's
// errors become store errors here.
extension PostgresSyncStore {
    /// Runs `body`, a single statement (atomic on its own), on a pooled connection: no BEGIN and
    /// COMMIT round trips for the reads every request makes (token, membership, schema).
    func statement<T: Sendable>(fullIsStorage: Bool = false, _ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await onConnection(fullIsStorage: fullIsStorage, body)
    }

    /// Runs `body` in one transaction on a pooled connection, within the operation time limit;
    /// with `queue`, after the earlier transactions of the same queue (in this process) finished.
    ///
    /// Writes run at READ COMMITTED whatever the database's default (the project lock orders
    /// them; a stricter level would only make waiting pushes fail); reads run at REPEATABLE READ
    /// so that everything one request reads comes from the same commits. With `fullIsStorage` (the
    /// file endpoints), a full database disk is `.insufficientStorage` (507) rather than `.unavailable`.
    func transaction<T: Sendable>(
        readOnly: Bool = false, queue: String? = nil, fullIsStorage: Bool = false, _ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await onConnection(queue: queue, fullIsStorage: fullIsStorage) { db, logger in
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
        queue: String? = nil, fullIsStorage: Bool = false, _ body: @Sendable @escaping (PostgresConnection, Logger) async throws -> T
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
            case "53100" where fullIsStorage:
                throw StoreError.insufficientStorage("the server's database is full: nothing of this request was kept; ask the server's admin to free space, then try again")
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
