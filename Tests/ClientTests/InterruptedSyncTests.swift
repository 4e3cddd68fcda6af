import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// A server in memory that can drop the connection after a number of pages.
final class FlakyServer: SyncTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [Wire.LoggedChange] = []
    private var replica = InMemoryReplica()
    private var failAfterPages: Int?
    private(set) var pagesServed = 0
    /// The server's clock and how far ahead of it a change may be stamped.
    var now: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000)
    var maxDriftMillis: UInt64 = 5 * 60 * 1000
    /// When set, every push fails as a server whose store cannot write would answer.
    var failPushes = false
    /// Fields whose changes the server refuses as invalid, with the reason it gives.
    var invalidFields: [String: String] = [:]
    /// How many changes pushes have carried, accepted or not.
    private(set) var changesReceived = 0

    func load(_ changes: [Change]) {
        lock.withLock {
            for change in changes {
                replica.apply(change)
                log.append(Wire.LoggedChange(seq: Int64(log.count + 1), change: change, receivedAt: 1))
            }
        }
    }

    func failAfter(pages: Int?) { lock.withLock { failAfterPages = pages; pagesServed = 0 } }

    private func servePage() throws {
        try lock.withLock {
            if let failAfterPages, pagesServed >= failAfterPages {
                throw ClientError("connection lost", exitCode: ClientError.unreachableExitCode)
            }
            pagesServed += 1
        }
    }

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        if lock.withLock({ failPushes }) {
            throw SyncClient.httpError(status: 503, message: "the database could not be written (simulated failure): try again",
                                       server: URL(string: "http://127.0.0.1:1")!)
        }
        let (now, drift, invalid) = lock.withLock {
            changesReceived += changes.count
            return (self.now, maxDriftMillis, invalidFields)
        }
        let accepted = changes.filter { $0.hlc.millis <= now + drift && invalid[$0.field] == nil }
        load(accepted)
        return lock.withLock {
            Wire.PushResponse(results: changes.map { change in
                if accepted.contains(change) {
                    return .init(hlc: change.hlc, status: .applied, seq: log.first { $0.change.hlc == change.hlc }?.seq)
                }
                if let reason = invalid[change.field] {
                    return .init(hlc: change.hlc, status: .rejected, code: "invalid", reason: reason)
                }
                return .init(hlc: change.hlc, status: .rejected, code: "clock_ahead", reason: "ahead of the server's clock")
            }, serverTime: now)
        }
    }

    var accepted: [Change] { lock.withLock { log.map(\.change) } }

    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        try servePage()
        return lock.withLock {
            let page = Array(log.filter { $0.seq > after }.prefix(limit))
            return Wire.PullResponse(changes: page, cursor: page.last?.seq ?? after,
                                     more: log.contains { $0.seq > (page.last?.seq ?? after) }, latest: Int64(log.count), serverTime: now)
        }
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try servePage()
        return lock.withLock {
            let heads = Set(replica.changes.keys.filter { hlc in
                let change = replica.changes[hlc]!
                return replica.state(record: change.record, field: change.field).heads.contains { $0.hlc == hlc }
            })
            let ordered = log.filter { heads.contains($0.change.hlc) }.sorted { $0.change.hlc < $1.change.hlc }
                .filter { after == nil || $0.change.hlc > after! }
            let page = Array(ordered.prefix(limit))
            return Wire.SnapshotResponse(changes: page, since: Int64(log.count), next: ordered.count > limit ? page.last?.change.hlc : nil,
                                         total: after == nil ? ordered.count : nil, serverTime: now)
        }
    }
}

@Suite struct InterruptedSyncTests {
    /// 300 changes by another replica: 200 records, 100 of their titles edited again.
    func history() -> [Change] {
        var clock = HybridClock(node: NodeID("00000000000000b2")!)
        var changes: [Change] = []
        var titles: [String: HLC] = [:]
        for i in 0..<200 {
            let record = String(format: "%032x", i + 1)
            let change = Change(collection: "incidents", record: record, field: "title", value: .text("incident \(i)"),
                                hlc: clock.tick(now: 1_700_000_000_000), author: "bek", base: nil)
            titles[record] = change.hlc
            changes.append(change)
        }
        for i in 0..<100 {
            let record = String(format: "%032x", i + 1)
            changes.append(Change(collection: "incidents", record: record, field: "title", value: .text("incident \(i), edited"),
                                  hlc: clock.tick(now: 1_700_000_000_001), author: "bek", base: titles[record]))
        }
        return changes
    }

