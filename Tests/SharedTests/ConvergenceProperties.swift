import Foundation
import PropertyBased
import Testing
@testable import Shared

/// Property: for random histories made by several replicas that edit, delete and resolve
/// offline and sync now and then, every delivery order of the resulting changes (with
/// redelivery) gives the same field values, the same heads and the same conflicts, and those
/// are what an oracle computed from the set of changes alone says they must be.
@Suite struct ConvergenceProperties {
    static let records = ["11111111111111111111111111111111", "22222222222222222222222222222222"]
    static let fields = ["title", "location"]
    static let values: [FieldValue] = [.text("x"), .text("y"), .text("z"), .unset]

    /// One simulated replica: its view, its clock, and the changes it has not pushed yet.
    struct SimulatedNode {
        var view = InMemoryReplica()
        var clock: HybridClock
        var unpushed: [Change] = []
        var pulled = 0
        let author: String
    }

    /// Plays a random history and returns every change made, in the order the server accepted them.
    static func history(seed: UInt64, steps: Int) -> [Change] {
        var random = SeededGenerator(seed: seed)
        let ids = [Fixture.nodeA, Fixture.nodeB, Fixture.nodeC]
        var nodes = ids.enumerated().map { SimulatedNode(clock: HybridClock(node: $0.element), author: "user\($0.offset)") }
        var server: [Change] = []
        var wall: UInt64 = 1_700_000_000_000
        for _ in 0..<steps {
            wall += UInt64.random(in: 0...3, using: &random)
            let n = Int.random(in: 0..<nodes.count, using: &random)
            let record = records.randomElement(using: &random)!
            let roll = Int.random(in: 0..<100, using: &random)
            var node = nodes[n]
            var made: Change?
            if roll < 55 {
                let field = fields.randomElement(using: &random)!
                let parents = node.view.state(record: record, field: field).editParents
                made = Change(collection: "incidents", record: record, field: field, value: values.randomElement(using: &random)!,
                              hlc: node.clock.tick(now: wall), author: node.author, base: parents.base, supersedes: parents.supersedes)
            } else if roll < 63 {
                let deletion = node.view.state(record: record, field: Change.deletedField)
                let covers = fields.flatMap { node.view.state(record: record, field: $0).heads.map(\.hlc) }
                let parents = deletion.resolutionParents
                made = Change(collection: "incidents", record: record, field: Change.deletedField, value: .bool(true),
                              hlc: node.clock.tick(now: wall), author: node.author, base: parents.base,
                              supersedes: parents.supersedes, covers: covers)
            } else if roll < 75, let conflict = node.view.conflicts.randomElement(using: &random) {
                let state = node.view.state(record: conflict.record, field: conflict.field)
                let parents = state.resolutionParents
                let value: FieldValue = conflict.field == Change.deletedField
                    ? .bool(Bool.random(using: &random)) : conflict.versions.randomElement(using: &random)!.value
                let covers = value == .bool(true)
                    ? fields.flatMap { node.view.state(record: conflict.record, field: $0).heads.map(\.hlc) } : []
                made = Change(collection: "incidents", record: conflict.record, field: conflict.field, value: value,
                              hlc: node.clock.tick(now: wall), author: node.author, base: parents.base,
                              supersedes: parents.supersedes, covers: covers)
            } else {
                // Sync: push what is pending, then pull what the server has.
                server.append(contentsOf: node.unpushed)
                node.unpushed.removeAll()
                for change in server[node.pulled...] {
                    _ = try? node.clock.receive(change.hlc, now: wall)
                    node.view.apply(change)
                }
                node.pulled = server.count
            }
            if let made {
                node.view.apply(made)
                node.unpushed.append(made)
            }
            nodes[n] = node
        }
        // Everything still offline reaches the server at the end.
        for node in nodes { server.append(contentsOf: node.unpushed) }
        return server
    }

    /// Everything a user could see of a replica.
    static func fingerprint(_ replica: InMemoryReplica) -> String {
        var lines: [String] = []
        for record in records {
            for field in fields + [Change.deletedField] {
                let state = replica.state(record: record, field: field)
                lines.append("\(record) \(field) \(state.heads.map { "\($0.hlc.text)=\($0.value.displayText)" })")
            }
            lines.append("\(record) status \(replica.status(record: record))")
        }
        lines.append("conflicts \(replica.conflicts.map(\.id))")
        return lines.joined(separator: "\n")
    }

