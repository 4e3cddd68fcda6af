import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Errors at the boundary: every failure becomes the JSON error body with its status and code, and
/// carries the server's clock like any other response.
@Suite struct ErrorResponseTests {
    /// A store whose token lookup fails with `error`.
    struct FailingStore: SyncStore {
        let error: any Error & Sendable

        func createProject(name: String, schema: Schema, now: UInt64) async throws { throw error }
        func schema(project: String) async throws -> Schema? { throw error }
        func replaceSchema(project: String, with schema: Schema, dryRun: Bool) async throws -> SchemaReplacement { throw error }
        func projectSummaries(name: String?) async throws -> [ProjectSummary] { throw error }
        func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws { throw error }
        func revokeUser(name: String, now: UInt64) async throws { throw error }
        func authenticate(tokenHash: Data) async throws -> AuthenticatedUser? { throw error }
        func membership(userID: Int64, project: String) async throws -> Membership? { throw error }
        func push(project: String, changes: [Change], author: String, reader: ReadAccess, policy: PushPolicy,
                  signatures: PushSignatures) async throws -> [Wire.ChangeResult] { throw error }
        func registerDevice(project: String, node: NodeID, owner: String, signingKey: Data, agreement: DeviceAgreement?, now: UInt64) async throws { throw error }
        func devices(project: String) async throws -> [Wire.Device] { throw error }
        func agreementKey(project: String, made: [UInt8], now: UInt64) async throws -> [UInt8] { throw error }
        func revokeDevice(node: NodeID, project: String?, now: UInt64) async throws -> Int { throw error }
        func pull(project: String, after: Int64, limit: Int, maxBytes: Int, skip: Wire.OwnChanges?, reader: ReadAccess) async throws -> Wire.PullResponse {
            throw error
        }
        func snapshot(project: String, after: HLC?, limit: Int, maxBytes: Int, reader: ReadAccess) async throws -> Wire.SnapshotResponse { throw error }
        func nodeOwner(project: String, node: NodeID) async throws -> String? { throw error }
        func revokeToken(user: String, tokenID: String) async throws { throw error }
        func removeMember(user: String, project: String) async throws { throw error }
        func fileStatus(project: String, hashes: [String]) async throws -> [Wire.FileStatus] { throw error }
        func storedFile(project: String, sha256: String) async throws -> StoredFile? { throw error }
        func putChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer { throw error }
        func chunk(project: String, sha256: String, index: Int64) async throws -> ServedChunk? { throw error }
        func appendCustody(project: String, events: [Wire.CustodyEvent], user: String, now: UInt64) async throws -> Int { throw error }
        func custody(project: String, after: Int64, limit: Int, reader: ReadAccess) async throws -> Wire.CustodyPage { throw error }
        func fileUsage(project: String) async throws -> FileUsage { throw error }
        func setFileQuota(project: String, bytes: Int64?) async throws { throw error }
        func purgeFiles(project: String, dryRun: Bool) async throws -> FilePurge { throw error }
        func history(project: String, fields: [Wire.HistoryRequest.Field], maxBytes: Int, reader: ReadAccess) async throws -> Wire.HistoryResponse {
            throw error
        }
        func mayReadFile(project: String, sha256: String, reader: ReadAccess) async throws -> Bool { throw error }
        func addGroup(project: String, name: String, now: UInt64) async throws { throw error }
        func changeGroupMember(project: String, group: String, user: String, add: Bool) async throws { throw error }
        func groups(project: String) async throws -> [GroupInfo] { throw error }
        func records(project: String, ids: [String], reader: ReadAccess) async throws -> Wire.RecordsResponse { throw error }
        func projectKeys(project: String, owner: String) async throws -> Wire.ProjectKeys { throw error }
        func createProjectKey(project: String, creation: Wire.KeyCreation, creator: String, now: UInt64) async throws -> Bool { throw error }
        func addKeyWraps(project: String, keyID: String, wraps: [Wire.KeyWrap], now: UInt64) async throws { throw error }
    }

    struct Unexpected: Error {}

