import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Sensitive fields on the server: only sealed values are accepted for them and they are merged by
/// version, never by content; project keys are kept as signed wraps, the first key offered wins, and
/// a wrap no member's device signed is refused.
@Suite struct ProjectKeyRouteTests {
    static var key: SymmetricKey { SymmetricKey(data: Data(repeating: 7, count: 32)) }

    /// A wrap of `key` for `recipient`'s test device, made by `granter`'s test device (or signed by `signer`).
    static func wrap(_ id: String, for recipient: String, by granter: String = "ana", project: String = "kz",
                     signer: Curve25519.Signing.PrivateKey? = nil) throws -> Wire.KeyWrap {
        try ProjectKeyWrap.wrap(key, keyID: id, project: project, node: ServerHarness.device(of: recipient).node,
                                recipient: Curve25519.KeyAgreement.PrivateKey().publicKey, granter: ServerHarness.device(of: granter).node,
                                signingKey: signer ?? ServerHarness.device(of: granter).key)
    }

    func post<T: Encodable>(_ client: some TestClientProtocol, _ harness: ServerHarness, _ path: String, as user: String, _ body: T) async throws -> TestResponse {
        try await client.execute(uri: "/v1/projects/kz/\(path)", method: .post, headers: harness.headers(user),
                                 body: ByteBuffer(bytes: try JSONEncoder().encode(body)))
    }

    func sealed(_ value: String, record: String, field: String = "name") throws -> FieldValue {
        .text(try SealedValue(sealing: .text(value), key: Self.key, keyID: "0123456789abcdef",
                              place: .init(project: "kz", collection: "persons", record: record, field: field)).text)
    }

