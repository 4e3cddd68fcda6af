import Foundation
import GRDB
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The project log's hash chain as each store keeps and serves it.
@Suite struct LogChainStoreTests {
    let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)

    /// Ten changes, Ana's and Bek's in turn, each pushed alone (so its sequence number is its place).
    func history() -> [(author: String, change: Change)] {
        var ana = ChangeMaker(node: "000000000000000a")
        var bek = ChangeMaker(node: "000000000000000b")
        return (0..<5).flatMap { i in
            [("ana", ana.change(recordA, "title", .text("a\(i)"))), ("bek", bek.change(recordB, "title", .text("b\(i)")))]
        }
    }

    /// The chain value the pushes of `history` must give: computed here, from the changes as pushed.
    func expectedChain(_ history: [(author: String, change: Change)]) -> LogChain {
        history.enumerated().reduce(LogChain.genesis) { value, item in
            var change = item.element.change
            change.author = item.element.author
            return value.appending(seq: Int64(item.offset + 1), digest: ChangeDigest(of: change, project: "kz"))
        }
    }

    @Test(arguments: StoreKind.allCases) func everyStoreAndInstanceGivesTheSameChainForTheSamePushes(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        // A second instance on the same data (another server process behind the load balancer).
        let (second, stop) = try await harness.reopen()
        defer { stop() }
        let history = history()
        for (index, (author, change)) in history.enumerated() {
            let instance = index % 2 == 0 ? harness.store : second
            _ = try await instance.push(project: "kz", changes: [change], author: author, policy: policy)
        }
        let page = try await harness.store.pull(project: "kz", after: 0, limit: 100, skip: nil)
        let chain = try #require(page.chain)
        #expect(chain.after == .genesis)
        #expect(chain.cursor == expectedChain(history))
        #expect(try LogChain.verify(page.changes, after: 0, cursor: page.cursor, chain: chain, head: .genesis, project: "kz") == chain.cursor)
        let snapshot = try await second.snapshot(project: "kz", after: nil, limit: 100)
        #expect(snapshot.chain == chain.cursor)
    }

    @Test(arguments: StoreKind.allCases) func pagesCarryTheDigestsOfTheChangesTheyLeaveOut(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let history = history()
        for (author, change) in history {
            _ = try await harness.store.push(project: "kz", changes: [change], author: author, policy: policy)
        }
        // Ana skips her own changes up to 7 (1, 3, 5, 7), in pages of 2: each page extends the last.
        let skip = Wire.OwnChanges(node: NodeID("000000000000000a")!, upTo: 7)
        var head = LogChain.genesis
        var cursor: Int64 = 0
        var withheld = 0
        while true {
            let page = try await harness.store.pull(project: "kz", after: cursor, limit: 2, skip: skip)
            let chain = try #require(page.chain)
            withheld += chain.withheld.count
            head = try LogChain.verify(page.changes, after: cursor, cursor: page.cursor, chain: chain, head: head, project: "kz")
            cursor = page.cursor
            if !page.more { break }
        }
        #expect(withheld == 4)
        #expect(cursor == 10)
        #expect(head == expectedChain(history))
    }

    @Test(arguments: StoreKind.allCases) func theDigestsOfALongRunOfOwnChangesArePagedLikeChanges(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        var ana = ChangeMaker(node: "000000000000000a")
        let changes = (0..<3_000).map { ana.change(String(format: "%032x", $0 + 1), "title", .text("t\($0)")) }
        _ = try await harness.store.push(project: "kz", changes: changes, author: "ana", policy: policy)
        // The pull after that push leaves out all 3,000: a page of 64 KiB carries 1,524 digests at most.
        let skip = Wire.OwnChanges(node: NodeID("000000000000000a")!, upTo: 3_000)
        var head = LogChain.genesis, cursor: Int64 = 0, pages = 0
        while true {
            let page = try await harness.store.pull(project: "kz", after: cursor, limit: 2_000, maxBytes: 65_536, skip: skip)
            let chain = try #require(page.chain)
            #expect(page.changes.isEmpty)
            #expect(chain.withheld.count * PageCutter.withheldSize <= 65_536 + 2 * PageCutter.withheldSize)
            head = try LogChain.verify(page.changes, after: cursor, cursor: page.cursor, chain: chain, head: head, project: "kz")
            cursor = page.cursor
            pages += 1
            if !page.more { break }
        }
        #expect(cursor == 3_000)
        #expect(pages == 2)
    }

    @Test(arguments: StoreKind.allCases) func aLogStoredBeforeTheChainIsChainedWhenMigrated(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let history = history()
        for (author, change) in history {
            _ = try await harness.store.push(project: "kz", changes: [change], author: author, policy: policy)
        }
        // The columns as a server before the chain left them, then the migration again.
        let reopened: any SyncStore, stop: @Sendable () -> Void
        switch store {
        case .sqlite:
            let sqlite = try #require(harness.store as? SQLiteSyncStore)
            try await sqlite.pool.write { db in
                try db.execute(sql: "UPDATE change SET digest = NULL, chain = NULL")
                // v5 as a store from before the chain ran it (hex text), then v10 (bytes).
                try SQLiteMigrations.chainStoredChanges(db)
                #expect(try String.fetchOne(db, sql: "SELECT typeof(chain) FROM change LIMIT 1") == "text")
                try SQLiteMigrations.chainValuesAsBytes(db)
                #expect(try String.fetchOne(db, sql: "SELECT DISTINCT typeof(chain) || typeof(digest) FROM change") == "blobblob")
            }
            (reopened, stop) = (harness.store, {})
        case .postgres:
            _ = try harness.psql("""
                ALTER TABLE change DROP COLUMN digest; ALTER TABLE change DROP COLUMN chain;
                DELETE FROM casebook_migration WHERE version = \(PostgresMigrations.chainMigration);
                """)
            (reopened, stop) = try await harness.reopen()
        }
        defer { stop() }
        let page = try await reopened.pull(project: "kz", after: 0, limit: 100, skip: nil)
        #expect(page.chain?.cursor == expectedChain(history))
        // And the next push chains on from there.
        var ana = ChangeMaker(node: "000000000000000a")
        ana.millis += 1_000
        _ = try await reopened.push(project: "kz", changes: [ana.change(recordA, "title", .text("later"))], author: "ana", policy: policy)
        let next = try await reopened.pull(project: "kz", after: 10, limit: 100, skip: nil)
        let chain = try #require(next.chain)
        #expect(try LogChain.verify(next.changes, after: 10, cursor: 11, chain: chain, head: expectedChain(history), project: "kz") == chain.cursor)
    }
}
