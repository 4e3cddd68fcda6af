import Foundation
import Testing
@testable import Shared

@Suite struct MergeRuleTests {
    typealias F = Fixture
    let v1 = F.change(.text("Arrest of a journalist"), at: F.hlc(1_000, 0, F.nodeA), author: "ana")

    func state(_ changes: Change...) -> FieldState {
        var state = FieldState()
        for change in changes { state = MergeRule.merge(state, change).state }
        return state
    }

    @Test func firstWriteAndEditOnTopAreFastForwards() {
        let first = MergeRule.merge(FieldState(), v1)
        #expect(first.kind == .fastForward)
        let edit = F.change(.text("Arrest of a satirist"), at: F.hlc(2_000, 0, F.nodeB), author: "bek", base: v1.hlc)
        let second = MergeRule.merge(first.state, edit)
        #expect(second.kind == .fastForward)
        #expect(second.state.value == .text("Arrest of a satirist"))
        #expect(second.state.heads.count == 1)
    }

    @Test func applyingTheSameChangeTwiceIsADuplicate() {
        let once = state(v1)
        #expect(MergeRule.merge(once, v1).kind == .duplicate)
        #expect(MergeRule.merge(once, v1).state == once)
        #expect(MergeRule.merge(FieldState(), v1, knowledge: .init(isKnown: true)).kind == .duplicate)
    }

    @Test func concurrentEqualValuesAreNotAConflict() {
        let same = F.change(.text("Arrest of a journalist"), at: F.hlc(1_500, 0, F.nodeB), author: "bek")
        let outcome = MergeRule.merge(state(v1), same)
        #expect(outcome.kind == .sameValue)
        #expect(!outcome.state.isConflicted)
        // An edit that saw the value supersedes both equal versions: no false conflict later.
        let parents = outcome.state.editParents
        let next = F.change(.text("new"), at: F.hlc(3_000, 0, F.nodeC), base: parents.base, supersedes: parents.supersedes)
        #expect(MergeRule.merge(outcome.state, next).kind == .fastForward)
    }

    @Test func concurrentDifferentValuesConflictAndTheLargerHLCProvisionallyWins() {
        let mine = F.change(.text("mine"), at: F.hlc(2_000, 0, F.nodeA), author: "ana", base: v1.hlc)
        let theirs = F.change(.text("theirs"), at: F.hlc(1_900, 0, F.nodeB), author: "bek", base: v1.hlc)
        let ab = MergeRule.merge(state(v1, mine), theirs)
        let ba = MergeRule.merge(state(v1, theirs), mine)
        #expect(ab.kind == .conflict)
        #expect(ba.kind == .conflict)
        #expect(ab.state == ba.state)
        #expect(ab.state.value == .text("mine"))
        // The losing value is kept with its author and HLC.
        #expect(ab.state.heads.contains(Version(hlc: theirs.hlc, value: .text("theirs"), author: "bek")))
    }

    @Test func aConflictCanGatherThreeValues() {
        let a = F.change(.text("a"), at: F.hlc(2_000, 0, F.nodeA), base: v1.hlc)
        let b = F.change(.text("b"), at: F.hlc(2_000, 0, F.nodeB), base: v1.hlc)
        let c = F.change(.text("c"), at: F.hlc(2_000, 0, F.nodeC), base: v1.hlc)
        let result = state(v1, a, b, c)
        #expect(result.isConflicted)
        #expect(result.heads.map(\.value) == [.text("c"), .text("b"), .text("a")])
        let conflict = Conflict(collection: "incidents", record: F.record, field: "title", state: result)
        #expect(conflict?.versions.count == 3)
    }

    @Test func aResolutionCoversTheValuesItResolves() {
        let a = F.change(.text("a"), at: F.hlc(2_000, 0, F.nodeA), base: v1.hlc)
        let b = F.change(.text("b"), at: F.hlc(2_100, 0, F.nodeB), base: v1.hlc)
        let conflicted = state(v1, a, b)
        let parents = conflicted.resolutionParents
        let resolution = F.change(.text("a"), at: F.hlc(3_000, 0, F.nodeA), base: parents.base, supersedes: parents.supersedes)
        let outcome = MergeRule.merge(conflicted, resolution)
        #expect(outcome.kind == .fastForward)
        #expect(outcome.resolvedConflict)
        #expect(outcome.state.value == .text("a"))
    }

