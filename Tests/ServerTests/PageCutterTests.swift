import Foundation
import Testing
@testable import Server
@testable import Shared

/// How both stores cut the rows they read into pages.
@Suite struct PageCutterTests {
    /// Logged changes numbered `seqs`, one per record field, with fixed clocks.
    func rows(_ seqs: [Int64]) -> [Wire.LoggedChange] {
        var maker = ChangeMaker(node: "000000000000000a")
        return seqs.map { Wire.LoggedChange(seq: $0, change: maker.change(recordA, "title", .text("v\($0)")), receivedAt: 1) }
    }

    @Test func theExtraRowMeansMoreAndThePageEndsAtItsLastChange() {
        #expect(PageCutter.fetchCount(limit: 3) == 4)
        let page = PageCutter.pull(rows([5, 6, 8, 9]), after: 4, limit: 3, latest: 20)
        #expect(page.changes.map(\.seq) == [5, 6, 8])
        #expect(page.more)
        #expect(page.cursor == 8)
        #expect(page.latest == 20)
    }

    @Test func aPageThatIsNotFullEndsAtTheLatestNumberPastSkippedChanges() {
        // 7 and 10 were the puller's own, left out by the query: the cursor still passes them.
        let page = PageCutter.pull(rows([8, 9]), after: 6, limit: 3, latest: 10)
        #expect(page.changes.map(\.seq) == [8, 9])
        #expect(!page.more)
        #expect(page.cursor == 10 && page.latest == 10)

        let empty = PageCutter.pull([], after: 10, limit: 3, latest: 10)
        #expect(empty.changes.isEmpty && !empty.more && empty.cursor == 10 && empty.latest == 10)
    }

    @Test func aCursorBeyondTheLogIsRefused() {
        #expect(throws: StoreError.cursorAhead(after: 11, latest: 10)) { try PageCutter.checkCursor(after: 11, latest: 10) }
        #expect(throws: Never.self) { try PageCutter.checkCursor(after: 10, latest: 10) }
    }

    @Test func aSnapshotPageNamesTheNextKeyOnlyWhenMoreFollow() {
        let heads = rows([3, 1, 2])
        let first = PageCutter.snapshot(heads, limit: 2, since: 9, total: 3)
        #expect(first.changes == Array(heads.prefix(2)))
        #expect(first.next == heads[1].change.hlc)
        #expect(first.since == 9 && first.total == 3)

        let last = PageCutter.snapshot(Array(heads.suffix(1)), limit: 2, since: 9, total: nil)
        #expect(last.changes == Array(heads.suffix(1)))
        #expect(last.next == nil && last.total == nil)
    }
}
