import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// The replica's side of automatic merges and field groups: what it shows, what a later edit
/// builds on, what it asks the server for when it joined from a snapshot, and group edits.
@Suite struct ReplicaTextMergeTests {
    static let record = "0123456789abcdef0123456789abcdef"
    static let base = "On 12 March police detained Zhanar.\n\nHer lawyer was not allowed in.\n"

    func change(_ field: String, _ value: FieldValue, _ millis: UInt64, node: String, base: HLC? = nil, supersedes: [HLC] = []) -> Change {
        Change(collection: "incidents", record: Self.record, field: field, value: value, hlc: HLC(millis: millis, counter: 0, node: NodeID(node)!),
               author: "user\(node.suffix(1))", base: base, supersedes: supersedes)
    }

    /// The creation, then Ana and Bek editing different paragraphs of its description concurrently.
    var history: (title: Change, v0: Change, ana: Change, bek: Change) {
        let title = change("title", .text("Arrest of Zhanar"), 1_000, node: "b1")
        let v0 = change("description", .text(Self.base), 1_001, node: "b1")
        let ana = change("description", .text(Self.base.replacingOccurrences(of: "12 March", with: "13 March")), 2_000, node: "b2", base: v0.hlc)
        let bek = change("description", .text(Self.base + "\nA witness saw the arrest.\n"), 2_001, node: "b3", base: v0.hlc)
        return (title, v0, ana, bek)
    }

    func apply(_ local: TemporaryReplica, _ changes: [Change]) throws {
        try local.replica.write { db in
            _ = try Replica.applyAccepted(changes.enumerated().map { Wire.LoggedChange(seq: Int64($0.offset + 1), change: $0.element, receivedAt: 1) },
                                          schema: .upr, db)
        }
    }

