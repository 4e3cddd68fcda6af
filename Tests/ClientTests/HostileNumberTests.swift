import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Issue 14, item 9: every number a server sends is range-checked, and paging makes progress or
/// stops with an error; nothing of a refused page is kept.
@Suite struct HostileNumberTests {
    func syncer(_ local: TemporaryReplica, _ server: HostileServer) -> Syncer {
        Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
    }

    /// A replica whose snapshot is done: syncs pull the log.
    func replica() async throws -> TemporaryReplica {
        let local = try TemporaryReplica()
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        return local
    }

    func settings(_ local: TemporaryReplica) async throws -> (cursor: String?, offset: String?) {
        try await local.replica.read { db in (try Setting.get(.cursor, db), try Setting.get(.clockOffset, db)) }
    }

    func expectRefused(_ local: TemporaryReplica, _ server: HostileServer, saying text: String) async throws {
        let error = await #expect(throws: ClientError.self) { try await syncer(local, server).run() }
        #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
        #expect(error?.exitCode == 1)
    }

    @Test func aHugeServerTimeIsRefusedAndDoesNotMoveTheClock() async throws {
        let local = try await replica()
        defer { local.cleanUp() }
        for time in [UInt64.max, UInt64(Int64.max) + 1, HLC.maxMillis, 0] {
            let server = HostileServer(pull: { Wire.PullResponse(changes: [], cursor: $0, more: false, latest: $0, serverTime: time) })
            try await expectRefused(local, server, saying: "its time")
            #expect(try await settings(local).offset == "0")
        }
        // Nor can the answer to `init` set it.
        #expect(throws: ClientError.self) { try PageCheck.serverTime(UInt64.max, from: "x") }
    }

    @Test func aNegativeCursorIsRefusedBeforeItIsCommitted() async throws {
        let local = try await replica()
        defer { local.cleanUp() }
        for cursor in [Int64(-1), Int64.min] {
            let server = HostileServer(pull: { _ in Wire.PullResponse(changes: [], cursor: cursor, more: false, latest: 0, serverTime: HostileServer.now) })
            try await expectRefused(local, server, saying: "negative cursor")
            #expect(try await settings(local).cursor == "0")
        }
        let latest = HostileServer(pull: { Wire.PullResponse(changes: [], cursor: $0 + 1, more: false, latest: Int64.min, serverTime: HostileServer.now) })
        try await expectRefused(local, latest, saying: "negative cursor")
    }

    @Test func aCursorGoingBackwardsOrAChangeOutsideThePageIsRefused() async throws {
        let local = try await replica()
        defer { local.cleanUp() }
        try await local.replica.write { db in try Setting.set(.cursor, "10", db) }
        let backwards = HostileServer(pull: { _ in Wire.PullResponse(changes: [], cursor: 5, more: false, latest: 5, serverTime: HostileServer.now) })
        try await expectRefused(local, backwards, saying: "before it started")
        #expect(try await settings(local).cursor == "10")
    }

    @Test func aPageSayingMoreWithAnUnchangedCursorStopsInsteadOfLooping() async throws {
        let local = try await replica()
        defer { local.cleanUp() }
        let server = HostileServer(pull: { Wire.PullResponse(changes: [], cursor: $0, more: true, latest: 100, serverTime: HostileServer.now) })
        try await expectRefused(local, server, saying: "never end")
        #expect(server.pagesServed <= 2)
    }

    @Test func aSnapshotRepeatingItsNextStopsInsteadOfLooping() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let key = HLC(millis: 1_700_000_000_000, counter: 0, node: NodeID("00000000000000b2")!)
        let server = HostileServer(snapshot: { _ in Wire.SnapshotResponse(changes: [], since: 0, next: key, total: nil, serverTime: HostileServer.now) })
        try await expectRefused(local, server, saying: "never end")
        #expect(server.pagesServed <= 3)
        let negative = HostileServer(snapshot: { _ in Wire.SnapshotResponse(changes: [], since: -1, next: nil, total: -5, serverTime: HostileServer.now) })
        try await expectRefused(local, negative, saying: "negative")
    }

    @Test func aNegativeCountCannotCrashTheProgressLine() {
        let line = ProgressLine(enabled: false)
        #expect(line.line("pulling changes", done: -5, total: 10) == "pulling changes [..............................] 0 of 10")
        #expect(line.line("pulling changes", done: Int.min, total: nil) == "pulling changes: 0")
        #expect(Int.min.formatted().hasPrefix("-9,223"))
    }
}