    @Test(arguments: StoreKind.allCases) func aSensitiveFieldTakesOnlySealedValuesAndConcurrentOnesConflict(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: ServerHarness.device(of: "ana").node.rawValue)
            var bek = ChangeMaker(node: ServerHarness.device(of: "bek").node.rawValue)
            bek.millis += 100  // after Ana's first version, which both edit
            let plain = ana.change(recordA, "name", .text("Aigerim Sultanova"), collection: "persons")
            let forged = ana.change(recordA, "contact", .text(SealedValue.prefix + "0123456789abcdef:not base64!"), collection: "persons")
            let first = ana.change(recordA, "name", try sealed("Aigerim", record: recordA), collection: "persons")
            let results = try await harness.push(client, as: "ana", [plain, forged, first]).decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.rejected, .rejected, .applied])
            #expect(results[0].reason?.contains("sensitive") == true && results[0].reason?.contains("never plain text") == true, "\(results[0])")

            // Two edits of the sealed name from the same version: a conflict, whatever they hold.
            let anas = ana.change(recordA, "name", try sealed("Aigerim S.", record: recordA), base: first.hlc, collection: "persons")
            let beks = bek.change(recordA, "name", try sealed("Aigerim N.", record: recordA), base: first.hlc, collection: "persons")
            _ = try await harness.push(client, as: "ana", [anas])
            #expect(try await harness.push(client, as: "bek", [beks]).decode(Wire.PushResponse.self).results.map(\.status) == [.conflict])
            #expect(try await harness.storedOpenConflicts().map(\.field) == ["name"])
        }
    }

    @Test(arguments: StoreKind.allCases) func theFirstKeyOfferedWinsAndWrapsAreCheckedBeforeTheyAreKept(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let empty = try await client.execute(uri: "/v1/projects/kz/keys", method: .get, headers: harness.headers("vera")).decode(Wire.ProjectKeys.self)
            #expect(empty.keys.isEmpty && empty.members.contains("bek") && !empty.members.contains("olga"))

            // A viewer writes no sealed value: they may not make (or rotate) the key, wrapped for whom they chose.
            let viewers = Wire.KeyCreation(id: "00000000000000d4", previous: nil, wraps: [try Self.wrap("00000000000000d4", for: "vera", by: "vera")])
            #expect(try await post(client, harness, "keys", as: "vera", viewers).status == .forbidden)
            let first = Wire.KeyCreation(id: "00000000000000a1", previous: nil, wraps: [try Self.wrap("00000000000000a1", for: "ana")])
            let second = Wire.KeyCreation(id: "00000000000000b2", previous: nil, wraps: [try Self.wrap("00000000000000b2", for: "bek", by: "bek")])
            #expect(try await post(client, harness, "keys", as: "ana", first).decode(Wire.ProjectKeys.self).created == true)
            let lost = try await post(client, harness, "keys", as: "bek", second).decode(Wire.ProjectKeys.self)
            #expect(lost.created == false && lost.current?.id == "00000000000000a1" && lost.current?.holders == ["ana"] && lost.wraps.isEmpty)

            // Refused: a wrap signed by a key no device of the sender has, one naming another's device as
            // granter, one for a device outside the project, one of another key; nothing is kept.
            let forged = try Self.wrap("00000000000000a1", for: "bek", signer: Curve25519.Signing.PrivateKey())
            let otherGranter = try Self.wrap("00000000000000a1", for: "bek", by: "bek")
            let outsider = try Self.wrap("00000000000000a1", for: "olga")
            let mixed = try Self.wrap("00000000000000b2", for: "bek")
            for (wrap, status) in [(forged, HTTPResponse.Status.forbidden), (otherGranter, .forbidden), (outsider, .forbidden), (mixed, .unprocessableContent)] {
                let answer = try await post(client, harness, "keys/00000000000000a1/wraps", as: "ana", Wire.KeyGrant(wraps: [wrap]))
                #expect(answer.status == status, "\(String(buffer: answer.body))")
            }
            let unknown = try await post(client, harness, "keys/00000000000000c3/wraps", as: "ana", Wire.KeyGrant(wraps: [try Self.wrap("00000000000000c3", for: "bek")]))
            #expect(unknown.status == .notFound)
            var keys = try await client.execute(uri: "/v1/projects/kz/keys", method: .get, headers: harness.headers("bek")).decode(Wire.ProjectKeys.self)
            #expect(keys.wraps.isEmpty)

            // A grant: Bek gets his wrap, and only his.
            let grant = Wire.KeyGrant(wraps: [try Self.wrap("00000000000000a1", for: "bek")])
            #expect(try await post(client, harness, "keys/00000000000000a1/wraps", as: "ana", grant).status == .ok)
            keys = try await client.execute(uri: "/v1/projects/kz/keys", method: .get, headers: harness.headers("bek")).decode(Wire.ProjectKeys.self)
            #expect(keys.wraps == grant.wraps && keys.current?.holders == ["ana", "bek"])

            // A rotation names the current key; one naming an older key (or none) loses.
            let rotation = Wire.KeyCreation(id: "00000000000000d4", previous: "00000000000000a1", wraps: [try Self.wrap("00000000000000d4", for: "bek", by: "bek")])
            #expect(try await post(client, harness, "keys", as: "bek", rotation).decode(Wire.ProjectKeys.self).created == true)
            let stale = Wire.KeyCreation(id: "00000000000000e5", previous: "00000000000000a1", wraps: [try Self.wrap("00000000000000e5", for: "ana")])
            #expect(try await post(client, harness, "keys", as: "ana", stale).decode(Wire.ProjectKeys.self).created == false)
            #expect(try await harness.store.projectKeys(project: "kz", owner: "ana").keys.map(\.id) == ["00000000000000a1", "00000000000000d4"])

            // Outside the project: no keys read, none written.
            let outside = try await client.execute(uri: "/v1/projects/kz/keys", method: .get, headers: harness.headers("olga"))
            #expect(outside.status == .forbidden)
        }
    }

    @Test(arguments: StoreKind.allCases) func twoCreationsAtOnceMakeOneKey(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let store = harness.store
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                let id = String(format: "%016x", index + 1)
                let creation = Wire.KeyCreation(id: id, previous: nil, wraps: [try Self.wrap(id, for: "ana")])
                group.addTask { try await store.createProjectKey(project: "kz", creation: creation, creator: "ana", now: ServerHarness.now) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        let keys = try await store.projectKeys(project: "kz", owner: "ana")
        #expect(keys.keys.count == 1 && keys.wraps.map(\.keyID) == keys.keys.map(\.id))
    }
}
