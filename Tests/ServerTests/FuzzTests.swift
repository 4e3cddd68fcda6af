import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Thousands of malformed, truncated, oversized and type-confused requests to every endpoint, and
/// pushes of sound and unsound changes: only 4xx answers to what does not decode, a push that
/// decodes gets what a correct server must answer (sound changes accepted, unsound ones refused
/// with a reason), the server keeps answering, and the store holds exactly what it accepted.
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
            // Deeper than the reader's limit (512), within the 64 KiB body limit of the test.
            let depth = random.int(1..<30_000)
            return String(repeating: "[", count: depth) + String(repeating: "]", count: random.chance(50) ? depth : depth / 2)
        default:
            return #"{"changes":[\#((0..<random.int(0..<4)).map { _ in leaves[random.int(0..<leaves.count)] }.joined(separator: ","))]}"#
        }
    }

    /// A batch a replica could send, each change sound or (at random) unsound in one way.
    static func batch(_ random: inout Random, maker: inout ChangeMaker) -> [Change] {
        (0..<random.int(1..<5)).map { _ in
            let record = String(format: "%032x", random.int(1..<40))
            var change = maker.change(record, "title", .text("fuzz \(random.int(0..<1_000))"))
            switch random.int(0..<8) {
            case 0: change.record = String(record.dropFirst())
            case 1: change.field = "date"; change.value = .date("2025-02-30")
            case 2: change.field = "no_such_field"
            case 3: change.value = .text(String(repeating: "x", count: 20_000))
            case 4: change.collection = "sources"  // a record of incidents cannot move
            case 5: change.base = change.hlc
            default: break
            }
            return change
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
        // Two templates to mutate: one sound change, and one naming a record id that is not valid.
        let template = maker.change(recordB, "title", .text("template"), base: seed[0].hlc)
        var invalid = maker.change(recordB, "title", .text("template"), base: seed[0].hlc)
        invalid.record = String(recordB.dropLast())
        // Signed as a replica signs them: a mutation that still decodes breaks the signature (`bad_signature`).
        let valid = try [template, invalid].map { String(decoding: try JSONEncoder().encode(ServerHarness.signedPush([$0], as: "ana")), as: UTF8.self) }

        let seedMaker = maker
        try await harness.app.test(.router) { client in
            var maker = seedMaker
            let seeded = try await harness.push(client, as: "ana", seed).decode(Wire.PushResponse.self)
            var expected = ExpectedPushResults(settings: harness.settings)
            expected.check(seed, results: seeded.results, round: -1)
            var random = Random(state: 20_250_123)
            var statuses: [Int: Int] = [:]
            for round in 0..<3_000 {
                let code = try await fuzzRound(round, client: client, harness: harness, random: &random, maker: &maker,
                                               templates: valid, expected: &expected)
                statuses[code, default: 0] += 1
            }
            #expect(statuses.keys.allSatisfy { $0 < 500 })
            #expect(statuses[400, default: 0] > 1_000, "\(statuses)")
            #expect(statuses[413, default: 0] > 100, "\(statuses)")
            #expect(statuses[401, default: 0] > 100, "\(statuses)")
            #expect(expected.accepted > 100 && expected.refused > 100, "accepted \(expected.accepted), refused \(expected.refused)")
            let health = try await client.execute(uri: "/v1/health", method: .get)
            #expect(health.status == .ok)
            // Nothing else written: the log holds exactly the changes the server said it accepted.
            let after = try await harness.pull(client, as: "ana", limit: 10_000)
            #expect(!after.more)
            #expect(Set(after.changes.map(\.change.hlc)) == Set(expected.known.keys))
            for logged in after.changes {
                let known = expected.known[logged.change.hlc]
                #expect(known.map { logged.change.hasSameContent(as: $0) } == true && logged.change.author == "ana", "\(logged.change)")
            }
        }
    }

    /// One fuzzed request; checks the answer and returns its status code.
    private func fuzzRound(_ round: Int, client: some TestClientProtocol, harness: ServerHarness, random: inout Random,
                           maker: inout ChangeMaker, templates: [String], expected: inout ExpectedPushResults) async throws -> Int {
        let kind = random.int(0..<12)
        if kind < 8 {
            let text = kind == 7 ? String(decoding: try JSONEncoder().encode(ServerHarness.signedPush(FuzzTests.batch(&random, maker: &maker), as: "ana")), as: UTF8.self)
                : FuzzTests.body(&random, valid: templates[random.int(0..<2)])
            var headers = harness.headers("ana")
            let json = !random.chance(5)
            if !json { headers[.contentType] = "text/plain" }
            let response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: headers, body: ByteBuffer(string: text))
            let reference = try? JSONDecoder().decode(Wire.PushRequest.self, from: Data(text.utf8))
            if response.status == .ok {
                let push = try #require(try? response.decode(Wire.PushResponse.self), "round \(round)")
                let changes = try #require(reference?.changes, "round \(round): the server took a body JSONDecoder refuses: \(text.prefix(200))")
                expected.check(changes, results: push.results, round: round)
            } else if json {
                // A body that decodes is refused only when its signature no longer holds for what it carries.
                #expect(reference == nil || response.error?.code == "bad_signature", "round \(round): \(response.status) for a body that decodes: \(text.prefix(200))")
            }
            return try check(response, round: round)
        }
        let response: TestResponse
        switch kind {
        case 8:
            let size = 64 * 1024 + random.int(1..<10_000)
            response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"),
                                                body: ByteBuffer(repeating: UInt8(ascii: "["), count: size))
            #expect(response.status == .contentTooLarge)
        case 9:
            let queries = ["after=-1", "after=abc", "limit=0", "limit=99999999999999999999", "after=1&limit=-5", "limit=10001",
                           "after=%00", "after=\(String(repeating: "9", count: 40))"]
            let path = random.chance(50) ? "pull" : "snapshot"
            let query = path == "snapshot" ? ["after=nope", "after=0194a0000000-0000-", "limit=0", "after=%FF"][random.int(0..<4)]
                : queries[random.int(0..<queries.count)]
            response = try await client.execute(uri: "/v1/projects/kz/\(path)?\(query)", method: .get, headers: harness.headers("ana"))
        case 10:
            let auth = ["", "Bearer", "Bearer ", "bearer x", "Basic YWxhZGRpbjpvcGVu", "Bearer " + String(repeating: "a", count: 5_000),
                        "Bearer cbk_\u{00e9}"][random.int(0..<7)]
            response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: [.authorization: auth],
                                                body: ByteBuffer(string: templates[0]))
        default:
            let paths = ["/v1/projects//push", "/v1/projects/kz/../push", "/v1/projects/%00/schema", "/v1/projects/kz/push/extra",
                         "/v2/health", "/", "/v1/projects/\(String(repeating: "x", count: 3_000))/pull"]
            let methods: [HTTPRequest.Method] = [.get, .put, .delete, .patch, .post]
            response = try await client.execute(uri: paths[random.int(0..<paths.count)], method: methods[random.int(0..<methods.count)],
                                                headers: harness.headers("ana"))
        }
        return try check(response, round: round)
    }

    /// A refusal is a 4xx with the JSON error body; returns the status code.
    private func check(_ response: TestResponse, round: Int) throws -> Int {
        let code = Int(response.status.code)
        if code != 200 {
            #expect((400..<500).contains(code), "round \(round): \(code) \(response.error?.message ?? "")")
            #expect(response.error != nil, "round \(round): an error without the JSON body")
        }
        return code
    }

    /// The reader has a depth limit: a body nested 100,000 deep is refused with 400, and the server keeps answering.
    @Test(arguments: StoreKind.allCases) func deeplyNestedBodiesAreRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) { $0.maxBodyBytes = 1024 * 1024 }
        defer { harness.cleanUp() }
        let depth = 100_000
        let bodies = [String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                      #"{"changes":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}",
                      #"{"changes":[{"value":"# + String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth + 2) + "]}",
                      String(repeating: "[", count: depth)]
        try await harness.app.test(.router) { client in
            for body in bodies {
                let response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"),
                                                        body: ByteBuffer(string: body))
                #expect(response.status == .badRequest)
                #expect(response.error?.code != nil)
            }
            #expect(try await client.execute(uri: "/v1/health", method: .get).status == .ok)
            var maker = ChangeMaker(node: "000000000000000b")
            let response = try await harness.push(client, as: "ana", [maker.change(recordA, "title", .text("still answering"))])
            #expect(try response.decode(Wire.PushResponse.self).results.map(\.status) == [.applied])
        }
    }
}
