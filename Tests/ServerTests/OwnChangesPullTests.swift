import Foundation
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
        let skip = OwnChanges(node: NodeID("000000000000000a")!, upTo: 7)
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
}
