import Foundation
import Testing
@testable import Client
@testable import Shared

/// A transport that accepts every push and remembers each body's size and change count.
final class MeasuringServer: SyncTransport, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var bodies: [(bytes: Int, changes: Int)] = []
    private var seq: Int64 = 0

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        let bytes = WireCodec.encode(Wire.PushRequest(changes: changes)).count
        return lock.withLock {
            bodies.append((bytes, changes.count))
            return Wire.PushResponse(results: changes.map { change in
                seq += 1
                return Wire.ChangeResult(hlc: change.hlc, status: .applied, seq: seq)
            }, serverTime: HostileServer.now)
        }
    }

    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        Wire.PullResponse(changes: [], cursor: after, more: false, latest: after, serverTime: HostileServer.now)
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        Wire.SnapshotResponse(changes: [], since: 0, next: nil, total: 0, serverTime: HostileServer.now)
    }
}

/// Issue 14, item 3 (client): push batches are bounded by bytes as well as by count, and a change
/// larger than the budget still travels, alone.
@Suite struct PushBatchBytesTests {
    @Test func longTextsAreSplitIntoBatchesUnderTheByteBudgetAndABiggerChangeGoesAlone() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        // Twelve records with descriptions of 400 KB, one of 1.2 MB (over the budget), and small ones.
        for i in 0..<12 { _ = try local.add(["title": .text("long \(i)"), "description": .text(String(repeating: "д", count: 200_000))]) }
        _ = try local.add(["title": .text("huge"), "description": .text(String(repeating: "ж", count: 600_000))])
        for i in 0..<50 { _ = try local.add(["title": .text("short \(i)")]) }
        let outbox = try local.outbox().count
        let server = MeasuringServer()
        var syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        syncer.pushBytes = 1 << 20
        let report = try await syncer.run()
        #expect(report.pushed == outbox)
        #expect(try local.outbox().isEmpty)
        #expect(server.bodies.map(\.changes).reduce(0, +) == outbox)
        for body in server.bodies {
            // Over the budget only when one change alone is larger than it.
            #expect(body.bytes <= 1 << 20 || body.changes == 1, "a body of \(body.bytes) bytes with \(body.changes) changes")
        }
        #expect(server.bodies.contains { $0.changes == 1 && $0.bytes > 1 << 20 }, "the huge change travelled alone")
        #expect(server.bodies.count >= 7)
    }

    @Test func theEstimateIsNeverBelowTheEncodedSize() throws {
        let hlc = HLC(millis: 1_700_000_000_000, counter: 0, node: NodeID("00000000000000a1")!)
        for value: FieldValue in [.text("plain"), .text("\"quotes\" \\ and\ncontrol\u{1}"), .list(["a", "b\"", "ж"]), .integer(-1), .unset,
                                  .references([String(format: "%032x", 1)]), .text(String(repeating: "€", count: 10_000))] {
            let entry = OutboxEntry(collection: "incidents", record: String(format: "%032x", 9), field: "title", value: value, hlc: hlc,
                                    base: hlc, supersedes: [hlc], covers: [hlc])
            let encoded = WireCodec.encode(Wire.PushRequest(changes: [entry.change(author: "a-long-user-name")])).count
            #expect(entry.wireBytes >= encoded, "\(value): estimated \(entry.wireBytes), encoded \(encoded)")
        }
    }
}
