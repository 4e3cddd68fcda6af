import Foundation
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The PostgreSQL store's schema migrations.
@Suite struct PostgresMigrationTests {
    @Test func instancesStartingAtOnceMigrateOnceAndBothWork() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        // Four instances start at the same moment on an empty database.
        let stores = try await withThrowingTaskGroup(of: PostgresSyncStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresSyncStore.open(url: database.url, logger: ServerHarness.logger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let applied = try database.psql("SELECT version FROM casebook_migration ORDER BY version")
        #expect(applied.split(separator: "\n") == PostgresMigrations.migrations.map { "\($0.version)"[...] })
        // Each works against the one schema: a project made through one is seen by another.
        try await stores[0].whileRunning { try await stores[0].createProject(name: "kz", schema: .upr, now: 1) }
        let seen = try await stores[3].whileRunning { try await stores[3].schema(project: "kz") }
        #expect(seen?.name == "upr")
    }

    @Test func aDatabaseFromANewerServerIsRefusedNotUsed() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        _ = try await PostgresSyncStore.open(url: database.url, logger: ServerHarness.logger)
        _ = try database.psql("INSERT INTO casebook_migration (version, name, applied_at) VALUES (999, 'from the future', 0)")
        await #expect {
            _ = try await PostgresSyncStore.open(url: database.url, logger: ServerHarness.logger)
        } throws: { error in
            "\(error)".contains("newer casebook-server (schema version 999")
        }
    }

    @Test func pooledConnectionsCarryTheTimeLimitsSoTheDatabaseStopsWhatTheServerGaveUpOn() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        var settings = PostgresSyncStore.Settings()
        settings.operationTimeout = .seconds(45)
        let store = try await PostgresSyncStore.open(url: database.url, settings: settings, logger: ServerHarness.logger)
        let names = ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "application_name"]
        let values = try await store.whileRunning {
            var values: [String?] = []
            for name in names { values.append(try await store.sessionSetting(name)) }
            return values
        }
        #expect(values == ["45s", "45s", "90s", "casebook-server"])
    }
}