    @Test func everyDeliveryOrderConverges() async {
        await propertyCheck(count: 1_000, input: Gen.uint64(), Gen.int(in: 5...60)) { seed, steps in
            let changes = ConvergenceProperties.history(seed: seed, steps: steps)
            var inOrder = InMemoryReplica()
            for change in changes { inOrder.apply(change) }
            let expected = ConvergenceProperties.fingerprint(inOrder)

            var random = SeededGenerator(seed: seed ^ 0xDEAD_BEEF)
            for _ in 0..<3 {
                var delivery = changes.shuffled(using: &random)
                // Redeliver a random part, as a retried push or pull would.
                delivery += delivery.prefix(Int.random(in: 0...delivery.count, using: &random)).shuffled(using: &random)
                var replica = InMemoryReplica()
                for change in delivery { replica.apply(change) }
                #expect(ConvergenceProperties.fingerprint(replica) == expected, "seed \(seed), \(steps) steps")
            }
        }
    }

    /// What the merge rule must give for one field, computed from the set of changes without it:
    /// the heads are the versions of the field that no change of the same record and field lists
    /// as its base or among what it supersedes; the winner is the head with the largest HLC; the
    /// field is in conflict when its heads hold more than one distinct value.
    struct Expected: Equatable, CustomStringConvertible {
        var heads: Set<HLC>
        var winner: HLC?
        var value: FieldValue
        var conflicted: Bool

        init(_ changes: [Change], record: String, field: String) {
            var distinct: [HLC: Change] = [:]
            for change in changes where change.record == record && change.field == field { distinct[change.hlc] = change }
            let built = Set(distinct.values.flatMap { ($0.base.map { [$0] } ?? []) + $0.supersedes })
            let heads = distinct.values.filter { !built.contains($0.hlc) }
            let winner = heads.max { $0.hlc < $1.hlc }
            self.heads = Set(heads.map(\.hlc))
            self.winner = winner?.hlc
            value = winner?.value ?? .unset
            conflicted = Set(heads.map(\.value)).count > 1
        }

        init(_ state: FieldState) {
            heads = Set(state.heads.map(\.hlc))
            winner = state.winner?.hlc
            value = state.value
            conflicted = state.isConflicted
        }

        var description: String { "heads \(heads.map(\.text).sorted()), winner \(winner?.text ?? "none"), \(conflicted ? "conflict" : "no conflict")" }
    }

    @Test func theModelAgreesWithAnOracleComputedFromTheSetOfChanges() async {
        await propertyCheck(count: 1_000, input: Gen.uint64(), Gen.int(in: 5...60)) { seed, steps in
            let changes = ConvergenceProperties.history(seed: seed, steps: steps)
            var random = SeededGenerator(seed: seed ^ 0x5EED)
            var replica = InMemoryReplica()
            for change in changes.shuffled(using: &random) { replica.apply(change) }
            var conflictedFields: Set<String> = []
            for record in ConvergenceProperties.records {
                for field in ConvergenceProperties.fields + [Change.deletedField] {
                    let expected = Expected(changes, record: record, field: field)
                    #expect(Expected(replica.state(record: record, field: field)) == expected, "seed \(seed): \(record.prefix(4)) \(field)")
                    if expected.conflicted && field != Change.deletedField { conflictedFields.insert("\(record) \(field)") }
                }
            }
            // Open field conflicts are exactly the conflicted fields, each over exactly its heads.
            let open = replica.conflicts.filter { $0.field != Change.deletedField }
            #expect(Set(open.map { "\($0.record) \($0.field)" }) == conflictedFields, "seed \(seed)")
            for conflict in open {
                #expect(Set(conflict.versions.map(\.hlc)) == Expected(changes, record: conflict.record, field: conflict.field).heads)
            }
        }
    }

    @Test func noValueIsLost() async {
        // Every value written is either a head now, or superseded by a change whose author saw it.
        await propertyCheck(count: 1_000, input: Gen.uint64(), Gen.int(in: 5...60)) { seed, steps in
            let changes = ConvergenceProperties.history(seed: seed, steps: steps)
            var replica = InMemoryReplica()
            for change in changes { replica.apply(change) }
            let parents = Set(changes.flatMap(\.parents))
            for change in changes where !parents.contains(change.hlc) {
                let heads = replica.state(record: change.record, field: change.field).heads
                #expect(heads.contains { $0.hlc == change.hlc }, "seed \(seed): \(change.hlc.text) lost")
            }
        }
    }
}
