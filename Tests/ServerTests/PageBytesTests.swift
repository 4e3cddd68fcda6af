import Foundation
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Pages bounded by bytes as well as count, on both stores.
@Suite struct PageBytesTests {
    /// A change of `recordA`'s description holding `bytes` bytes of text.
    func large(_ maker: inout ChangeMaker, _ record: String, bytes: Int) -> Change {
        maker.change(record, "description", .text(String(repeating: "x", count: bytes)))
    }

    @Test func aPageStopsAtItsByteBudgetButAlwaysTakesItsFirstChange() {
        var ana = ChangeMaker(node: "000000000000000a")
        let rows = (1...5).map { Wire.LoggedChange(seq: Int64($0), change: large(&ana, recordA, bytes: 1_000), receivedAt: 1) }
        let size = PageCutter.estimatedSize(rows[0])
        #expect(size >= 2_000)
        let two = PageCutter.reading(rows, limit: 10, maxBytes: 2 * size + size / 2)
        #expect(two.rows.count == 2 && two.more)
        let page = PageCutter.pull(two, after: 0, latest: 5)
        #expect(page.more && page.cursor == 2)
        // A change larger than the whole budget travels alone, so paging always moves on.
        let alone = PageCutter.reading(rows, limit: 10, maxBytes: 10)
        #expect(alone.rows.count == 1 && alone.more)
        let last = PageCutter.reading(Array(rows.suffix(1)), limit: 10, maxBytes: 10)
        #expect(last.rows.count == 1 && !last.more)
    }

    @Test(arguments: StoreKind.allCases) func pullAndSnapshotPagesOfLargeChangesStayWithinTheBudget(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) { $0.maxPageBytes = 2_500_000 }
        defer { harness.cleanUp() }
        var ana = ChangeMaker(node: "000000000000000a")
        let records = (0..<6).map { String(format: "%032x", 0xc0 + $0) }
        var changes = records.map { ana.change($0, "title", .text("Record \($0)")) }
        changes += records.map { large(&ana, $0, bytes: 900_000) }
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        #expect(try await harness.store.push(project: "kz", changes: changes, author: "ana", policy: policy).allSatisfy { $0.status == .applied })
        try await harness.app.test(.router) { client in
            // Pull: at most two of the large changes per page (each is about 1.8 MB as estimated), and every change once.
            var cursor: Int64 = 0, seen: [Int64] = [], pages = 0
            repeat {
                let response = try await client.execute(uri: "/v1/projects/kz/pull?after=\(cursor)&limit=1000", method: .get, headers: harness.headers("bek"))
                #expect(response.body.readableBytes <= 2_500_000 + 100_000, "a page of \(response.body.readableBytes) bytes")
                let page = try response.decode(Wire.PullResponse.self)
                seen += page.changes.map(\.seq)
                pages += 1
                cursor = page.cursor
                if !page.more { break }
            } while pages < 50
            #expect(seen == Array(1...12))
            #expect(pages >= 6)
            // Snapshot: the same bound, and every head once.
            var after = "", heads = 0, snapshotPages = 0
            repeat {
                let query = after.isEmpty ? "" : "&after=\(after)"
                let response = try await client.execute(uri: "/v1/projects/kz/snapshot?limit=1000\(query)", method: .get, headers: harness.headers("bek"))
                #expect(response.body.readableBytes <= 2_500_000 + 100_000, "a snapshot page of \(response.body.readableBytes) bytes")
                let page = try response.decode(Wire.SnapshotResponse.self)
                heads += page.changes.count
                snapshotPages += 1
                guard let next = page.next else { break }
                after = next.text
            } while snapshotPages < 50
            #expect(heads == 12)
            #expect(snapshotPages >= 6)
        }
    }

    @Test(arguments: StoreKind.allCases) func aChangeLargerThanThePageBudgetTravelsAlone(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) { $0.maxPageBytes = 10_000 }
        defer { harness.cleanUp() }
        var ana = ChangeMaker(node: "000000000000000a")
        let changes = [ana.change(recordA, "title", .text("big")), large(&ana, recordA, bytes: 50_000), ana.change(recordA, "location", .text("Almaty"))]
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        _ = try await harness.store.push(project: "kz", changes: changes, author: "ana", policy: policy)
        try await harness.app.test(.router) { client in
            let first = try await harness.pull(client, as: "bek", after: 0, limit: 100)
            #expect(first.changes.map(\.seq) == [1] && first.more)
            let second = try await harness.pull(client, as: "bek", after: first.cursor, limit: 100)
            #expect(second.changes.map(\.seq) == [2] && second.more)
            let third = try await harness.pull(client, as: "bek", after: second.cursor, limit: 100)
            #expect(third.changes.map(\.seq) == [3] && !third.more)
        }
    }
}
