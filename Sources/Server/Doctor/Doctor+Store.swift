import Foundation
import GRDB
import Logging
import PostgresNIO

// The store: readable, and in a format this version serves. Nothing is migrated or written: doctor
// may run beside a server of another version.
extension Doctor {
    /// The embedded store, opened read-only, waiting at most `timeout` for a lock.
    static func checkSQLiteStore(folder: URL, timeout: Duration = .seconds(5)) -> [DoctorFinding] {
        let path = folder.appendingPathComponent("casebook.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            return [DoctorFinding(.warning, "store", "there is no store in \(folder.path) yet: create a project (casebook-server project create NAME --data \(folder.path))")]
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(TimeInterval(timeout.components.seconds))
        let migrator = SQLiteMigrations.migrator
        do {
            let database = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? database.close() }
            return try database.read { db in
                if try migrator.hasBeenSuperseded(db) {
                    return [DoctorFinding(.failed, "store", "\(path) was set up by a newer casebook-server: install that version again (this one would refuse to serve it)")]
                }
                if try migrator.appliedMigrations(db).isEmpty {
                    return [DoctorFinding(.warning, "store", "\(path) is empty: create a project (casebook-server project create NAME)")]
                }
                let projects = try Int.fetchOne(db, sql: "SELECT count(*) FROM project") ?? 0
                let users = try Int.fetchOne(db, sql: "SELECT count(*) FROM user WHERE revoked_at IS NULL") ?? 0
                let summary = "embedded SQLite, \(projects) project(s), \(users) user(s)"
                if try !migrator.hasCompletedMigrations(db) {
                    return [DoctorFinding(.note, "store", "\(summary); this version upgrades its format when serve next starts (back it up first: casebook-server backup FILE)")]
                }
                return [DoctorFinding(.ok, "store", summary)]
            }
        } catch {
            return [DoctorFinding(.failed, "store", "cannot read \(path) (\(error)): check that this user may read it and that no other program holds a lock on it")]
        }
    }

    /// The PostgreSQL store: reachable within `timeout`, its tables in a format this version
    /// serves, and its clock close to this machine's (`now`, read as the database answers).
    static func checkPostgres(url: String, timeout: Duration, now: @escaping @Sendable () -> Date) async -> [DoctorFinding] {
        let location: PostgresLocation
        let configuration: PostgresConnection.Configuration
        do {
            location = try PostgresLocation(url: url)
            configuration = try location.connectionConfiguration(connectTimeout: timeout)
        } catch {
            return [DoctorFinding(.failed, "store", "\(error)")]
        }
        var logger = Logger(label: "casebook-server.doctor")
        logger.logLevel = .critical
        do {
            let reading = try await withDeadline(
                timeout + .seconds(2),
                message: "PostgreSQL at \(location.host):\(location.port) did not answer within \(Int(timeout.seconds)) s: is it running and reachable, and is the database URL right?"
            ) { [logger] in
                let connection: PostgresConnection
                do {
                    connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                } catch {
                    throw StoreError.unavailable(location.explain(error))
                }
                do {
                    let reading = try await PostgresReading.read(connection, logger: logger, now: now)
                    try? await connection.close()
                    return reading
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
            return postgresFindings(reading, location: location)
        } catch {
            return [DoctorFinding(.failed, "store", location.explain(error))]
        }
    }

    private static func postgresFindings(_ reading: PostgresReading, location: PostgresLocation) -> [DoctorFinding] {
        let known = PostgresMigrations.migrations.map(\.version).max() ?? 0
        var findings: [DoctorFinding]
        switch reading.schemaVersion {
        case nil:
            findings = [DoctorFinding(.warning, "store", "PostgreSQL at \(location.redacted) is reachable but has no Casebook tables yet: serve or any admin command creates them")]
        case let version? where version > known:
            findings = [DoctorFinding(.failed, "store", "the database at \(location.redacted) was set up by a newer casebook-server (schema \(version), this one knows \(known)): run the newer version")]
        case let version? where version < known:
            findings = [DoctorFinding(.note, "store", "PostgreSQL at \(location.redacted): this version upgrades the tables (schema \(version) to \(known)) when serve next starts; back up first (pg_dump)")]
        default:
            findings = [DoctorFinding(.ok, "store", "PostgreSQL at \(location.redacted), schema \(known), reached")]
        }
        if let damaged = reading.damagedFiles, damaged > 0 {
            findings.append(DoctorFinding(.failed, "evidence files", "\(damaged) complete file(s) in the database have chunks that do not add up to their size: restore the database from a backup (pg_restore), or purge them (casebook-server files purge) and have a replica upload them again"))
        }
        let offset = reading.clockOffset
        if abs(offset) > 2 {
            let direction = offset > 0 ? "ahead of" : "behind"
            findings.append(DoctorFinding(.warning, "clock", "PostgreSQL's clock is \(Int(abs(offset).rounded())) s \(direction) this machine's: synchronise both with NTP"))
        }
        return findings
    }
}

/// What doctor reads from a PostgreSQL store: its schema version and its clock.
private struct PostgresReading: Sendable {
    /// The newest migration applied, nil when the database has no Casebook tables.
    var schemaVersion: Int?
    /// How far the database's clock is ahead of this machine's (negative: behind), in seconds.
    var clockOffset: TimeInterval
    /// Complete evidence files whose chunks do not add up to their size (nil before the files' tables).
    var damagedFiles: Int?

    static func read(_ connection: PostgresConnection, logger: Logger, now: @Sendable () -> Date) async throws -> PostgresReading {
        // The database's time must fall between this machine's before and after the query (however slow
        // the round trip was); the offset is how far outside it falls.
        let before = now()
        var databaseClock = before
        for try await seconds in try await connection.query("SELECT extract(epoch FROM clock_timestamp())::float8", logger: logger).decode(Double.self) {
            databaseClock = Date(timeIntervalSince1970: seconds)
        }
        let after = now()
        let clockOffset = databaseClock < before ? databaseClock.timeIntervalSince(before)
            : databaseClock > after ? databaseClock.timeIntervalSince(after) : 0
        var present = false
        for try await exists in try await connection.query("SELECT to_regclass('casebook_migration') IS NOT NULL", logger: logger).decode(Bool.self) {
            present = exists
        }
        guard present else { return PostgresReading(schemaVersion: nil, clockOffset: clockOffset) }
        var version = 0
        for try await newest in try await connection.query("SELECT coalesce(max(version), 0) FROM casebook_migration", logger: logger).decode(Int.self) {
            version = newest
        }
        var damaged: Int?
        if version >= 3 {
            // octet_length reads a stored chunk's length from its header, not its bytes: cheap.
            for try await count in try await connection.query("""
                SELECT count(*) FROM file WHERE complete AND size <> (SELECT COALESCE(SUM(octet_length(data)), 0) FROM file_chunk
                WHERE file_chunk.project_id = file.project_id AND file_chunk.sha256 = file.sha256)
                """, logger: logger).decode(Int64.self) {
                damaged = Int(count)
            }
        }
        return PostgresReading(schemaVersion: version, clockOffset: clockOffset, damagedFiles: damaged)
    }
}
