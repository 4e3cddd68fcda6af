import Foundation
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct ConcurrencyTests {
    /// Many replicas push conflicting and non-conflicting changes at once while a puller pulls
    /// throughout: every change ends applied, duplicate, conflict or rejected, and the puller
    /// sees every accepted change exactly once, in sequence order.
    @Test(arguments: StoreKind.allCases) func concurrentPushesAndAPullerThatNeverSkips(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let store = harness.store
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        let writers = 12
        let batches = 8

        async let pulled: [Int64] = {
            var cursor: Int64 = 0
            var seqs: [Int64] = []
            for _ in 0..<100_000 {
                let page = try await store.pull(project: "kz", after: cursor, limit: 7)
                seqs += page.changes.map(\.seq)
                cursor = page.cursor
                if seqs.count >= 2 * writers * batches { break }
                if page.changes.isEmpty { await Task.yield() }
            }
            return seqs
        }()
        let pushed = try await withThrowingTaskGroup(of: [(Change, Wire.ChangeResult)].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var maker = ChangeMaker(node: String(format: "%016x", writer + 1))
                    var results: [(Change, Wire.ChangeResult)] = []
                    for batch in 0..<batches {
                        // Everyone edits the shared record (conflicts) and one of their own (no conflicts);
                        // every other batch also carries an invalid change and a retried one.
                        let own = String(format: "%032x", writer * 1_000 + batch + 1)
                        var changes = [
                            maker.change(recordA, "title", .text("w\(writer) b\(batch)")),
                            maker.change(own, "title", .text("own \(writer)")),
                        ]
                        if batch % 2 == 0 { changes.append(maker.change(own, "date", .date("2025-02-30"))) }
                        let pushed = try await store.push(project: "kz", changes: changes, author: "w\(writer)", policy: policy)
                        let retried = try await store.push(project: "kz", changes: changes, author: "w\(writer)", policy: policy)
                        #expect(retried.allSatisfy { $0.status == .duplicate || $0.status == .rejected })
                        results += zip(changes, pushed).map { ($0, $1) }
                    }
                    return results
                }
            }
            var all: [(Change, Wire.ChangeResult)] = []
            for try await results in group { all += results }
            return all
        }

        let seqs = try await pulled
        let accepted = pushed.map(\.1)
        let stored = accepted.compactMap(\.seq).sorted()
        #expect(accepted.allSatisfy { [.applied, .conflict, .rejected].contains($0.status) })
        #expect(accepted.filter { $0.status == .rejected }.count == writers * batches / 2)
        #expect(stored.count == 2 * writers * batches)
        #expect(seqs == stored)
        #expect(Set(seqs).count == seqs.count)
        // What the store holds, read from its heads and conflict rows, is what the model makes of the
        // accepted changes: all writers raced on one field, which is in conflict with every writer's values.
        var model = InMemoryReplica()
        for (change, result) in pushed where result.seq != nil { model.apply(change) }
        let heads = try await harness.storedHeads()
        let title = try #require(heads[FieldKey(record: recordA, field: "title")])
        #expect(title.count == writers * batches)
        #expect(title.map(\.hlc) == model.state(record: recordA, field: "title").heads.map(\.hlc))
        #expect(heads.count == 1 + writers * batches)
        for (key, versions) in heads {
            #expect(versions.map(\.hlc) == model.state(record: key.record, field: key.field).heads.map(\.hlc), "\(key)")
        }
        let conflicts = try await harness.storedOpenConflicts()
        #expect(conflicts.map(\.id) == model.conflicts.map(\.id))
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.versions.count == writers * batches)
    }

    @Test(arguments: StoreKind.allCases) func aPullerRunningDuringPushesSeesEveryChangeOnce(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let store = harness.store
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        let total = 6 * 20
        async let pushes: Void = withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<6 {
                group.addTask {
                    var maker = ChangeMaker(node: String(format: "%016x", writer + 100))
                    for i in 0..<20 {
                        _ = try await store.push(project: "kz", changes: [maker.change(String(format: "%032x", writer * 100 + i + 1), "title", .text("x"))],
                                                 author: "w", policy: policy)
                    }
                }
            }
            try await group.waitForAll()
        }
        var cursor: Int64 = 0
        var seen: [Int64] = []
        var rounds = 0
        while seen.count < total && rounds < 10_000 {
            let page = try await store.pull(project: "kz", after: cursor, limit: 5)
            seen += page.changes.map(\.seq)
            cursor = page.cursor
            rounds += 1
            if page.changes.isEmpty { await Task.yield() }
        }
        try await pushes
        #expect(seen == Array(1...Int64(total)))
    }
}
