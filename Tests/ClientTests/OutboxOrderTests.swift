import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// The outbox has no index by HLC (`OutboxEntry`): a push reads it record by record, and the answers
/// find their entries by record and field. What a user would notice if that went wrong: a restricted
/// record's values leaving before its access change, an edit made while its batch travelled lost, or a
/// refusal not kept on its entry.
@Suite struct OutboxOrderTests {
    /// Every pushable entry, read a batch of `limit` at a time as a push does.
    static func walk(_ local: TemporaryReplica, limit: Int) throws -> [OutboxEntry] {
        var all: [OutboxEntry] = []
        var after: OutboxEntry.Position?
        while true {
            let batch = try local.replica.read { db in try OutboxEntry.pushable(after: after, limit: limit, db) }
            guard let last = batch.last else { return all }
            all += batch
            after = last.position
        }
    }

    @Test func aPushReadsRecordByRecordWithARecordsAccessChangeFirst() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let restricted = try local.write { editor, _ in
            try editor.add(collection: "incidents", values: ["title": .text("Witness statement"), "location": .text("Taraz")],
                           access: ["witnesses"])
        }
        let open = try local.add(["title": .text("Court hearing postponed")])
        // Edited after the second record was made: still read with its record, not last.
        try local.edit(restricted, ["location": .text("Taraz, district court")])

        // One change a batch: every batch boundary falls between two of them, and the access change still leads.
        let walked = try Self.walk(local, limit: 1)
        #expect(walked.map { "\($0.record == restricted ? "restricted" : "open").\($0.field)" } == [
            "restricted._access", "restricted.location", "restricted.title", "open.title",
        ])
        #expect(walked.first { $0.field == "location" }?.value == .text("Taraz, district court"))
        // Nothing twice, nothing left out, whatever the batch size.
        #expect(try Self.walk(local, limit: 2).map(\.hlc) == walked.map(\.hlc))
        #expect(Set(walked.map(\.hlc)) == Set(try local.outbox().map(\.hlc)))
        _ = open
    }

    @Test func aFullBatchEndsWithAWholeRecordSoAnAccessChangeTravelsWithItsValues() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let open = try local.add(["title": .text("Court hearing postponed")])
        let restricted = try local.write { editor, _ in
            try editor.add(collection: "incidents", values: ["title": .text("Witness statement"), "location": .text("Taraz")],
                           access: ["witnesses"])
        }
        func names(_ batch: [OutboxEntry]) -> [String] { batch.map { "\($0.record == restricted ? "restricted" : "open").\($0.field)" } }

        // Three a batch: the first would end inside the restricted record, so it ends before it...
        let first = try await local.replica.pushable(after: nil, limit: 3)
        #expect(names(first) == ["open.title"])
        // ...which then travels whole, its access change first, and nothing is left behind.
        let second = try await local.replica.pushable(after: first.last?.position, limit: 3)
        #expect(names(second) == ["restricted._access", "restricted.location", "restricted.title"])
        #expect(try await local.replica.pushable(after: second.last?.position, limit: 3).isEmpty)
        // The same by bytes: a batch cut by its byte budget ends with a whole record too.
        let byBytes = try await local.replica.pushable(after: nil, limit: 100, maxBytes: first[0].wireBytes + second[0].wireBytes + 10)
        #expect(names(byBytes) == ["open.title"])
        // A record with more changes than a batch holds is split, its access change first.
        #expect(names(try await local.replica.pushable(after: first.last?.position, limit: 2)) == ["restricted._access", "restricted.location"])
        // When the outbox ends inside the batch, nothing is held back.
        #expect(try await local.replica.pushable(after: nil, limit: 10).count == 4)
        _ = open
    }

    @Test func anEditMadeWhileItsBatchTravelledIsKeptAndBuildsOnTheAcceptedOne() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Raid on an NGO office"), "location": .text("Almaty")])
        let sent = try await local.replica.pushable(after: nil, limit: 100)
        #expect(sent.count == 2)
        // The researcher edits the location while the batch is on its way.
        try local.edit(id, ["location": .text("Almaty, Medeu district")])
        let response = Wire.PushResponse(results: sent.enumerated().map { index, entry in
            Wire.ChangeResult(hlc: entry.hlc, status: .applied, seq: Int64(index + 1))
        }, serverTime: UInt64(Date().timeIntervalSince1970 * 1000))
        let recorded = try await local.replica.recordPush(response, for: sent, author: "ana", state: SyncState(), schema: .upr)
        #expect(recorded.accepted == 2)

        // The sent title left the outbox; the newer location stayed, now built on the accepted one.
        let left = try local.outbox()
        #expect(left.map(\.field) == ["location"])
        #expect(left.first?.value == .text("Almaty, Medeu district"))
        #expect(left.first?.base == sent.first { $0.field == "location" }?.hlc)
        #expect(try local.show(id).fields["location"] == .text("Almaty, Medeu district"))
    }

    @Test func refusalsThatARestampDidNotCureStayOnTheirEntries() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let first = try local.add(["title": .text("Raid on an NGO office"), "location": .text("Almaty")])
        let second = try local.add(["title": .text("Court hearing postponed")])
        let titles = try local.outbox().filter { $0.field == "title" }
        let stranger = HLC(millis: 1, counter: 0, node: NodeID("00000000000000ff")!)
        // The answers name changes by HLC only, one of them unknown here (nothing to mark for it).
        let response = Wire.PushResponse(results: (titles.map(\.hlc) + [stranger]).map {
            Wire.ChangeResult(hlc: $0, status: .rejected, code: "clock_ahead", reason: "ahead of the server's clock")
        }, serverTime: 1)
        try await local.replica.markRejected([response])

        let outbox = try local.outbox()
        #expect(outbox.count == 3)
        #expect(outbox.filter { $0.field == "title" }.map(\.rejectedCode) == ["clock_ahead", "clock_ahead"])
        #expect(outbox.first { $0.field == "location" }?.rejectedCode == nil)
        let refused = try await local.replica.read { db in try ReplicaQuery.rejected(db) }
        #expect(Set(refused.map(\.record)) == [first, second])
        // Refused entries are not pushed again until edited.
        #expect(try Self.walk(local, limit: 10).map(\.field) == ["location"])
    }
}
