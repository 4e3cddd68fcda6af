import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing
@testable import Shared

/// Requests the `casebook` client never sends, written by hand and sent to the real server: what a
/// buggy or hostile client could do. The client checks the same things first, so only these tests
/// show that the server does not rely on it.
@Suite(.serialized) struct RawRequestTests {
    /// Sends `body` to an endpoint with `token`; the status and the body of the answer.
    static func send(_ server: RunningServer, _ path: String, body: Data? = nil, token: String?) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: try #require(URL(string: "\(server.url)\(path)")))
        request.httpMethod = body == nil ? "GET" : "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test(arguments: StoreKind.allCases) func listItemsTooLongOrWithControlCharactersAreRejected(store: StoreKind) async throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let token = try #require(try server.setUp(users: [("ana", "researcher")])["ana"])
        try server.start()
        let record = "0123456789abcdef0123456789abcdef"
        var clock = HybridClock(node: NodeID("00000000000000a1")!)
        func change(_ field: String, _ value: FieldValue) -> Change {
            Change(collection: "recommendations", record: record, field: field, value: value,
                   hlc: clock.tick(now: UInt64(Date().timeIntervalSince1970 * 1000)), author: "ana", base: nil)
        }
        let changes = [
            change("text", .text("Ratify the Optional Protocol")),
            change("recommending_state", .list(["Norway", "Spa\u{07}in"])),
            change("recommending_state", .list(["Norway", String(repeating: "x", count: Schema.Limits.itemLength + 1)])),
            change("recommending_state", .list(["Norway", "Spain"])),
        ]
        // Signed as a replica signs: by a device of Ana's, registered first.
        let key = Curve25519.Signing.PrivateKey(), node = NodeID("00000000000000a1")!
        let registration = Wire.DeviceRegistration(node: node.rawValue, signingKey: key.publicKey.rawRepresentation.base64EncodedString())
        #expect(try await Self.send(server, "/v1/projects/kz/devices", body: JSONEncoder().encode(registration), token: token).status == 200)
        let request = Wire.PushRequest(changes: changes, batches: [try SignedBatch(signing: changes, project: "kz", node: node, key: key)])
        let answer = try await Self.send(server, "/v1/projects/kz/push", body: JSONEncoder().encode(request), token: token)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        let results = try JSONDecoder().decode(Wire.PushResponse.self, from: answer.body).results
        #expect(results.map(\.status) == [.applied, .rejected, .rejected, .applied])
        #expect(results[1].code == "invalid")
        #expect(results[1].reason?.contains("control character U+7") == true, "\(results[1].reason ?? "")")
        #expect(results[2].code == "invalid")
        #expect(results[2].reason?.contains("longer than \(Schema.Limits.itemLength) characters") == true, "\(results[2].reason ?? "")")
    }

    @Test func aPushNestedDeeperThanJSONAllowsIsRefusedAndTheServerKeepsAnswering() async throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let token = try #require(try server.setUp(users: [("ana", "researcher")])["ana"])
        try server.start()
        // 400 KB: far below the body limit, deep enough to exhaust a reader that recurses without a bound.
        let depth = 200_000
        let body = Data(("{\"changes\":[],\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}").utf8)
        let answer = try await Self.send(server, "/v1/projects/kz/push", body: body, token: token)
        #expect(answer.status == 400, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(try await Self.send(server, "/v1/health", token: nil).status == 200)
        #expect(server.process.isRunning)
    }

    @Test func issuedTokensAreRandomInAllTheirBits() throws {
        // Issued by the admin command on a store of its own (no server needs to run).
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-tokens-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        #expect(try Programs.run("casebook-server", ["project", "create", "kz", "--data", data.path]).code == 0)
        let tokens = try (0..<8).map { index in
            let added = try Programs.run("casebook-server", ["user", "add", "user\(index)", "--project", "kz", "--role", "viewer", "--json", "--data", data.path])
            return try #require(try added.object()["token"] as? String, "\(added.stderr)")
        }
        #expect(tokens.count == 8)
        var bits: [[Bool]] = []
        for token in tokens {
            #expect(token.hasPrefix("cbk_"))
            let hex = Array(token.dropFirst(4))
            #expect(hex.count == 64 && hex.allSatisfy(\.isHexDigit), "\(token)")
            bits.append(hex.flatMap { digit in (0..<4).map { (Int(String(digit), radix: 16) ?? 0) >> (3 - $0) & 1 == 1 } })
        }
        // Two independent 256-bit values differ in about 128 bits (standard deviation 8). A counter,
        // a timestamp or 64 random bits padded out differ in far fewer.
        for i in bits.indices {
            for j in bits.indices where j > i {
                let distance = zip(bits[i], bits[j]).filter { $0 != $1 }.count
                #expect(distance >= 80, "tokens \(i) and \(j) differ in only \(distance) of 256 bits")
            }
        }
    }
}