    @Test func twoDifferentResolutionsOfOneConflictConvergeAndStayVisible() {
        let a = F.change(.text("a"), at: F.hlc(2_000, 0, F.nodeA), base: v1.hlc)
        let b = F.change(.text("b"), at: F.hlc(2_100, 0, F.nodeB), base: v1.hlc)
        let parents = state(v1, a, b).resolutionParents
        let r1 = F.change(.text("a"), at: F.hlc(3_000, 0, F.nodeA), base: parents.base, supersedes: parents.supersedes)
        let r2 = F.change(.text("b"), at: F.hlc(3_001, 0, F.nodeB), base: parents.base, supersedes: parents.supersedes)
        let one = state(v1, a, b, r1, r2)
        let two = state(v1, b, a, r2, r1)
        #expect(one == two)
        #expect(one.isConflicted)
        #expect(Set(one.heads.map(\.hlc)) == [r1.hlc, r2.hlc])
        // The same resolution made twice is no conflict at all.
        let r3 = F.change(.text("a"), at: F.hlc(3_002, 0, F.nodeC), base: parents.base, supersedes: parents.supersedes)
        #expect(!state(v1, a, b, r1, r3).isConflicted)
    }

    @Test func aStaleChangeArrivingAfterItsSuccessorIsSuperseded() {
        let edit = F.change(.text("later"), at: F.hlc(2_000, 0, F.nodeB), base: v1.hlc)
        let afterEdit = state(edit)
        let outcome = MergeRule.merge(afterEdit, v1, knowledge: .init(isParentOfKnownChange: true))
        #expect(outcome.kind == .superseded)
        #expect(outcome.state == afterEdit)
    }

    @Test func structuralProblemsAreRefused() {
        #expect(MergeRule.structuralProblem(v1) == nil)
        let selfBase = F.change(.text("x"), at: F.hlc(5), base: F.hlc(5))
        #expect(MergeRule.structuralProblem(selfBase)?.contains("itself") == true)
        let fromTheFuture = F.change(.text("x"), at: F.hlc(5), base: F.hlc(9, 0, F.nodeB))
        #expect(MergeRule.structuralProblem(fromTheFuture)?.contains("clock") == true)
        let badDelete = F.change(Change.deletedField, .text("yes"), at: F.hlc(5))
        #expect(MergeRule.structuralProblem(badDelete) != nil)
        let coversOnEdit = F.change(.text("x"), at: F.hlc(5), covers: [F.hlc(1)])
        #expect(MergeRule.structuralProblem(coversOnEdit) != nil)
    }

    @Test func deleteVersusConcurrentEditIsAConflictNotADelete() {
        var replica = InMemoryReplica()
        replica.apply(v1)
        // Ana deletes having seen v1; Bek edits v1 without seeing the delete.
        let delete = F.change(Change.deletedField, .bool(true), at: F.hlc(3_000, 0, F.nodeA), covers: [v1.hlc])
        let edit = F.change(.text("edited"), at: F.hlc(2_000, 0, F.nodeB), author: "bek", base: v1.hlc)
        replica.apply(delete)
        #expect(replica.status(record: F.record) == .deleted)
        replica.apply(edit)
        guard case .deleteConflict(let deletions, let edits) = replica.status(record: F.record) else {
            Issue.record("expected a delete conflict")
            return
        }
        #expect(deletions.map(\.hlc) == [delete.hlc])
        #expect(edits.map(\.hlc) == [edit.hlc])
        #expect(replica.status(record: F.record).isVisible)
        #expect(replica.conflicts.map(\.field) == [Change.deletedField])

        // Keeping the record: a restore that supersedes the delete.
        var kept = replica
        kept.apply(F.change(Change.deletedField, .bool(false), at: F.hlc(4_000, 0, F.nodeB), base: delete.hlc))
        #expect(kept.status(record: F.record) == .alive)
        #expect(kept.conflicts.isEmpty)

        // Deleting after all: a delete that covers the edit.
        var deleted = replica
        deleted.apply(F.change(Change.deletedField, .bool(true), at: F.hlc(4_000, 0, F.nodeA), base: delete.hlc, covers: [edit.hlc]))
        #expect(deleted.status(record: F.record) == .deleted)
        #expect(deleted.conflicts.isEmpty)
    }

