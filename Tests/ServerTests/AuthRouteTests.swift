import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct AuthRouteTests {
    @Test(arguments: StoreKind.allCases) func healthAnswersWithTheServerTime(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name(Wire.serverTimeHeader)!] == String(ServerHarness.now))
            #expect(try response.decode(Wire.HealthResponse.self).serverTime == ServerHarness.now)
        }
    }

    @Test(arguments: StoreKind.allCases) func schemaNeedsAValidTokenOfAMember(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let ok = try await client.execute(uri: "/v1/projects/kz/schema", method: .get, headers: harness.headers("vera"))
            #expect(ok.status == .ok)
            let body = try ok.decode(Wire.SchemaResponse.self)
            #expect(body.schema == .upr)
            #expect(body.user == "vera")
            #expect(body.role == "viewer")

            let none = try await client.execute(uri: "/v1/projects/kz/schema", method: .get)
            #expect(none.status == .unauthorized)
            #expect(none.error?.code == "unauthorized")
            #expect(none.headers[.wwwAuthenticate] == "Bearer")

            let wrong = try await client.execute(uri: "/v1/projects/kz/schema", method: .get, headers: harness.headers("cbk_0000"))
            #expect(wrong.status == .unauthorized)
            let malformed = try await client.execute(uri: "/v1/projects/kz/schema", method: .get, headers: [.authorization: "Basic abc"])
            #expect(malformed.status == .unauthorized)

            // Not a member and no such project look exactly the same.
            let foreign = try await client.execute(uri: "/v1/projects/kz/schema", method: .get, headers: harness.headers("olga"))
            let missing = try await client.execute(uri: "/v1/projects/nope/schema", method: .get, headers: harness.headers("olga"))
            #expect(foreign.status == .forbidden)
            #expect(missing.status == .forbidden)
            #expect(foreign.error?.message.replacingOccurrences(of: "'kz'", with: "'X'")
                == missing.error?.message.replacingOccurrences(of: "'nope'", with: "'X'"))
        }
    }

    @Test(arguments: StoreKind.allCases) func revokedTokensStopWorkingAtOnce(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let before = try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("bek"))
            #expect(before.status == .ok)
            try await harness.store.revokeUser(name: "bek", now: ServerHarness.now)
            let after = try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("bek"))
            #expect(after.status == .unauthorized)
            #expect(after.error?.message.contains("revoked") == true)
        }
    }

    @Test(arguments: StoreKind.allCases) func aViewerMayPullButNotPush(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var maker = ChangeMaker(node: "0000000000000001")
            let response = try await harness.push(client, as: "vera", [maker.change(recordA, "title", .text("x"))])
            #expect(response.status == .forbidden)
            #expect(response.error?.message.contains("viewers may pull but not push") == true)
            #expect(try await harness.pull(client, as: "vera").changes.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func unknownEndpointsAnswerJSON404(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let response = try await client.execute(uri: "/v2/anything", method: .get)
            #expect(response.status == .notFound)
            #expect(response.error?.code == "not_found")
            #expect(response.headers[HTTPField.Name(Wire.serverTimeHeader)!] != nil)
        }
    }
}
