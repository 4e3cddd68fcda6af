import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// The replica's side of the log's hash chain: where its head comes from, and what it refuses.
@Suite struct LogChainSyncTests {
    static let other = NodeID("00000000000000b2")!

    /// The log of `count` changes as a server keeps it, numbered from 1.
    func log(_ count: Int) -> [Wire.LoggedChange] {
        (1...count).map { seq in
            let hlc = HLC(millis: HostileServer.now - 1_000, counter: UInt16(seq), node: Self.other)
            let change = Change(collection: "incidents", record: String(format: "%032x", seq), field: "title", value: .text("Incident \(seq)"),
                                hlc: hlc, author: "bek", base: nil)
            return Wire.LoggedChange(seq: Int64(seq), change: change, receivedAt: HostileServer.now)
        }
    }

    func value(at seq: Int64, of log: [Wire.LoggedChange]) -> LogChain {
        log.prefix { $0.seq <= seq }.reduce(LogChain.genesis) { $0.appending(seq: $1.seq, digest: ChangeDigest(of: $1.change, project: "kz")) }
    }

    /// An honest server's page of `log` after `after`, with its chain unless `chained` is false.
    func page(_ log: [Wire.LoggedChange], after: Int64, chained: Bool = true) -> Wire.PullResponse {
        let cursor = Int64(log.count)
        let chain = chained ? Wire.PageChain(after: value(at: after, of: log), cursor: value(at: cursor, of: log)) : nil
        return Wire.PullResponse(changes: log.filter { $0.seq > after }, cursor: cursor, more: false, latest: cursor,
                                 serverTime: HostileServer.now, chain: chain)
    }

    func sync(_ local: TemporaryReplica, _ server: HostileServer) async throws -> ClientError? {
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        do { _ = try await syncer.run() } catch let error as ClientError { return error }
        return nil
    }

    func stored(_ local: TemporaryReplica) async throws -> (changes: Int, cursor: String?, chain: String?) {
        try await local.replica.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0, try Setting.get(.cursor, db), try Setting.get(.chain, db))
        }
    }

    @Test func aNewReplicaAdoptsTheSnapshotsValueAndChecksTheLogFromThere() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let full = log(5)
        let server = HostileServer(
            pull: { after in self.page(full, after: after) },
            snapshot: { _ in Wire.SnapshotResponse(changes: Array(full.prefix(3)), since: 3, next: nil, total: 3, serverTime: HostileServer.now,
                                                   chain: self.value(at: 3, of: full)) })
        #expect(try await sync(local, server) == nil)
        let after = try await stored(local)
        #expect(after.changes == 5 && after.cursor == "5")
        #expect(after.chain == value(at: 5, of: full).hex)

        // A snapshot whose value is not the log's: the first log page does not extend it.
        let fresh = try TemporaryReplica()
        defer { fresh.cleanUp() }
        let lying = HostileServer(
            pull: { after in self.page(full, after: after) },
            snapshot: { _ in Wire.SnapshotResponse(changes: Array(full.prefix(3)), since: 3, next: nil, total: 3, serverTime: HostileServer.now,
                                                   chain: self.value(at: 2, of: full)) })
        let error = try await sync(fresh, lying)
        #expect(error?.message.contains("does not extend what this replica already verified") == true)
        #expect(try await stored(fresh).changes == 3)
    }

    @Test func aReplicaOlderThanTheChainAdoptsItsFirstPage() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        try await local.replica.write { db in
            try Setting.set(.snapshotDone, "1", db)
            try Setting.set(.cursor, "2", db)
        }
        let full = log(4)
        #expect(try await sync(local, HostileServer(pull: { after in self.page(full, after: after) })) == nil)
        #expect(try await stored(local).chain == value(at: 4, of: full).hex)
    }

    @Test func aServerThatSentTheChainAndStopsIsRefused() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let first = log(2), later = log(4)
        #expect(try await sync(local, HostileServer(pull: { after in self.page(first, after: after) })) == nil)
        let error = try await sync(local, HostileServer(pull: { after in self.page(later, after: after, chained: false) }))
        #expect(error?.exitCode == 1)
        #expect(error?.message.contains("no longer sends its log's hash chain") == true)
        let after = try await stored(local)
        #expect(after.changes == 2 && after.cursor == "2" && after.chain == value(at: 2, of: first).hex)
        // A server before the chain, to a replica that never had one: nothing to check.
        let old = try TemporaryReplica()
        defer { old.cleanUp() }
        try await old.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        #expect(try await sync(old, HostileServer(pull: { after in self.page(later, after: after, chained: false) })) == nil)
        #expect(try await stored(old).chain == nil)
    }
}
