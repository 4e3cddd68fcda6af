import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server
@testable import Shared

/// `Casebook-Server-Keys`: on every answer, errors included, when the server has keys to announce
/// (`serve` has them only over TLS), and on none otherwise.
@Suite struct ServerKeysHeaderTests {
    static let current = ServerKey(sha256: [UInt8](repeating: 1, count: 32))!
    static let next = ServerKey(sha256: [UInt8](repeating: 2, count: 32))!
    static let name = HTTPField.Name(Wire.serverKeysHeader)!

    @Test func everyAnswerListsTheCurrentKeyThenTheNextOnes() async throws {
        let harness = try await ServerHarness { $0.serverKeys = [Self.current, Self.next] }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let answers = [
                try await client.execute(uri: "/v1/health", method: .get),
                try await client.execute(uri: "/v1/projects/kz/schema", method: .get, headers: harness.headers("ana")),
                try await client.execute(uri: "/v1/projects/kz/schema", method: .get),
                try await client.execute(uri: "/v1/nowhere", method: .get),
            ]
            #expect(answers.map(\.status) == [.ok, .ok, .unauthorized, .notFound])
            for answer in answers {
                #expect(answer.headers[Self.name] == "\(Self.current), \(Self.next)")
                #expect(ServerKey.list(answer.headers[Self.name] ?? "") == [Self.current, Self.next])
            }
        }
    }

    @Test func aServerWithoutTLSKeysSendsNoHeader() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/health", method: .get)
            #expect(response.headers[Self.name] == nil)
        }
    }
}
