import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// A server on a temporary store (SQLite, or a fresh PostgreSQL database) with a project "kz" and
/// users of every role.
struct ServerHarness {
    static let now: UInt64 = 1_737_600_000_000  // 2025-01-23
    /// The servers' and stores' logger in tests: warnings and errors only, so that a failing test's
    /// output is not buried under a line per request.
    static let logger: Logger = {
        var logger = Logger(label: "casebook-server")
        logger.logLevel = .warning
        return logger
    }()
    let folder: URL
    let store: any SyncStore
    let faults: FaultInjector
    /// PostgreSQL only: the test's own database and the task running the store's pool.
    private var database: TestPostgres.Database?
    private var pool: Task<Void, Never>?
    var tokens: [String: String] = [:]
    var settings = ServerSettings()

    /// The embedded store's bytes between two flushes of an upload (`SQLiteSyncStore.flushInterval`).
    let flushInterval: Int64

    init(store kind: StoreKind = .sqlite, flushInterval: Int64 = FileFolder.flushInterval,
         _ configure: (inout ServerSettings) -> Void = { _ in }) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-server-tests-\(UUID().uuidString)")
        faults = FaultInjector()
        self.flushInterval = flushInterval
        switch kind {
        case .sqlite:
            store = try SQLiteSyncStore(folder: folder, faults: faults, flushInterval: flushInterval)
        case .postgres:
            let database = try TestPostgres.Database()
            // Generous limits: a CI machine starting dozens of these at once is slow, not broken.
            var storeSettings = PostgresSyncStore.Settings()
            storeSettings.operationTimeout = .seconds(90)
            let postgres = try await PostgresSyncStore.open(url: database.url, settings: storeSettings, faults: faults, logger: Self.logger)
            pool = Task { try? await postgres.run() }
            store = postgres
            self.database = database
        }
        try await store.createProject(name: "kz", schema: .upr, now: Self.now)
        try await store.createProject(name: "other", schema: .upr, now: Self.now)
        for (name, project, role) in [("ana", "kz", Role.researcher), ("bek", "kz", .researcher), ("vera", "kz", .viewer),
                                      ("admin", "kz", .admin), ("olga", "other", .researcher)] {
            let token = TokenHasher.generate()
            try await store.addUser(name: name, project: project, role: role, tokenHash: TokenHasher.hash(token), now: Self.now)
            tokens[name] = token
            let device = Self.device(of: name)
            try await store.registerDevice(project: project, node: device.node, owner: name,
                                           signingKey: device.key.publicKey.rawRepresentation, agreement: nil, now: Self.now)
        }
        settings.clock = { ServerHarness.now }
        configure(&settings)
    }

    /// A second store on the same data (another server process, or another instance behind a load
    /// balancer), and what stops it.
    func reopen() async throws -> (any SyncStore, @Sendable () -> Void) {
        if let database {
            var storeSettings = PostgresSyncStore.Settings()
            storeSettings.operationTimeout = .seconds(90)
            let postgres = try await PostgresSyncStore.open(url: database.url, settings: storeSettings, logger: Self.logger)
            let pool = Task { try? await postgres.run() }
            return (postgres, { pool.cancel() })
        }
        return (try SQLiteSyncStore(folder: folder, flushInterval: flushInterval), {})
    }

    /// PostgreSQL only: the test database's URL, and psql in it.
    var databaseURL: String? { database?.url }
    func psql(_ sql: String) throws -> String { try #require(database).psql(sql) }

    /// The embedded store's folder of file content, nil on PostgreSQL.
    var filesFolder: URL? { store is SQLiteSyncStore ? folder.appendingPathComponent("files") : nil }

    func cleanUp() {
        pool?.cancel()
        database?.drop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The token hashes as stored, read straight from the database.
    func storedTokenHashes() async throws -> [Data] {
        if let sqlite = store as? SQLiteSyncStore {
            return try await sqlite.pool.read { db in try Data.fetchAll(db, sql: "SELECT hash FROM token") }
        }
        let database = try #require(database)
        return try database.psql("SELECT encode(hash, 'hex') FROM token").split(separator: "\n").map { Data(hex: String($0)) }
    }

    /// The heads of every field of a project, read through the store's snapshot (which lists the `head` table's versions).
    func storedHeads(project: String = "kz") async throws -> [FieldKey: [Version]] {
        var heads: [FieldKey: [Version]] = [:]
        var after: HLC?
        repeat {
            let page = try await store.snapshot(project: project, after: after, limit: 500)
            for logged in page.changes {
                heads[FieldKey(record: logged.change.record, field: logged.change.field), default: []].append(Version(logged.change))
            }
            after = page.next
        } while after != nil
        return heads.mapValues { FieldState(heads: $0).heads }
    }

    /// The conflicts the store's `conflict` table holds open for a project, read straight from the database, sorted by id.
    func storedOpenConflicts(project: String = "kz") async throws -> [Conflict] {
        let sql = "SELECT state FROM conflict JOIN project ON project.id = conflict.project_id WHERE project.name = '\(project)'"
        let rows: [String]
        if let sqlite = store as? SQLiteSyncStore {
            rows = try await sqlite.pool.read { db in try String.fetchAll(db, sql: sql) }
        } else {
            rows = try #require(database).psql(sql).split(separator: "\n").map(String.init)
        }
        let states = try rows.map { try JSONDecoder().decode(Wire.ConflictState.self, from: Data($0.utf8)) }
        return states.filter(\.open).map(\.conflict).sorted { $0.id < $1.id }
    }

    var app: some ApplicationProtocol { get throws { try buildApplication(store: store, settings: settings, port: 0, logger: Self.logger) } }

    func headers(_ user: String?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let user { headers[.authorization] = "Bearer \(tokens[user] ?? user)" }
        return headers
    }

    /// Each user's test device: a node id and a key derived from the name, registered at the start.
    static func device(of user: String) -> (node: NodeID, key: Curve25519.Signing.PrivateKey) {
        let seed = Array(SHA256.hash(data: Data("device of \(user)".utf8)))
        let node = NodeID(seed.prefix(8).map { String(format: "%02x", $0) }.joined())!
        return (node, try! Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    }

    /// The request a replica of `user` sends: the changes with `user` as their author, signed by the user's test device.
    static func signedPush(_ changes: [Change], as user: String, project: String = "kz") throws -> Wire.PushRequest {
        let device = device(of: user)
        let changes = changes.map { change in
            var change = change
            change.author = user
            return change
        }
        // The digest names the project as the server knows it, whatever the path's spelling.
        let name = project.removingPercentEncoding ?? project
        return Wire.PushRequest(changes: changes, batches: [try SignedBatch(signing: changes, project: name, node: device.node, key: device.key)])
    }

    func push(_ client: some TestClientProtocol, as user: String, _ changes: [Change], project: String = "kz") async throws -> TestResponse {
        let body = try JSONEncoder().encode(Self.signedPush(changes, as: user, project: project))
        return try await client.execute(uri: "/v1/projects/\(project)/push", method: .post, headers: headers(user), body: ByteBuffer(bytes: body))
    }

    func pull(_ client: some TestClientProtocol, as user: String, after: Int64 = 0, limit: Int? = nil) async throws -> Wire.PullResponse {
        let query = "after=\(after)" + (limit.map { "&limit=\($0)" } ?? "")
        let response = try await client.execute(uri: "/v1/projects/kz/pull?\(query)", method: .get, headers: headers(user))
        #expect(response.status == .ok)
        return try JSONDecoder().decode(Wire.PullResponse.self, from: Data(buffer: response.body))
    }
}

/// Builds changes the way a replica would, with a clock per node.
struct ChangeMaker {
    var clock: HybridClock
    var millis: UInt64 = ServerHarness.now - 60_000

    init(node: String) { clock = HybridClock(node: NodeID(node)!) }

    mutating func change(_ record: String, _ field: String, _ value: FieldValue, base: HLC? = nil,
                         supersedes: [HLC] = [], covers: [HLC] = [], collection: String = "incidents") -> Change {
        millis += 1
        return Change(collection: collection, record: record, field: field, value: value, hlc: clock.tick(now: millis),
                      author: "claimed", base: base, supersedes: supersedes, covers: covers)
    }
}

extension TestResponse {
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer: body))
    }

    var error: Wire.ErrorResponse.Body? { try? decode(Wire.ErrorResponse.self).error }
}

let recordA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
let recordB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