    @Test func concurrentEditsOfDifferentParagraphsShowTheirMergeAndALaterEditSupersedesBoth() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let (title, v0, ana, bek) = history
        try apply(local, [title, v0, ana, bek])
        let merged = Self.base.replacingOccurrences(of: "12 March", with: "13 March") + "\nA witness saw the arrest.\n"
        #expect(try local.show(Self.record).fields["description"] == .text(merged))
        #expect(try local.show(Self.record).conflictFields.isEmpty)
        try local.edit(Self.record, ["description": .text(merged + "Updated.\n")])
        let entry = try #require(try local.outbox().first { $0.field == "description" })
        #expect(Set(entry.parents) == [ana.hlc, bek.hlc])
    }

    @Test func aReplicaThatJoinedFromTheSnapshotAsksForTheBaseAndThenShowsTheMerge() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let (title, v0, ana, bek) = history
        // A snapshot carries the heads only: without the base the field is in conflict.
        try apply(local, [title, ana, bek])
        #expect(try local.show(Self.record).conflictFields == ["description"])
        let asked = try await local.replica.incompleteMerges(schema: .upr)
        #expect(asked == [Wire.HistoryRequest.Field(record: Self.record, field: "description", heads: [bek.hlc, ana.hlc])])
        try await local.replica.applyHistory([Wire.LoggedChange(seq: 2, change: v0, receivedAt: 1)], schema: .upr)
        #expect(try local.show(Self.record).conflictFields.isEmpty)
        #expect(try await local.replica.incompleteMerges(schema: .upr).isEmpty)
        #expect(try local.show(Self.record).fields["description"]?.displayText.contains("A witness saw the arrest.") == true)
    }

    @Test func aTextConflictRecordedBeforeAutomaticMergesIsSettledAtTheNextSync() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let (title, v0, ana, bek) = history
        try apply(local, [title, v0, ana, bek])
        // What a replica of an earlier version derived for the same versions: a conflict row.
        let stale = Conflict(collection: "incidents", record: Self.record, field: "description", versions: [Version(ana), Version(bek)])
        try await local.replica.write { db in
            try db.execute(sql: "INSERT INTO conflict (id, record, field, collection, versions) VALUES (?, ?, ?, ?, ?)",
                           arguments: [stale.id, Self.record, "description", "incidents", String(decoding: try JSONEncoder().encode(stale.versions), as: UTF8.self)])
        }
        #expect(try local.show(Self.record).conflictFields == ["description"])
        #expect(try await local.replica.incompleteMerges(schema: .upr).isEmpty)
        #expect(try local.show(Self.record).conflictFields.isEmpty)
    }

    @Test func overlappingEditsAreOneConflictShownAsADiffWithTheirBase() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let (title, v0, ana, _) = history
        let bek = change("description", .text(Self.base.replacingOccurrences(of: "police detained", with: "officers detained")), 2_001, node: "b3", base: v0.hlc)
        try apply(local, [title, v0, ana, bek])
        let items = try await local.replica.conflicts(node: local.settings.node, schema: .upr)
        #expect(items.count == 1)
        let text = try #require(items.first?.text)
        #expect(text.baseKnown && text.base == Self.base)
        let places = TextConflictJSON.places(text)
        #expect(places.count == 1)
        #expect(places.first?.line == 1 && places.first?.base == "On 12 March police detained Zhanar.\n")
        #expect(TextDiff.inline(TextDiff.words(places[0].base, places[0].versions[0]!)).contains("[-police-]{+officers+}"))
    }

    @Test func anEditOfOneMemberOfAGroupWritesEveryMemberStampedInOrder() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let id = try local.add(["title": .text("Arrest"), "date": .date("2024-03-12"), "date_precision": .text("day")])
        // The server confirms the creation.
        try apply(local, try local.outbox().map { $0.change(author: "ana") })
        try await local.replica.write { db in try db.execute(sql: "DELETE FROM outbox") }
        try local.edit(id, ["date_precision": .text("month")])
        let entries = try local.outbox()
        #expect(entries.map(\.field) == ["date", "date_precision"])
        #expect(entries.map(\.value) == [.date("2024-03-12"), .text("month")])
        #expect(entries[1].hlc == entries[0].hlc.following)
    }

    @Test func concurrentEditsOfAGroupAreOneConflictResolvedWhole() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        func following(_ date: Change, _ precision: String, base: HLC?) -> Change {
            Change(collection: "incidents", record: Self.record, field: "date_precision", value: .text(precision), hlc: date.hlc.following,
                   author: date.author, base: base)
        }
        let d0 = change("date", .date("2024-03-12"), 1_000, node: "b1")
        let p0 = following(d0, "day", base: nil)
        // Ana corrects the date, Bek the precision, each writing the whole group.
        let anaDate = change("date", .date("2024-03-13"), 2_000, node: "b2", base: d0.hlc)
        let anaPrecision = following(anaDate, "day", base: p0.hlc)
        let bekDate = change("date", .date("2024-03-12"), 2_001, node: "b3", base: d0.hlc)
        let bekPrecision = following(bekDate, "month", base: p0.hlc)
        try apply(local, [change("title", .text("Arrest"), 999, node: "b1"), d0, p0, anaDate, anaPrecision, bekDate, bekPrecision])
        let items = try await local.replica.conflicts(node: local.settings.node, schema: .upr)
        #expect(items.map(\.view.conflict.field) == ["when"])
        let choices = try #require(items.first?.choices)
        #expect(choices.map(\.fields) == [["date": .date("2024-03-12"), "date_precision": .text("month")],
                                          ["date": .date("2024-03-13"), "date_precision": .text("day")]])
        try local.write { editor, _ in
            let (view, _) = try editor.conflict(items[0].view.conflict.id)
            try editor.resolve(view.conflict, group: try #require(view.group), with: choices[1].fields!)
        }
        let entries = try local.outbox()
        #expect(entries.map(\.field) == ["date", "date_precision"])
        #expect(Set(entries.flatMap(\.parents)) == [anaDate.hlc, bekDate.hlc, anaPrecision.hlc, bekPrecision.hlc])
        #expect(try local.show(Self.record).conflictFields.isEmpty)
    }
}
