import Foundation
import Testing
@testable import Shared

/// The automatic merge of a field from its heads and history: which base it finds, and what it
/// asks for when history is missing.
@Suite struct FieldMergeTests {
    typealias F = Fixture
    static let v0Text = "Line one.\nLine two.\nLine three.\n"

    func change(_ text: String, _ millis: UInt64, _ node: NodeID, base: HLC? = nil, supersedes: [HLC] = []) -> Change {
        F.change("description", .text(text), at: F.hlc(millis, 0, node), base: base, supersedes: supersedes)
    }

    func replica(_ changes: Change...) -> InMemoryReplica {
        var replica = InMemoryReplica(schema: .upr)
        for change in changes { replica.apply(change) }
        return replica
    }

    var v0: Change { change(Self.v0Text, 1_000, F.nodeA) }

    @Test func twoEditsOfOneVersionMergeFromIt() {
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        let b = change("Line one.\nLine two.\nLine THREE.\n", 2_001, F.nodeB, base: v0.hlc)
        let model = replica(v0, a, b)
        #expect(model.value(record: F.record, field: "description") == .text("Line ONE.\nLine two.\nLine THREE.\n"))
        #expect(model.conflicts.isEmpty)
        // An edit of the merged text supersedes both heads: one head, no conflict.
        let parents = model.editParents(record: F.record, field: "description")
        #expect(parents.base == b.hlc && parents.supersedes == [a.hlc])
    }

    @Test func theBaseIsFoundThroughSeveralEditsOnOneSide() {
        let b1 = change("Line one.\nLine two!\nLine three.\n", 1_500, F.nodeB, base: v0.hlc)
        let b2 = change("Line one.\nLine two!\nLine 3.\n", 1_600, F.nodeB, base: b1.hlc)
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        #expect(replica(v0, b1, b2, a).value(record: F.record, field: "description") == .text("Line ONE.\nLine two!\nLine 3.\n"))
    }

    @Test func editsOfTheSameMergedTextMergeFromThatMerge() {
        // A and B merged; C and D each edit the merged text (superseding both): their base is the merge of A and B.
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        let b = change("Line one.\nLine two.\nLine THREE.\n", 2_001, F.nodeB, base: v0.hlc)
        let c = change("Line ONE.\nLine 2.\nLine THREE.\n", 3_000, F.nodeA, base: b.hlc, supersedes: [a.hlc])
        let d = change("Line ONE.\nLine two.\nLine THREE.\nLine four.\n", 3_001, F.nodeC, base: b.hlc, supersedes: [a.hlc])
        let model = replica(v0, a, b, c, d)
        #expect(model.value(record: F.record, field: "description") == .text("Line ONE.\nLine 2.\nLine THREE.\nLine four.\n"))
        #expect(model.conflicts.isEmpty)
    }

    @Test func overlappingEditsAreAConflictWhoseWinnerIsShown() {
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        let b = change("Line 1.\nLine two.\nLine three.\n", 2_001, F.nodeB, base: v0.hlc)
        let model = replica(v0, a, b)
        #expect(model.resolution(record: F.record, field: "description") == .conflict(.overlapping))
        #expect(model.value(record: F.record, field: "description") == b.value)
        #expect(model.conflicts.map(\.field) == ["description"])
        // An ordinary edit during a conflict keeps it open, as for any field.
        #expect(model.editParents(record: F.record, field: "description").supersedes.isEmpty)
    }

    @Test func twoFirstWritesShareNoBase() {
        let a = change("Ana's text.", 2_000, F.nodeA)
        let b = change("Bek's text.", 2_001, F.nodeB)
        #expect(replica(a, b).resolution(record: F.record, field: "description") == .conflict(.noCommonBase))
    }

    @Test func aMissingBaseIsAskedForThenAConflictWhenAbsent() {
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        let b = change("Line one.\nLine two.\nLine THREE.\n", 2_001, F.nodeB, base: v0.hlc)
        let state = FieldState(heads: [Version(a), Version(b)])
        var graph = VersionGraph([a, b])
        #expect(FieldMerge.resolve(state, hook: .longText, graph: graph) == .needs([v0.hlc]))
        graph.loaded([v0.hlc], found: [Change]())
        #expect(FieldMerge.resolve(state, hook: .longText, graph: graph) == .conflict(.missing(v0.hlc)))
        graph.add(v0)
        #expect(FieldMerge.resolve(state, hook: .longText, graph: graph) == .merged(.text("Line ONE.\nLine two.\nLine THREE.\n")))
        // What the merge read is what a replica needs: the heads and their base, not v0's own history.
        var merge = FieldMerge(hook: .longText)
        _ = merge.merge([a.hlc, b.hlc], graph: graph)
        #expect(merge.read == [a.hlc, b.hlc, v0.hlc])
    }

    @Test func theWalkStopsAtItsBudget() {
        var chain = [v0]
        for step in 1...20 {
            chain.append(change("Line one.\nLine two.\nLine three \(step).\n", 1_000 + UInt64(step), F.nodeB, base: chain.last!.hlc))
        }
        let a = change("Line ONE.\nLine two.\nLine three.\n", 2_000, F.nodeA, base: v0.hlc)
        let state = FieldState(heads: [Version(a), Version(chain.last!)])
        var small = FieldMerge(hook: .longText, budget: 10)
        #expect(small.merge(state.heads.map(\.hlc), graph: VersionGraph(chain + [a])) == .conflict(.tooLong))
        #expect(FieldMerge.resolve(state, hook: .longText, graph: VersionGraph(chain + [a])) == .merged(.text("Line ONE.\nLine two.\nLine three 20.\n")))
    }

    @Test func fieldsWithoutAHookAndGroupedFieldsNeverMerge() {
        let rules = FieldRules(Schema.upr, collection: "incidents")
        #expect(rules.hook(for: "description") != nil)
        #expect(rules.hook(for: "title") == nil)
        #expect(rules.group(of: "date_precision")?.fields == ["date", "date_precision"])
        #expect(rules.hook(for: "date") == nil)
        #expect(FieldRules.none.hook(for: "description") == nil)
    }
}
