import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Replacing a project's schema on both stores: pulls and snapshots announce the version, a second
/// instance on the same data sees it at once, the stored data is counted, and retired terms are
/// refused only to changes made with the current version.
@Suite struct SchemaVersionStoreTests {
    /// `upr` version 2, with `violation_status.disputed` retired.
    var retiring: Schema {
        var schema = Schema.upr
        schema.version = 2
        let index = schema.vocabularies.firstIndex { $0.name == "violation_status" }!
        schema.vocabularies[index].terms[3].deprecated = true
        return schema
    }

    func push(_ client: some TestClientProtocol, _ harness: ServerHarness, _ changes: [Change], schemaVersion: Int?) async throws -> Wire.PushResponse {
        var request = try ServerHarness.signedPush(changes, as: "ana")
        request.schemaVersion = schemaVersion
        let response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"),
                                                body: ByteBuffer(bytes: try JSONEncoder().encode(request)))
        #expect(response.status == .ok)
        return try JSONDecoder().decode(Wire.PushResponse.self, from: Data(buffer: response.body))
    }

    @Test(arguments: StoreKind.allCases) func aNewVersionIsAnnouncedByEveryInstanceAndCountedOnTheData(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let (other, stop) = try await harness.reopen()
        defer { stop() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: ServerHarness.device(of: "ana").node.rawValue)
            let record = recordA
            let changes = [ana.change(record, "title", .text("Disputed claim")), ana.change(record, "violation_status", .text("disputed"))]
            #expect(try await push(client, harness, changes, schemaVersion: 1).results.allSatisfy { $0.status == .applied })
            #expect(try await harness.pull(client, as: "ana").schemaVersion == 1)

            let dry = try await harness.store.replaceSchema(project: "kz", with: retiring, dryRun: true)
            #expect(dry.acceptable && !dry.applied)
            #expect(dry.touched.map { "\($0.step)" + ($0.records.map { " \($0)" } ?? "") }
                    == ["term violation_status.disputed retired (kept for its values, refused for new ones) 1"])
            #expect(try await other.schema(project: "kz")?.version == 1)
            #expect(try await harness.store.replaceSchema(project: "kz", with: retiring, dryRun: false).applied)
            // The other instance reads it at once, in what it serves.
            #expect(try await other.pull(project: "kz", after: 0, limit: 10).schemaVersion == 2)
            #expect(try await other.snapshot(project: "kz", after: nil, limit: 10).schemaVersion == 2)
            // The same version again is refused.
            #expect(try await other.replaceSchema(project: "kz", with: retiring, dryRun: false).refusals.first?.contains("not above the project's 2") == true)

            // A change made offline with version 1 keeps the retired term; one made with version 2 may not use it.
            let late = ana.change(record, "violation_status", .text("disputed"), base: changes[1].hlc)
            #expect(try await push(client, harness, [late], schemaVersion: 1).results.first?.status == .applied)
            let now = ana.change(record, "violation_status", .text("disputed"), base: late.hlc)
            let refused = try await push(client, harness, [now], schemaVersion: 2).results.first
            #expect(refused?.status == .rejected && refused?.reason?.contains("no longer takes 'disputed'") == true, "\(String(describing: refused))")
            #expect(try await push(client, harness, [ana.change(record, "violation_status", .text("verified"), base: late.hlc)], schemaVersion: 2)
                .results.first?.status == .applied)
            let summary = try #require(try await other.projectSummaries(name: "kz").first)
            #expect(summary.schemaVersion == 2 && summary.records == ["incidents": 1])
        }
    }
}
