import Foundation
import GRDB
import TestSupport
import Testing
@testable import Client
@testable import Shared

/// Differential tests: random multi-replica histories pulled into a client replica in random pages
/// (random order, duplicates, changes before the versions they build on) end with exactly the
/// heads, the open conflicts, the visible values and the deleted status the reference model
/// `InMemoryReplica` gives for the same changes.
@Suite struct ReplicaDifferentialTests {
    @Test(arguments: Array(UInt64(1)...16)) func randomHistoriesPulledInRandomPagesEndAsTheModelSays(seed: UInt64) async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let history = RandomHistory(seed: seed, steps: 20 + Int(seed % 6) * 30, start: 1_737_600_000_000)
        // The server numbers each change once; a change delivered again keeps its number.
        var seqs: [HLC: Int64] = [:]
        var state = SyncState()
        state.snapshot = .done
        for batch in history.deliveries {
            let page = batch.map { change in
                let seq = seqs[change.hlc] ?? Int64(seqs.count + 1)
                seqs[change.hlc] = seq
                return Wire.LoggedChange(seq: seq, change: change, receivedAt: 1_737_600_000_000)
            }
            state.cursor = Int64(seqs.count)
            _ = try await local.replica.applyPulled(page, serverTime: 1_737_600_000_000, state: state, schema: .upr)
        }
        try await compare(local, with: history, seed: seed)
    }

    private func compare(_ local: TemporaryReplica, with history: RandomHistory, seed: UInt64) async throws {
        let model = history.model
        let heads = try await local.replica.read { db in
            try Row.fetchAll(db, sql: "SELECT record.id, change.field, change.hlc FROM change JOIN record ON record.key = change.record_key WHERE change.head = 1")
                .map { "\($0[0] as String) \($0[1] as String) \($0[2] as String)" }
        }
        var expectedHeads: [String] = []
        for record in history.records {
            for field in RandomHistory.fields + [Change.deletedField] {
                expectedHeads += model.state(record: record, field: field).heads.map { "\(record) \(field) \($0.hlc.text)" }
            }
            // A short history may leave a record untouched: then the replica does not know it either.
            guard history.changes.contains(where: { $0.record == record }) else {
                await #expect(throws: ClientError.self) { try await local.replica.record(record) }
                continue
            }
            let view = try await local.replica.record(record)
            let status = model.status(record: record)
            #expect(view.visible == status.isVisible, "seed \(seed): \(record.prefix(8)) is \(status)")
            var values: [String: FieldValue] = [:]
            // What the model shows: the merge of concurrent long texts, else the winner.
            for field in RandomHistory.fields where !model.value(record: record, field: field).isUnset {
                values[field] = model.value(record: record, field: field)
            }
            #expect(view.fields == values, "seed \(seed): values of \(record.prefix(8))")
            #expect(!view.pending)
        }
        #expect(heads.sorted() == expectedHeads.sorted(), "seed \(seed): heads")
        let conflicts = try await local.replica.conflicts(node: NodeID("00000000000000a1")!).map(\.view.conflict)
        #expect(conflicts.map(\.id).sorted() == model.conflicts.map(\.id), "seed \(seed): open conflicts")
        #expect(Set(conflicts.map(\.versions)) == Set(model.conflicts.map(\.versions)), "seed \(seed): conflict versions")
    }
}
