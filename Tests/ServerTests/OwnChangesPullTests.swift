import Foundation
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct OwnChangesPullTests {
    @Test(arguments: StoreKind.allCases) func aPullerCanSkipItsOwnAcknowledgedChangesButNothingElse(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        var ana = ChangeMaker(node: "000000000000000a")
        var bek = ChangeMaker(node: "000000000000000b")
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        for i in 0..<5 {
            _ = try await harness.store.push(project: "kz", changes: [ana.change(recordA, "title", .text("a\(i)"), base: nil)], author: "ana", policy: policy)
            _ = try await harness.store.push(project: "kz", changes: [bek.change(recordB, "title", .text("b\(i)"), base: nil)], author: "bek", policy: policy)
        }
        let skip = Wire.OwnChanges(node: NodeID("000000000000000a")!, upTo: 7)
        var cursor: Int64 = 0
        var seen: [Int64] = []
        repeat {
            let page = try await harness.store.pull(project: "kz", after: cursor, limit: 2, skip: skip)
            seen += page.changes.map(\.seq)
            #expect(page.cursor > cursor || page.changes.isEmpty)
            cursor = page.cursor
            if !page.more { break }
        } while true
        // Ana's changes are the odd sequence numbers: 1, 3, 5, 7 are skipped, 9 is not.
        #expect(seen == [2, 4, 6, 8, 9, 10])
        #expect(cursor == 10)
    }

    @Test(arguments: StoreKind.allCases) func thePullRouteReadsTheOwnChangesAsTheSharedTypeWritesThem(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var bek = ChangeMaker(node: "000000000000000b")
            _ = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("mine"))])
            _ = try await harness.push(client, as: "bek", [bek.change(recordB, "title", .text("theirs"))])
            let skip = Wire.OwnChanges(node: NodeID("000000000000000a")!, upTo: 1)
            #expect(skip.query == "skipNode=000000000000000a&skipUpTo=1")
            let response = try await client.execute(uri: "/v1/projects/kz/pull?after=0&\(skip.query)", method: .get, headers: harness.headers("ana"))
            let page = try response.decode(Wire.PullResponse.self)
            #expect(page.changes.map(\.seq) == [2])
            #expect(page.cursor == 2)

            let bad = try await client.execute(uri: "/v1/projects/kz/pull?skipNode=XYZ", method: .get, headers: harness.headers("ana"))
            #expect(bad.status == .badRequest)
            #expect(bad.error?.message == "'skipNode' must be a node id (1-32 characters 0-9a-f)")
        }
    }
}
