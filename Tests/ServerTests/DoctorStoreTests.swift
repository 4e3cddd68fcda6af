import Foundation
import GRDB
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// `doctor`'s look at the store (read-only: nothing migrated), and the configuration file it reads.
@Suite struct DoctorStoreTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-doctor-store-\(UUID().uuidString)")

    @Test func aFolderWithoutAStoreSaysHowToMakeOne() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let findings = Doctor.checkSQLiteStore(folder: folder)
        #expect(findings.map(\.status) == [.warning])
        #expect(findings[0].message.contains("casebook-server project create NAME"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("casebook.sqlite").path))
    }

    @Test func aStoreInUseIsReadWhileTheServerHoldsIt() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSyncStore(folder: folder)
        try await store.createProject(name: "kz", schema: .upr, now: 1)
        try await store.addUser(name: "ana", project: "kz", role: .researcher, tokenHash: TokenHasher.hash("t"), now: 1)
        let findings = Doctor.checkSQLiteStore(folder: folder)
        #expect(findings == [DoctorFinding(.ok, "store", "embedded SQLite, 1 project(s), 1 user(s)")])
    }

    @Test func aStoreFromANewerServerFails() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSyncStore(folder: folder)
        try await store.pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        let findings = Doctor.checkSQLiteStore(folder: folder)
        #expect(findings.map(\.status) == [.failed])
        #expect(findings[0].message.contains("set up by a newer casebook-server"))
    }

    // Generous time limits: a machine running the whole suite at once is slow, not broken (90 s was
    // seen to pass while synchronous end-to-end tests held the cooperative threads the answer needs).
    @Test func aReachablePostgreSQLStoreIsReportedWithItsSchema() async throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        let empty = await Doctor.checkPostgres(url: database.url, timeout: .seconds(600), now: { Date() })
        #expect(empty.map(\.status) == [.warning])
        #expect(empty[0].message.contains("no Casebook tables yet"))
        _ = try await PostgresSyncStore.open(url: database.url, logger: ServerHarness.logger)
        let ready = await Doctor.checkPostgres(url: database.url, timeout: .seconds(600), now: { Date() })
        #expect(ready.map(\.status) == [.ok])
        // A clock an hour off the database's is reported.
        let skewed = await Doctor.checkPostgres(url: database.url, timeout: .seconds(600), now: { Date().addingTimeInterval(3600) })
        #expect(skewed.map(\.status) == [.ok, .warning])
        // About an hour: how long the query took makes no difference.
        #expect(skewed[1].message.hasPrefix("PostgreSQL's clock is 3600 s behind") || skewed[1].message.hasPrefix("PostgreSQL's clock is 3599 s behind"),
                "\(skewed[1].message)")
    }

    @Test func anUnreachableDatabaseFailsSayingWhere() async throws {
        let findings = await Doctor.checkPostgres(url: "postgres://casebook:x@127.0.0.1:1/casebook", timeout: .seconds(600), now: { Date() })
        #expect(findings.map(\.status) == [.failed])
        #expect(findings[0].message.contains("127.0.0.1:1"))
    }

    @Test func theEnvironmentFileIsReadAsSystemdReadsIt() throws {
        let text = """
            # the service's settings
            CASEBOOK_DATA=/var/lib/casebook
              CASEBOOK_HOST = 0.0.0.0
            ; another comment
            CASEBOOK_TLS_CERT="/etc/casebook/tls/cert with space.pem"
            CASEBOOK_SERVE_OPTIONS='--log-level warning'
            QUOTED="a \\"b\\" c"

            EMPTY=
            """
        let values = try EnvironmentFile.parse(text, path: "server.env")
        #expect(values.map(\.key) == ["CASEBOOK_DATA", "CASEBOOK_HOST", "CASEBOOK_TLS_CERT", "CASEBOOK_SERVE_OPTIONS", "QUOTED", "EMPTY"])
        #expect(values.map(\.value) == ["/var/lib/casebook", "0.0.0.0", "/etc/casebook/tls/cert with space.pem", "--log-level warning", "a \"b\" c", ""])
        #expect(throws: CommandError.self) { try EnvironmentFile.parse("CASEBOOK_DATA /srv", path: "server.env") }
        #expect(throws: CommandError.self) { try EnvironmentFile.parse("1BAD=x", path: "server.env") }
    }
}
