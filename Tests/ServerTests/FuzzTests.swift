import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Thousands of malformed, truncated, oversized and type-confused requests to every endpoint:
/// only 4xx answers (or, for a push that happens to decode, every change refused), the server
/// keeps answering, and the store is unchanged.
@Suite struct FuzzTests {
    struct Random {
        private var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    }

    static let leaves: [String] = ["null", "true", "0", "-1", "1e308", "\"\"", "[]", "{}", "\"\\u0000\"", "[[[[[]]]]]",
                                   "\"2025-02-30\"", "\"zz\"", "18446744073709551616", "{\"type\":\"date\"}", "\"0194a0000000-0000-\""]

    /// A push body that is wrong in some way: truncated, type-confused, flipped, or garbage.
    static func body(_ random: inout Random, valid: String) -> String {
        switch random.int(0..<5) {
        case 0: return String(valid.prefix(random.int(0..<valid.count)))
        case 1:
            // Replace one value with another type.
            var parts = valid.components(separatedBy: ":")
            let index = random.int(1..<parts.count)
            let tail = parts[index].drop { $0 != "," && $0 != "}" }
            parts[index] = leaves[random.int(0..<leaves.count)] + tail
            return parts.joined(separator: ":")
        case 2:
            var bytes = Array(valid.utf8)
            for _ in 0..<random.int(1..<6) { bytes[random.int(0..<bytes.count)] = UInt8(truncatingIfNeeded: random.next()) }
            return String(decoding: bytes, as: UTF8.self)
        case 3:
            let depth = random.int(1..<2_000)
            return String(repeating: "[", count: depth) + String(repeating: "]", count: random.chance(50) ? depth : depth / 2)
        default:
            return #"{"changes":[\#((0..<random.int(0..<4)).map { _ in leaves[random.int(0..<leaves.count)] }.joined(separator: ","))]}"#
        }
    }

    @Test(arguments: StoreKind.allCases) func malformedRequestsGetOnly4xxAndChangeNothing(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) {
            $0.maxBodyBytes = 64 * 1024
            $0.authThrottle.freeFailures = .max
        }
        defer { harness.cleanUp() }
        // Some real data first, so "unchanged" means something.
        var maker = ChangeMaker(node: "000000000000000a")
        let seed = [maker.change(recordA, "title", .text("Seed record")), maker.change(recordA, "location", .text("Астана"))]
        // Every fuzzed change names a record id that is not valid, so even a body that decodes stores nothing.
        var template = maker.change(recordB, "title", .text("template"), base: seed[0].hlc)
        template.record = String(recordB.dropLast())
        let valid = String(decoding: try JSONEncoder().encode(Wire.PushRequest(changes: [template])), as: UTF8.self)

        try await harness.app.test(.router) { client in
            _ = try await harness.push(client, as: "ana", seed)
            let before = try await harness.pull(client, as: "ana")
            var random = Random(state: 20_250_123)
            var statuses: [Int: Int] = [:]
            for round in 0..<3_000 {
                let response: TestResponse
                let kind = random.int(0..<10)
                if kind < 6 {
                    let text = FuzzTests.body(&random, valid: valid)
                    var headers = harness.headers("ana")
                    if random.chance(5) { headers[.contentType] = "text/plain" }
                    response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: headers, body: ByteBuffer(string: text))
                } else if kind == 6 {
                    let size = 64 * 1024 + random.int(1..<10_000)
                    response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"),
                                                        body: ByteBuffer(repeating: UInt8(ascii: "["), count: size))
                    #expect(response.status == .contentTooLarge)
                } else if kind == 7 {
                    let queries = ["after=-1", "after=abc", "limit=0", "limit=99999999999999999999", "after=1&limit=-5", "limit=10001",
                                   "after=%00", "after=\(String(repeating: "9", count: 40))"]
                    let path = random.chance(50) ? "pull" : "snapshot"
                    let query = path == "snapshot" ? ["after=nope", "after=0194a0000000-0000-", "limit=0", "after=%FF"][random.int(0..<4)]
                        : queries[random.int(0..<queries.count)]
                    response = try await client.execute(uri: "/v1/projects/kz/\(path)?\(query)", method: .get, headers: harness.headers("ana"))
                } else if kind == 8 {
                    let auth = ["", "Bearer", "Bearer ", "bearer x", "Basic YWxhZGRpbjpvcGVu", "Bearer " + String(repeating: "a", count: 5_000),
                                "Bearer cbk_\u{00e9}"][random.int(0..<7)]
                    response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: [.authorization: auth],
                                                        body: ByteBuffer(string: valid))
                } else {
                    let paths = ["/v1/projects//push", "/v1/projects/kz/../push", "/v1/projects/%00/schema", "/v1/projects/kz/push/extra",
                                 "/v2/health", "/", "/v1/projects/\(String(repeating: "x", count: 3_000))/pull"]
                    let methods: [HTTPRequest.Method] = [.get, .put, .delete, .patch, .post]
                    response = try await client.execute(uri: paths[random.int(0..<paths.count)], method: methods[random.int(0..<methods.count)],
                                                        headers: harness.headers("ana"))
                }
                let code = Int(response.status.code)
                statuses[code, default: 0] += 1
                if code == 200, let push = try? response.decode(Wire.PushResponse.self) {
                    #expect(push.results.allSatisfy { $0.status == .rejected }, "round \(round)")
                } else if code != 200 {
                    #expect((400..<500).contains(code), "round \(round): \(code) \(response.error?.message ?? "")")
                    #expect(response.error != nil, "round \(round): an error without the JSON body")
                }
            }
            #expect(statuses.keys.allSatisfy { $0 < 500 })
            #expect(statuses[400, default: 0] > 1_000, "\(statuses)")
            #expect(statuses[413, default: 0] > 100, "\(statuses)")
            #expect(statuses[401, default: 0] > 100, "\(statuses)")
            let health = try await client.execute(uri: "/v1/health", method: .get)
            #expect(health.status == .ok)
            let after = try await harness.pull(client, as: "ana")
            #expect(after.changes == before.changes)
            #expect(after.cursor == before.cursor)
        }
    }
}