    @Test func aRestoreConcurrentWithADeleteIsAConflictNotADelete() {
        var replica = InMemoryReplica()
        replica.apply(v1)
        let firstDelete = F.change(Change.deletedField, .bool(true), at: F.hlc(2_000, 0, F.nodeA), covers: [v1.hlc])
        replica.apply(firstDelete)
        // Bek restores the record; Ana, not seeing it, deletes again covering everything she saw.
        let restore = F.change(Change.deletedField, .bool(false), at: F.hlc(3_000, 0, F.nodeB), author: "bek", base: firstDelete.hlc)
        let secondDelete = F.change(Change.deletedField, .bool(true), at: F.hlc(3_500, 0, F.nodeA), base: firstDelete.hlc, covers: [v1.hlc])
        replica.apply(restore)
        replica.apply(secondDelete)
        // The restore is nobody's mistake: a person decides, and until then the record stays visible.
        guard case .deleteConflict(let deletions, let concurrent) = replica.status(record: F.record) else {
            Issue.record("expected a delete conflict, got \(replica.status(record: F.record))")
            return
        }
        #expect(deletions.map(\.hlc) == [secondDelete.hlc])
        #expect(concurrent.map(\.hlc) == [restore.hlc])
        #expect(replica.conflicts.map(\.field) == [Change.deletedField])
    }

    @Test func twoDeletesWhereOneSawTheEditAreNoConflict() {
        var replica = InMemoryReplica()
        let edit = F.change(.text("edited"), at: F.hlc(2_000, 0, F.nodeB), base: v1.hlc)
        replica.apply(v1)
        replica.apply(edit)
        replica.apply(F.change(Change.deletedField, .bool(true), at: F.hlc(3_000, 0, F.nodeA), covers: [v1.hlc]))
        replica.apply(F.change(Change.deletedField, .bool(true), at: F.hlc(3_000, 0, F.nodeC), covers: [edit.hlc]))
        #expect(replica.status(record: F.record) == .deleted)
    }

    @Test func aParentOnAnotherFieldSupersedesNothingWhateverTheOrder() {
        // A (faulty) change whose base names a version of another field must not make
        // replicas that receive changes in different orders disagree.
        let title = F.change("title", .text("t"), at: F.hlc(1_000, 0, F.nodeA))
        let location = F.change("location", .text("Astana"), at: F.hlc(2_000, 0, F.nodeB), base: title.hlc)
        var one = InMemoryReplica()
        one.apply(title)
        one.apply(location)
        var two = InMemoryReplica()
        two.apply(location)
        two.apply(title)
        #expect(one.state(record: F.record, field: "title") == two.state(record: F.record, field: "title"))
        #expect(two.state(record: F.record, field: "title").value == .text("t"))
    }

    @Test func conflictIDsAreDeterministicAndFollowTheValues() {
        let a = F.hlc(1, 0, F.nodeA), b = F.hlc(2, 0, F.nodeB), c = F.hlc(3, 0, F.nodeC)
        let id = Conflict.makeID(record: F.record, field: "title", versions: [a, b])
        #expect(id == Conflict.makeID(record: F.record, field: "title", versions: [b, a]))
        #expect(id != Conflict.makeID(record: F.record, field: "title", versions: [a, b, c]))
        #expect(id != Conflict.makeID(record: F.record, field: "date", versions: [a, b]))
        #expect(id.count == 16)
    }
}
