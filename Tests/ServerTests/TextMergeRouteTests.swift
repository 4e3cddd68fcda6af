import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Automatic merges on the server, on both stores: a push reports concurrent edits of different
/// parts of a long text as applied and overlapping ones as a conflict, a group's concurrent edits
/// as one conflict, and `/history` answers the versions a merge reads.
@Suite struct TextMergeRouteTests {
    static let base = "On 12 March police detained Zhanar.\n\nHer lawyer was not allowed in.\n"

    /// The creation by Ana, then Ana and Bek each editing the description without seeing the other.
    func pushConcurrent(_ harness: ServerHarness, _ client: some TestClientProtocol, ana anaText: String, bek bekText: String)
        async throws -> (v0: Change, ana: Change, bek: Change, results: [Wire.ChangeResult]) {
        var ana = ChangeMaker(node: "00000000000000a1"), bek = ChangeMaker(node: "00000000000000b2")
        let v0 = ana.change(recordA, "description", .text(Self.base))
        _ = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("Arrest")), v0])
        let byAna = ana.change(recordA, "description", .text(anaText), base: v0.hlc)
        let byBek = bek.change(recordA, "description", .text(bekText), base: v0.hlc)
        _ = try await harness.push(client, as: "ana", [byAna])
        let response = try await harness.push(client, as: "bek", [byBek])
        return (v0, byAna, byBek, try response.decode(Wire.PushResponse.self).results)
    }

    @Test(arguments: StoreKind.allCases) func editsOfDifferentParagraphsAreAppliedOverlappingOnesConflict(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let merged = try await pushConcurrent(harness, client, ana: Self.base.replacingOccurrences(of: "12", with: "13"),
                                                  bek: Self.base + "\nA witness saw it.\n")
            #expect(merged.results.map(\.status) == [.applied])
            #expect(try await harness.storedOpenConflicts().isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func overlappingEditsOfOneSentenceConflict(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let pushed = try await pushConcurrent(harness, client, ana: Self.base.replacingOccurrences(of: "12", with: "13"),
                                                  bek: Self.base.replacingOccurrences(of: "police", with: "officers"))
            #expect(pushed.results.map(\.status) == [.conflict])
            #expect(try await harness.storedOpenConflicts().map(\.field) == ["description"])
        }
    }

    @Test(arguments: StoreKind.allCases) func historyAnswersTheVersionsTheMergeReadsToAnyMember(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let pushed = try await pushConcurrent(harness, client, ana: Self.base.replacingOccurrences(of: "12", with: "13"),
                                                  bek: Self.base + "\nA witness saw it.\n")
            let asked = Wire.HistoryRequest(fields: [.init(record: recordA, field: "description", heads: [pushed.bek.hlc, pushed.ana.hlc])])
            // A viewer may ask: the answer holds nothing a pull would not.
            let response = try await client.execute(uri: "/v1/projects/kz/history", method: .post, headers: harness.headers("vera"),
                                                    body: ByteBuffer(bytes: try JSONEncoder().encode(asked)))
            #expect(response.status == .ok)
            let answer = try response.decode(Wire.HistoryResponse.self)
            #expect(answer.answered == 1)
            #expect(answer.changes.map(\.change.hlc) == [pushed.v0.hlc, pushed.ana.hlc, pushed.bek.hlc].sorted())
            #expect(answer.serverTime == ServerHarness.now)
        }
    }

    @Test func historyRefusesWhatIsNotAFieldToMerge() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            func post(_ body: String, as user: String? = "ana") async throws -> TestResponse {
                try await client.execute(uri: "/v1/projects/kz/history", method: .post, headers: harness.headers(user), body: ByteBuffer(string: body))
            }
            #expect(try await post("{\"fields\": [{\"record\": \"nope\", \"field\": \"description\", \"heads\": []}]}").status == .badRequest)
            #expect(try await post("{\"fields\": [{\"record\": \"\(recordA)\", \"field\": \"description\", \"heads\": [\"x\"]}]}").status == .badRequest)
            #expect(try await post("{}").status == .badRequest)
            let many = (0...Wire.HistoryRequest.maxFields).map { _ in "{\"record\": \"\(recordA)\", \"field\": \"description\", \"heads\": []}" }
            #expect(try await post("{\"fields\": [\(many.joined(separator: ","))]}").status == .contentTooLarge)
            #expect(try await post("{\"fields\": []}", as: nil).status == .unauthorized)
            #expect(try await post("{\"fields\": []}", as: "olga").status == .forbidden)
            // An unknown head is no error: there is simply nothing to give.
            let empty = try await post("{\"fields\": [{\"record\": \"\(recordA)\", \"field\": \"description\", \"heads\": [\"0194910e0e08-0000-b71c04e29a5d3f18\"]}]}")
            #expect(empty.status == .ok)
            #expect(try empty.decode(Wire.HistoryResponse.self).changes.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentEditsOfAGroupAreOneConflictOfTheGroup(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        var ana = ChangeMaker(node: "00000000000000a1"), bek = ChangeMaker(node: "00000000000000b2")
        let date = ana.change(recordA, "date", .date("2024-03-12")), precision = ana.change(recordA, "date_precision", .text("day"))
        _ = try await harness.store.push(project: "kz", changes: [ana.change(recordA, "title", .text("Arrest")), date, precision],
                                         author: "ana", policy: PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000))
        // Ana changes the date, Bek the precision; each edit writes the whole group.
        let byAna = [ana.change(recordA, "date", .date("2024-03-13"), base: date.hlc), ana.change(recordA, "date_precision", .text("day"), base: precision.hlc)]
        let byBek = [bek.change(recordA, "date", .date("2024-03-12"), base: date.hlc), bek.change(recordA, "date_precision", .text("month"), base: precision.hlc)]
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        _ = try await harness.store.push(project: "kz", changes: byAna, author: "ana", policy: policy)
        let results = try await harness.store.push(project: "kz", changes: byBek, author: "bek", policy: policy)
        let conflicts = try await harness.storedOpenConflicts()
        #expect(conflicts.map(\.field) == ["when"])
        #expect(results.map(\.status) == [.conflict, .conflict])
        #expect(Set(results.compactMap(\.conflict)) == [conflicts[0].id])
    }
}
