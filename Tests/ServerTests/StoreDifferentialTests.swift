import Foundation
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Differential tests: random multi-replica histories pushed to a store in random batches (random
/// order, duplicates, changes before the versions they build on) end with exactly the heads, the
/// open conflicts, the values and the deleted status the reference model `InMemoryReplica` gives
/// for the same changes. The model is one `BatchMerge`; the stores run one per batch over their tables.
@Suite struct StoreDifferentialTests {
    static let seeds: [UInt64] = Array(1...18)

    @Test(arguments: StoreKind.allCases) func randomHistoriesPushedInRandomBatchesEndAsTheModelSays(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
        var statuses: [String: Int] = [:]
        for seed in Self.seeds {
            let project = "diff\(seed)"
            try await harness.store.createProject(name: project, schema: .upr, now: ServerHarness.now)
            let history = RandomHistory(seed: seed, steps: 20 + Int(seed % 6) * 30, start: ServerHarness.now - 3_600_000)
            var seen = Set<HLC>()
            for batch in history.deliveries {
                let results = try await harness.store.push(project: project, changes: batch, author: "ana", policy: policy)
                #expect(results.map(\.hlc) == batch.map(\.hlc), "seed \(seed)")
                for (change, result) in zip(batch, results) {
                    // A change seen before (in an earlier batch or earlier in this one) is a duplicate, whatever it builds on.
                    let expected: Set<Wire.ChangeStatus> = seen.insert(change.hlc).inserted ? [.applied, .conflict] : [.duplicate]
                    #expect(expected.contains(result.status), "seed \(seed): \(result) for \(change.hlc.text)")
                }
            }
            try await compare(harness, project: project, with: history, seed: seed)
            let model = history.model
            for record in history.records { statuses["\(model.status(record: record))".prefix(while: { $0 != "(" }).description, default: 0] += 1 }
            statuses["field conflicts", default: 0] += model.conflicts.filter { $0.field != Change.deletedField }.count
            for record in history.records {
                switch model.resolution(record: record, field: "description") {
                case .merged?: statuses["text merges", default: 0] += 1
                case .conflict?: statuses["text conflicts", default: 0] += 1
                default: break
                }
            }
        }
        // The histories hold every kind of outcome, so the comparison means something.
        #expect(["alive", "deleted", "deleteConflict", "field conflicts", "text merges", "text conflicts"].allSatisfy { statuses[$0, default: 0] > 0 },
                "\(statuses)")
    }

    /// The store's heads (through its snapshot), its open conflict rows, and what they show, against the model.
    private func compare(_ harness: ServerHarness, project: String, with history: RandomHistory, seed: UInt64) async throws {
        let model = history.model
        let heads = try await harness.storedHeads(project: project)
        var expectedKeys = Set<FieldKey>()
        for record in history.records {
            var fields: [String: [Version]] = [:]
            for field in RandomHistory.fields + [Change.deletedField] {
                let key = FieldKey(record: record, field: field)
                let state = model.state(record: record, field: field)
                if !state.heads.isEmpty { expectedKeys.insert(key) }
                let stored = heads[key] ?? []
                #expect(stored.map(\.hlc) == state.heads.map(\.hlc), "seed \(seed): heads of \(record.prefix(8)) \(field)")
                #expect(FieldState(heads: stored).value == state.value, "seed \(seed): value of \(record.prefix(8)) \(field)")
                fields[field] = stored
            }
            #expect(Self.withAuthor("ana", DeletionRule.status(fields: fields.filter { !$0.value.isEmpty }))
                    == Self.withAuthor("ana", model.status(record: record)),
                    "seed \(seed): status of \(record.prefix(8))")
        }
        #expect(Set(heads.keys) == expectedKeys, "seed \(seed): fields with heads")
        let conflicts = try await harness.storedOpenConflicts(project: project)
        #expect(conflicts.map(\.id) == model.conflicts.map(\.id), "seed \(seed): open conflicts")
        #expect(conflicts == model.conflicts.map { Self.withAuthor("ana", $0) }, "seed \(seed): conflict versions")
        let log = try await harness.store.pull(project: project, after: 0, limit: 10_000)
        #expect(Set(log.changes.map(\.change.hlc)) == Set(history.changes.map(\.hlc)) && log.changes.count == history.changes.count,
                "seed \(seed): the log holds every change once")
    }

    /// The status with every version's author replaced (the server stores the pusher's name).
    private static func withAuthor(_ author: String, _ status: RecordStatus) -> RecordStatus {
        guard case .deleteConflict(let deletions, let edits) = status else { return status }
        let rename = { (version: Version) in Version(hlc: version.hlc, value: version.value, author: author, covers: version.covers) }
        return .deleteConflict(deletions: deletions.map(rename), concurrentEdits: edits.map(rename))
    }

    /// The conflict as the server stores it: every version's author is the pusher's name.
    private static func withAuthor(_ author: String, _ conflict: Conflict) -> Conflict {
        Conflict(collection: conflict.collection, record: conflict.record, field: conflict.field,
                 versions: conflict.versions.map { Version(hlc: $0.hlc, value: $0.value, author: author, covers: $0.covers) })
    }
}