    func state(_ local: TemporaryReplica) async throws -> (count: Int, cursor: String?, titles: [String]) {
        try await local.replica.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0,
             try Setting.get(.cursor, db),
             try String.fetchAll(db, sql: "SELECT title FROM record ORDER BY id"))
        }
    }

    @Test func aLogPullCutOffMidStreamKeepsWholePagesAndResumes() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        // The replica already finished its first snapshot: it pulls the log from 0.
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        server.load(history())
        server.failAfter(pages: 3)
        var syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        syncer.pageSize = 50
        await #expect(throws: ClientError.self) { try await syncer.run() }
        let cut = try await state(local)
        #expect(cut.count == 150)            // three whole pages, nothing of the fourth
        #expect(cut.cursor == "150")         // committed with its page

        server.failAfter(pages: nil)
        let report = try await syncer.run()
        #expect(report.pulled == 150)        // only what was missing
        let done = try await state(local)
        #expect(done.count == 300)
        #expect(done.cursor == "300")
        #expect(done.titles.count == 200)
        #expect(done.titles.filter { $0.hasSuffix("edited") }.count == 100)
        #expect(report.conflicts == 0)
    }

    @Test func aPageThatFailsWhileItIsAppliedLeavesTheCursorBeforeIt() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let changes = history()
        server.load(changes)
        // The second change of the third page cannot be stored: the fault strikes while that page
        // is applied, after the first two pages are committed.
        try await local.replica.write { db in
            try db.execute(sql: """
                CREATE TRIGGER injected_fault BEFORE INSERT ON change WHEN NEW.hlc = '\(changes[101].hlc.text)'
                BEGIN SELECT RAISE(ABORT, 'injected fault'); END
                """)
        }
        var syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        syncer.pageSize = 50
        let error = await #expect(throws: (any Error).self) { try await syncer.run() }
        #expect(String(describing: error).contains("injected fault"), "\(String(describing: error))")
        let cut = try await state(local)
        #expect(cut.count == 100)            // the two whole pages before it, nothing of the third
        #expect(cut.cursor == "100")         // not advanced past changes that were not applied

        try await local.replica.write { db in try db.execute(sql: "DROP TRIGGER injected_fault") }
        let report = try await syncer.run()
        #expect(report.pulled == 200)
        let done = try await state(local)
        #expect(done.count == 300)
        #expect(done.cursor == "300")
        #expect(done.titles.count == 200)
        #expect(done.titles.filter { $0.hasSuffix("edited") }.count == 100)
    }

    @Test func anInitialSnapshotCutOffResumesAndSkipsSupersededValues() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        server.load(history())
        server.failAfter(pages: 2)
        var syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        syncer.pageSize = 60
        await #expect(throws: ClientError.self) { try await syncer.run() }
        #expect(try await state(local).count == 120)
        server.failAfter(pages: nil)
        _ = try await syncer.run()
        let done = try await state(local)
        // Only the 200 current titles travelled: the 100 superseded first titles never did.
        #expect(done.count == 200)
        #expect(done.cursor == "300")
        #expect(done.titles.filter { $0.hasSuffix("edited") }.count == 100)
        let conflicts = try await local.replica.read { db in try ReplicaQuery.conflictCount(db) }
        #expect(conflicts == 0)
    }

    @Test func pushedChangesStayVisibleWhenThePullAfterwardsFails() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let id = try local.add(["title": .text("Detention of a blogger")])
        server.failAfter(pages: 0)
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        await #expect(throws: ClientError.self) { try await syncer.run() }
        #expect(try local.outbox().isEmpty)
        let view = try local.show(id)
        #expect(view.fields["title"] == .text("Detention of a blogger"))
        #expect(!view.pending)
    }

    @Test func aChangeTheServerRefusesStaysParkedWithItsReasonAndTheLocalValue() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        let reason = "field 'location' of incidents is not valid here (refused by the test server)"
        server.invalidFields = ["location": reason]
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let id = try local.add(["title": .text("Raid on an NGO office"), "location": .text("Almaty")])
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        let report = try await syncer.run()
        #expect(report.pushed == 1)
        #expect(report.rejected.map(\.field) == ["location"])
        #expect(report.rejected.first?.code == "invalid")
        #expect(report.rejected.first?.reason == reason)
        #expect(server.accepted.map(\.field) == ["title"])

        // The refused edit is not lost: it stays in the outbox, parked with the server's code and reason...
        let outbox = try local.outbox()
        #expect(outbox.map(\.field) == ["location"])
        #expect(outbox.first?.value == .text("Almaty"))
        #expect(outbox.first?.rejectedCode == "invalid")
        #expect(outbox.first?.rejectedReason == reason)
        // ...`status` counts it as pending and lists it as refused, with the reason...
        let (pending, refused) = try await local.replica.read { db in
            (try ReplicaQuery.pendingCount(db), try ReplicaQuery.rejected(db))
        }
        #expect(pending == 1)
        #expect(refused.map(\.record) == [id])
        #expect(refused.map(\.reason) == [reason])
        // ...and the record still shows the local value, as pending.
        let view = try local.show(id)
        #expect(view.fields["location"] == .text("Almaty"))
        #expect(view.fields["title"] == .text("Raid on an NGO office"))
        #expect(view.pending)

        // A parked edit is not sent again until it is corrected.
        let received = server.changesReceived
        let again = try await syncer.run()
        #expect(again.pushed == 0)
        #expect(server.changesReceived == received)
        #expect(try local.outbox().map(\.rejectedCode) == ["invalid"])
        // Corrected, it goes through.
        server.invalidFields = [:]
        try local.edit(id, ["location": .text("Almaty, Medeu district")])
        #expect(try await syncer.run().pushed == 1)
        #expect(try local.outbox().isEmpty)
        #expect(server.accepted.last?.value == .text("Almaty, Medeu district"))
    }

    @Test func aDeviceClockAYearAheadGetsItsWorkThroughWithoutWinningEveryConflict() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        let year: Int64 = 365 * 24 * 3_600_000
        try await local.replica.write { db in
            try Setting.set(.snapshotDone, "1", db)
            try Setting.set(.clockOffset, String(year), db)  // the device believes it is next year
        }
        let settings = try local.replica.settings()
        let id = try await local.replica.write { db in
            var editor = try LocalEditor(settings: settings, db: db)
            let id = try editor.add(collection: "incidents", values: ["title": .text("Written offline, clock wrong")])
            try editor.finish()
            return id
        }
        #expect(try local.outbox().allSatisfy { $0.hlc.millis > server.now + UInt64(year / 2) })
        let report = try await Syncer(replica: local.replica, client: server, settings: settings, progress: ProgressLine(enabled: false)).run()
        #expect(report.pushed == 1)
        #expect(report.rejected.isEmpty)
        #expect(try local.outbox().isEmpty)
        // What got through is stamped with the server's time, not next year's.
        let stored = try #require(server.accepted.first { $0.record == id })
        #expect(stored.hlc.millis <= server.now + 60_000)
        // And the replica's later edits are stamped right too.
        try local.edit(id, ["location": .text("Astana")])
        #expect(try local.outbox().allSatisfy { $0.hlc.millis <= server.now + 60_000 })
    }

    @Test func aDeviceClockAYearBehindGetsItsWorkThrough() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        try await local.replica.write { db in
            try Setting.set(.snapshotDone, "1", db)
            try Setting.set(.clockOffset, String(-365 * 24 * 3_600_000), db)
        }
        let settings = try local.replica.settings()
        _ = try await local.replica.write { db in
            var editor = try LocalEditor(settings: settings, db: db)
            _ = try editor.add(collection: "incidents", values: ["title": .text("Written offline, clock behind")])
            try editor.finish()
        }
        let report = try await Syncer(replica: local.replica, client: server, settings: settings, progress: ProgressLine(enabled: false)).run()
        #expect(report.pushed == 1)
        #expect(server.accepted.count == 1)
        // The sync taught the replica the server's time: the year's offset is gone. (What is left is
        // the time between the fake server's answer and the page's commit: ten minutes were seen
        // while the cooperative threads were held by other tests, so the bound is a day, still
        // 365 times less than what it checks is gone.)
        let offset = try await local.replica.read { db in try ReplicaClock.load(db).offset }
        #expect(abs(offset) < 24 * 3_600_000)
    }

    @Test func aServerThatCannotWriteLeavesTheOutboxIntact() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let server = FlakyServer()
        server.failPushes = true
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        _ = try local.add(["title": .text("Kept through a server failure")])
        let before = try local.outbox().map(\.hlc)
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        do {
            _ = try await syncer.run()
            Issue.record("the sync succeeded")
        } catch let error as ClientError {
            #expect(error.exitCode == ClientError.unreachableExitCode)
            #expect(error.message.contains("local changes are kept"))
        }
        #expect(try local.outbox().map(\.hlc) == before)
        server.failPushes = false
        #expect(try await syncer.run().pushed == 1)
        #expect(try local.outbox().isEmpty)
    }
}