    /// The answer to a pull with a token, from a server whose store fails with `error`.
    func answer(to error: any Error & Sendable) async throws -> (status: HTTPResponse.Status, body: Wire.ErrorResponse.Body?, headers: HTTPFields) {
        var settings = ServerSettings()
        settings.clock = { ServerHarness.now }
        let app = try buildApplication(store: FailingStore(error: error), settings: settings, port: 0, logger: ServerHarness.logger)
        return try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: [.authorization: "Bearer cbk_x"])
            return (response.status, response.error, response.headers)
        }
    }

    @Test func storeErrorsBecomeTheirStatusCodeAndMessage() async throws {
        let cases: [(StoreError, HTTPResponse.Status, String)] = [
            (.notFound("no such thing"), .notFound, "not_found"),
            (.conflict("taken"), .conflict, "conflict"),
            (.unavailable("the database is busy: try again in a moment"), .serviceUnavailable, "unavailable"),
            (.insufficientStorage("the server's disk is full"), .insufficientStorage, "insufficient_storage"),
        ]
        for (error, status, code) in cases {
            let (answered, body, headers) = try await answer(to: error)
            #expect(answered == status)
            #expect(body?.code == code)
            #expect(body?.message == error.description)
            #expect(headers[HTTPField.Name(Wire.serverTimeHeader)!] == String(ServerHarness.now))
            #expect(headers[.wwwAuthenticate] == nil)
        }
    }

    @Test func unexpectedErrorsAre500WithoutTheirDetails() async throws {
        for error: any Error & Sendable in [Unexpected(), StoreDefect(description: "record x has no key"), DatabaseError(resultCode: .SQLITE_CORRUPT)] {
            let (status, body, headers) = try await answer(to: error)
            #expect(status == .internalServerError)
            #expect(body?.code == "internal")
            #expect(body?.message.hasPrefix("the server failed to handle the request; its log has the details (request ") == true)
            #expect(body?.message.contains("record x") == false)
            #expect(headers[HTTPField.Name(Wire.serverTimeHeader)!] == String(ServerHarness.now))
        }
    }

    @Test(arguments: StoreKind.allCases) func anAPIErrorCarriesTheClockAndTheAuthenticationScheme(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/projects/kz/pull", method: .get)
            #expect(response.status == .unauthorized)
            #expect(response.error?.code == "unauthorized")
            #expect(response.error?.message == "this endpoint needs a token: send 'Authorization: Bearer TOKEN'")
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            #expect(response.headers[HTTPField.Name(Wire.serverTimeHeader)!] == String(ServerHarness.now))
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")

            let badName = try await client.execute(uri: "/v1/projects/k.z/pull", method: .get, headers: harness.headers("ana"))
            #expect(badName.status == .badRequest)
            #expect(badName.error?.message == "'k.z' is not a project name: names are 1-64 letters, digits, '-' and '_'")
        }
    }

    @Test func theEmbeddedStoreReportsABusyDatabaseAsUnavailable() async throws {
        let harness = try await ServerHarness(store: .sqlite)
        defer { harness.cleanUp() }
        let store = try #require(harness.store as? SQLiteSyncStore)
        for code in [ResultCode.SQLITE_BUSY, .SQLITE_LOCKED] {
            await #expect(throws: StoreError.busy) { try await store.read { _ in throw DatabaseError(resultCode: code) } as Int }
            await #expect(throws: StoreError.busy) { try await store.write { _ in throw DatabaseError(resultCode: code) } as Int }
        }
        await #expect {
            try await store.write { _ in throw DatabaseError(resultCode: .SQLITE_FULL) } as Int
        } throws: { error in
            guard case .unavailable(let message) = error as? StoreError else { return false }
            return message.hasPrefix("the database could not be written (") && message.hasSuffix("): check the disk of the server")
        }
        // Anything else is not the client's to retry: it stays unexpected (a 500).
        await #expect(throws: DatabaseError.self) { try await store.read { _ in throw DatabaseError(resultCode: .SQLITE_CORRUPT) } as Int }
    }
}
