import Foundation
import Testing
@testable import Server
@testable import Shared

/// `PushPlanner.plan` on fixed contexts: what a store loaded in, what it must write out.
///
/// Ana pushes every batch; stored versions are Bek's. Clocks are fixed (`ChangeMaker`), so each
/// HLC and conflict id is the same on every run.
@Suite struct PushPlannerTests {
    static let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)
    static let title = FieldKey(record: recordA, field: "title")

    /// Plans `changes`, pushed by ana, against `context`.
    func plan(_ changes: [Change], _ context: PushContext) -> PushPlan {
        PushPlanner.plan(changes, schema: .upr, author: "ana", policy: Self.policy, context: context)
    }

    /// A context in which `heads` are the stored heads of their fields (their records stored in
    /// their collections), and the project's counter is at `lastSeq`.
    func context(heads: [Change] = [], lastSeq: Int64 = 0) -> PushContext {
        var context = PushContext()
        context.lastSeq = lastSeq
        for change in heads {
            context.heads[change.record, default: [:]][change.field, default: []].append(Version(change))
            context.collections[change.record] = change.collection
        }
        return context
    }

    /// `change` as the store holds it: written by `author`.
    func stored(_ change: Change, by author: String = "bek") -> Change {
        var change = change
        change.author = author
        return change
    }

    @Test func anEditOfTheCurrentVersionFastForwardsAndReplacesTheHeads() {
        var ana = ChangeMaker(node: "000000000000000a")
        let created = stored(ana.change(recordA, "title", .text("Protest")))
        let edit = ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)
        let plan = plan([edit], context(heads: [created], lastSeq: 7))

        #expect(plan.results == [Wire.ChangeResult(hlc: edit.hlc, status: .applied, seq: 8)])
        #expect(plan.inserts == [Wire.LoggedChange(seq: 8, change: stored(edit, by: "ana"), receivedAt: ServerHarness.now)])
        #expect(plan.heads == [Self.title: [Version(stored(edit, by: "ana"))]])
        #expect(plan.replacedHeads == [Self.title])
        #expect(plan.conflicts.isEmpty && plan.newRecords.isEmpty)
        #expect(plan.lastSeq == 8)
    }

    @Test func concurrentValuesOpenAConflictNamedInTheResult() {
        var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
        let created = ana.change(recordA, "title", .text("Protest"))
        bek.millis = ana.millis
        let theirs = stored(bek.change(recordA, "title", .text("Rally"), base: created.hlc))
        let mine = ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)
        let plan = plan([mine], context(heads: [theirs], lastSeq: 3))

        let id = Conflict.makeID(record: recordA, field: "title", versions: [theirs.hlc, mine.hlc])
        #expect(plan.results == [Wire.ChangeResult(hlc: mine.hlc, status: .conflict, seq: 4, conflict: id)])
        let versions = [Version(stored(mine, by: "ana")), Version(theirs)].sorted { $0.hlc > $1.hlc }
        #expect(plan.heads == [Self.title: versions])
        let open = Conflict(collection: "incidents", record: recordA, field: "title", versions: versions)
        #expect(open.id == id)
        #expect(plan.conflicts == [Self.title: Wire.ConflictState(conflict: open, open: true)])
        #expect(plan.conflictSeqs == [Self.title: 4])
    }

    @Test func concurrentEqualValuesKeepBothVersionsWithoutAConflict() {
        var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
        let created = ana.change(recordA, "title", .text("Protest"))
        bek.millis = ana.millis
        let theirs = stored(bek.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc))
        let mine = ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)
        let plan = plan([mine], context(heads: [theirs], lastSeq: 3))

        #expect(plan.results == [Wire.ChangeResult(hlc: mine.hlc, status: .applied, seq: 4)])
        #expect(plan.heads[Self.title]?.map(\.hlc) == [mine.hlc, theirs.hlc].sorted(by: >))
        #expect(plan.conflicts.isEmpty)
    }

    @Test func aResolutionClosesTheConflictInThePlan() {
        var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
        let created = ana.change(recordA, "title", .text("Protest"))
        bek.millis = ana.millis
        let theirs = stored(bek.change(recordA, "title", .text("Rally"), base: created.hlc))
        let mine = stored(ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc), by: "ana")
        let before = Conflict(collection: "incidents", record: recordA, field: "title", versions: [Version(theirs), Version(mine)])
        let parents = FieldState(heads: before.versions).resolutionParents
        let resolution = ana.change(recordA, "title", .text("Rally in Almaty"), base: parents.base, supersedes: parents.supersedes)
        let plan = plan([resolution], context(heads: [theirs, mine], lastSeq: 9))

        #expect(plan.results == [Wire.ChangeResult(hlc: resolution.hlc, status: .applied, seq: 10)])
        #expect(plan.heads == [Self.title: [Version(stored(resolution, by: "ana"))]])
        #expect(plan.conflicts == [Self.title: Wire.ConflictState(conflict: before, open: false)])
        #expect(plan.conflictSeqs == [Self.title: 10])
    }

    @Test func aDeleteThatMissedAnEditIsADeleteConflict() throws {
        var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
        let created = stored(ana.change(recordA, "title", .text("Incident")), by: "ana")
        bek.millis = ana.millis
        let edit = stored(bek.change(recordA, "title", .text("Incident, edited"), base: created.hlc))
        let delete = ana.change(recordA, Change.deletedField, .bool(true), covers: [created.hlc])
        let plan = plan([delete], context(heads: [edit], lastSeq: 2))

        // The reference model, fed the same changes, names the conflict the planner must report.
        var reference = InMemoryReplica()
        for change in [created, edit, stored(delete, by: "ana")] { reference.apply(change) }
        #expect(reference.conflicts.map(\.field) == [Change.deletedField])
        let expected = try #require(reference.conflicts.first)
        #expect(plan.results == [Wire.ChangeResult(hlc: delete.hlc, status: .conflict, seq: 3, conflict: expected.id)])
        let deleted = FieldKey(record: recordA, field: Change.deletedField)
        #expect(plan.conflicts[deleted]?.open == true)
        #expect(plan.conflicts[deleted]?.conflict.id == expected.id)
        #expect(plan.heads == [deleted: [Version(stored(delete, by: "ana"))]])
        // The record's first delete: nothing of `_deleted` was stored, so no heads to delete.
        #expect(plan.replacedHeads.isEmpty)
    }

    @Test func aStoredChangeIsADuplicateAndAReusedTimestampIsRefused() {
        var ana = ChangeMaker(node: "000000000000000a")
        let first = ana.change(recordA, "title", .text("first"))
        var reused = first
        reused.record = recordB
        reused.value = .text("second")
        var context = context(heads: [stored(first, by: "someone")], lastSeq: 1)
        // Relayed by another user: still a duplicate, recognised by content.
        context.existing[first.hlc] = stored(first, by: "someone")
        let plan = plan([first, reused], context)

        #expect(plan.results.map(\.status) == [.duplicate, .rejected])
        #expect(plan.results[0].seq == nil)
        #expect(plan.results[1].code == "id_reused")
        #expect(plan.inserts.isEmpty && plan.heads.isEmpty && plan.newRecords.isEmpty)
        #expect(plan.lastSeq == 1)
    }

    @Test func theSameChangeTwiceInOneBatchIsStoredOnce() {
        var ana = ChangeMaker(node: "000000000000000a")
        let twice = ana.change(recordA, "location", .text("Almaty"))
        var clash = twice
        clash.value = .text("Astana")
        let plan = plan([twice, twice, clash], context(lastSeq: 5))

        #expect(plan.results.map(\.status) == [.applied, .duplicate, .rejected])
        #expect(plan.results.map(\.seq) == [6, nil, nil])
        #expect(plan.results[2].code == "id_reused")
        #expect(plan.inserts.map(\.change.hlc) == [twice.hlc])
        #expect(plan.lastSeq == 6)
    }

    @Test func aChangeAlreadySupersededByAStoredChangeOnlyJoinsTheHistory() {
        var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
        let old = ana.change(recordA, "title", .text("Protest"))
        bek.millis = ana.millis
        let newer = stored(bek.change(recordA, "title", .text("Protest in Almaty"), base: old.hlc))
        var context = context(heads: [newer], lastSeq: 4)
        context.parentsOfStored = [old.hlc]
        let plan = plan([old], context)

        #expect(plan.results == [Wire.ChangeResult(hlc: old.hlc, status: .applied, seq: 5)])
        #expect(plan.inserts.map(\.change.hlc) == [old.hlc])
        // Not a head: a conflict between `old` and the change built on it would be wrong.
        #expect(plan.heads == [Self.title: [Version(newer)]])
        #expect(plan.conflicts.isEmpty)
    }

    @Test func aChangeSupersededLaterInTheSameBatchIsNoHeadEither() {
        var ana = ChangeMaker(node: "000000000000000a")
        let old = ana.change(recordA, "title", .text("Protest"))
        let newer = ana.change(recordA, "title", .text("Protest in Almaty"), base: old.hlc)
        let plan = plan([newer, old], context())

        #expect(plan.results.map(\.status) == [.applied, .applied])
        #expect(plan.heads == [Self.title: [Version(stored(newer, by: "ana"))]])
        #expect(plan.conflicts.isEmpty)
    }

    @Test func refusedChangesUseNoNumberAndDoNotBlockTheRest() {
        var ana = ChangeMaker(node: "000000000000000a")
        let batch = [
            ana.change(recordA, "title", .text("ok")),
            ana.change(recordA, "colour", .text("red")),
            ana.change(recordB, "code", .text("P-1"), collection: "persons"),
            ana.change("not-an-id", "title", .text("x")),
            ana.change(recordA, "location", .text("Astana")),
            ana.change(recordB, "date", .date("2025-01-02")),
        ]
        var context = context(lastSeq: 41)
        context.collections[recordB] = "incidents"
        let plan = plan(batch, context)

        #expect(plan.results.map(\.status) == [.applied, .rejected, .rejected, .rejected, .applied, .applied])
        #expect(plan.results.map(\.seq) == [42, nil, nil, nil, 43, 44])
        #expect(plan.results[1].reason?.contains("unknown field 'colour'") == true)
        #expect(plan.results[2].reason?.contains("belongs to incidents") == true)
        #expect(plan.results[3].code == "invalid")
        #expect(plan.inserts.map(\.seq) == [42, 43, 44])
        #expect(plan.inserts.map(\.change.hlc) == [batch[0].hlc, batch[4].hlc, batch[5].hlc])
        #expect(plan.lastSeq == 44)
        // recordA is new to the store; recordB already is, so it is not inserted again.
        #expect(plan.newRecords == [recordA: "incidents"])
        // Only fields that had stored heads need theirs deleted: none here.
        #expect(plan.replacedHeads.isEmpty)
        #expect(Set(plan.heads.keys) == [Self.title, FieldKey(record: recordA, field: "location"), FieldKey(record: recordB, field: "date")])
    }

    @Test func aChangeStampedBeyondTheDriftBoundIsRefusedAndOneAtTheBoundIsNot() {
        var atBound = ChangeMaker(node: "00000000000000fe")
        atBound.millis = ServerHarness.now + Self.policy.maxDriftMillis - 1
        var beyond = ChangeMaker(node: "00000000000000ff")
        beyond.millis = ServerHarness.now + Self.policy.maxDriftMillis
        let accepted = atBound.change(recordA, "title", .text("at the bound"))
        let refused = beyond.change(recordB, "title", .text("one millisecond beyond"))
        #expect(accepted.hlc.millis == ServerHarness.now + Self.policy.maxDriftMillis)
        let plan = plan([refused, accepted], context())

        #expect(plan.results.map(\.status) == [.rejected, .applied])
        #expect(plan.results[0].code == "clock_ahead")
        #expect(plan.results[0].reason?.contains("300 s") == true)
        #expect(plan.results[1].seq == 1)
        #expect(plan.newRecords == [recordA: "incidents"])
    }
}
