import Foundation
import PropertyBased
import Testing
@testable import Shared

/// Properties of field groups (`incidents.when`: date and date_precision) in random histories where
/// replicas edit the group as the client does (every member, one stamp after another) and settle
/// its conflicts as one: every delivery order converges, a group is never shown half from one edit
/// and half from another, and concurrent edits are one conflict of the group.
@Suite struct FieldGroupProperties {
    static let record = "0123456789abcdef0123456789abcdef"
    static let group = Schema.upr.collection("incidents")!.group(of: "date")!
    static let dates: [FieldValue] = [.date("2024-03-12"), .date("2024-03-13"), .date("2024-01-01")]
    static let precisions: [FieldValue] = [.text("day"), .text("month"), .text("year")]

    struct Node {
        var view = InMemoryReplica(schema: .upr)
        var clock: HybridClock
        var unpushed: [Change] = []
        var pulled = 0
    }

    /// One edit of the whole group: each member with its own parents, stamped consecutively.
    static func edit(_ values: [FieldValue], node: inout Node, wall: UInt64, resolving: Bool) -> [Change] {
        let now = wall
        return zip(group.fields, values).map { field, value in
            let state = node.view.state(record: record, field: field)
            let parents = resolving ? state.resolutionParents : node.view.editParents(record: record, field: field)
            return Change(collection: "incidents", record: record, field: field, value: value, hlc: node.clock.tick(now: now),
                          author: "user", base: parents.base, supersedes: parents.supersedes)
        }
    }

    static func history(seed: UInt64, steps: Int) -> [Change] {
        var random = SplitMix64(seed: seed)
        var nodes = (0..<3).map { Node(clock: HybridClock(node: NodeID(String(format: "%016x", 0xf0 + $0))!)) }
        var server: [Change] = []
        var wall: UInt64 = 1_700_000_000_000
        for _ in 0..<steps {
            wall += UInt64.random(in: 0...2, using: &random)
            let n = Int.random(in: 0..<nodes.count, using: &random)
            var node = nodes[n]
            let roll = Int.random(in: 0..<100, using: &random)
            var made: [Change] = []
            if roll < 45 {
                made = edit([dates.randomElement(using: &random)!, precisions.randomElement(using: &random)!], node: &node, wall: wall, resolving: false)
            } else if roll < 60, let conflict = node.view.conflicts.first(where: { $0.field == group.name }) {
                // Keep one edit's values: the one that wrote a random version of the conflict.
                let version = conflict.versions.randomElement(using: &random)!
                let member = group.fields.firstIndex(of: node.view.changes[version.hlc]!.field)!
                let lead = group.lead(of: version.hlc, member: member)!
                let values = group.fields.enumerated().map { index, field in
                    node.view.changes[group.stamp(ofMember: index, lead: lead)]?.value ?? node.view.state(record: record, field: field).value
                }
                made = edit(values, node: &node, wall: wall, resolving: true)
            } else {
                server += node.unpushed
                node.unpushed.removeAll()
                for change in server[node.pulled...] {
                    _ = try? node.clock.receive(change.hlc, now: wall)
                    node.view.apply(change)
                }
                node.pulled = server.count
            }
            for change in made { node.view.apply(change) }
            node.unpushed += made
            nodes[n] = node
        }
        for node in nodes { server += node.unpushed }
        return server
    }

    static func fingerprint(_ replica: InMemoryReplica) -> String {
        group.fields.map { "\(replica.state(record: record, field: $0).heads.map(\.hlc.text))" }.joined() + "\(replica.conflicts.map(\.id))"
    }

    @Test func everyDeliveryOrderConvergesAndTheGroupIsShownFromOneEdit() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 3...40)) { seed, steps in
            let changes = Self.history(seed: seed, steps: steps)
            var inOrder = InMemoryReplica(schema: .upr)
            for change in changes { inOrder.apply(change) }
            var random = SplitMix64(seed: seed ^ 0x6209)
            for _ in 0..<3 {
                var replica = InMemoryReplica(schema: .upr)
                for change in changes.shuffled(using: &random) { replica.apply(change) }
                #expect(Self.fingerprint(replica) == Self.fingerprint(inOrder), "seed \(seed)")
            }
            guard let date = inOrder.state(record: Self.record, field: "date").winner,
                  let precision = inOrder.state(record: Self.record, field: "date_precision").winner else { return }
            // The values shown come from one edit: the precision was stamped right after the date.
            #expect(precision.hlc == date.hlc.following, "seed \(seed): shown half from one edit, half from another")
            // Member conflicts are the group's: one conflict, never one per member.
            let conflicted = Self.group.fields.contains { inOrder.state(record: Self.record, field: $0).isConflicted }
            #expect(inOrder.conflicts.map(\.field) == (conflicted ? [Self.group.name] : []), "seed \(seed)")
        }
    }

    @Test func concurrentEditsOfDifferentMembersAreOneConflictOfTheGroup() {
        var ana = Node(clock: HybridClock(node: Fixture.nodeA)), bek = Node(clock: HybridClock(node: Fixture.nodeB))
        let first = Self.edit([Self.dates[0], Self.precisions[0]], node: &ana, wall: 1_000, resolving: false)
        for change in first { ana.view.apply(change); bek.view.apply(change) }
        // Ana corrects the date, Bek the precision, each keeping the other member as it was.
        let byAna = Self.edit([Self.dates[1], Self.precisions[0]], node: &ana, wall: 2_000, resolving: false)
        let byBek = Self.edit([Self.dates[0], Self.precisions[1]], node: &bek, wall: 2_001, resolving: false)
        var replica = InMemoryReplica(schema: .upr)
        for change in first + byAna + byBek { replica.apply(change) }
        #expect(replica.conflicts.map(\.field) == ["when"])
        #expect(Set(replica.conflicts[0].versions.map(\.hlc)) == Set((byAna + byBek).map(\.hlc)))
        // The shown values are Bek's, both of them (never Ana's date with Bek's precision).
        #expect(replica.state(record: Self.record, field: "date").value == Self.dates[0])
        #expect(replica.state(record: Self.record, field: "date_precision").value == Self.precisions[1])
    }
}
