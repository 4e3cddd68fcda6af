import Foundation
import Shared

/// A random multi-replica history for differential tests: several nodes edit, delete, restore and
/// resolve the same few records offline, syncing through a simulated server now and then; the
/// changes they made are then delivered in random batches, in random order, with duplicates.
///
/// The same seed gives the same history and deliveries, so a failure reproduces.
package struct RandomHistory: Sendable {
    package static let collection = "incidents"
    /// `title` is required (never unset); `location` may be cleared; `description` is long text,
    /// whose concurrent edits merge when they change different lines (the model applies the `upr` schema's rules).
    package static let fields = ["title", "location", "description"]
    /// The schema the histories follow: its field rules decide merges and conflicts.
    package static let schema = Schema.upr

    /// The records the history touches.
    package let records: [String]
    /// Every change made, each once, in the order the simulated server received them.
    package let changes: [Change]
    /// The same changes, shuffled, partly repeated and cut into batches.
    package let deliveries: [[Change]]

    /// One simulated replica: its view, its clock, and the changes it has not pushed yet.
    private struct Node {
        var view = InMemoryReplica(schema: RandomHistory.schema)
        var clock: HybridClock
        var unpushed: [Change] = []
        var pulled = 0
        let author: String
    }

    /// Plays `steps` random steps of `nodes` replicas over `records` records, starting at `start` (milliseconds).
    package init(seed: UInt64, nodes nodeCount: Int = 4, records recordCount: Int = 3, steps: Int = 150, start: UInt64) {
        var random = SplitMix64(seed: seed)
        records = (0..<recordCount).map { String(format: "%031x", 0xa11ce + $0) + "1" }
        var nodes = (0..<nodeCount).map { Node(clock: HybridClock(node: NodeID(String(format: "%016x", 0xd1ff + $0))!), author: "user\($0)") }
        var server: [Change] = []
        var wall = start
        for _ in 0..<steps {
            wall += UInt64.random(in: 0...3, using: &random)
            let n = Int.random(in: 0..<nodes.count, using: &random)
            let record = records.randomElement(using: &random)!
            if let made = Self.step(&nodes[n], record: record, wall: wall, random: &random) {
                nodes[n].view.apply(made)
                nodes[n].unpushed.append(made)
            } else {
                // Sync: push what is pending, then pull what the server has.
                server += nodes[n].unpushed
                nodes[n].unpushed.removeAll()
                for change in server[nodes[n].pulled...] {
                    _ = try? nodes[n].clock.receive(change.hlc, now: wall)
                    nodes[n].view.apply(change)
                }
                nodes[n].pulled = server.count
            }
        }
        // Everything still offline reaches the server at the end.
        for node in nodes { server += node.unpushed }
        // Now and then a node that has seen everything deletes a record, so some records end deleted.
        if Bool.random(using: &random) {
            var last = Node(clock: HybridClock(node: NodeID(String(format: "%016x", 0xd1ff + nodeCount))!), author: "user\(nodeCount)")
            for change in server {
                _ = try? last.clock.receive(change.hlc, now: wall)
                last.view.apply(change)
            }
            if let delete = Self.delete(records[0], node: &last, wall: wall + 1) { server.append(delete) }
        }
        changes = server
        deliveries = Self.deliveries(of: server, random: &random)
    }

    /// A change one node makes on one record, or nil for a sync.
    private static func step(_ node: inout Node, record: String, wall: UInt64, random: inout SplitMix64) -> Change? {
        let roll = Int.random(in: 0..<100, using: &random)
        func make(_ field: String, _ value: FieldValue, _ parents: (base: HLC?, supersedes: [HLC]), covers: [HLC] = []) -> Change {
            Change(collection: collection, record: record, field: field, value: value, hlc: node.clock.tick(now: wall),
                   author: node.author, base: parents.base, supersedes: parents.supersedes, covers: covers)
        }
        let seen = fields.flatMap { node.view.state(record: record, field: $0).heads.map(\.hlc) }
        if roll < 50 {
            let field = fields.randomElement(using: &random)!
            if field == "description" {
                let text = Self.edited(node.view.value(record: record, field: field), random: &random)
                return make(field, text, node.view.editParents(record: record, field: field))
            }
            let values: [FieldValue] = field == "title" ? [.text("x"), .text("y"), .text("z")] : [.text("x"), .text("y"), .unset]
            return make(field, values.randomElement(using: &random)!, node.view.state(record: record, field: field).editParents)
        }
        let deletion = node.view.state(record: record, field: Change.deletedField)
        if roll < 58, !seen.isEmpty {
            return make(Change.deletedField, .bool(true), deletion.resolutionParents, covers: seen)
        }
        if roll < 62, deletion.value == .bool(true) {
            return make(Change.deletedField, .bool(false), deletion.resolutionParents)
        }
        if roll < 75, let conflict = node.view.conflicts.filter({ $0.record == record }).randomElement(using: &random) {
            let state = node.view.state(record: record, field: conflict.field)
            if conflict.field == Change.deletedField {
                let delete = Bool.random(using: &random)
                return make(conflict.field, .bool(delete), state.resolutionParents, covers: delete ? seen : [])
            }
            return make(conflict.field, conflict.versions.randomElement(using: &random)!.value, state.resolutionParents)
        }
        return nil
    }

    /// A short text edited as people edit a description: a line rewritten, added or removed (or
    /// cleared now and then), so concurrent edits sometimes touch different lines and merge, and
    /// sometimes the same line and conflict.
    static func edited(_ value: FieldValue, random: inout SplitMix64) -> FieldValue {
        var lines = value.isUnset ? [] : value.displayText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let roll = Int.random(in: 0..<100, using: &random)
        let word = ["arrest", "hearing", "задержание", "witness", "Ерла\u{0301}н", "appeal"].randomElement(using: &random)!
        if roll < 5 { return .unset }
        if lines.count < 3 || roll < 35 {
            lines.insert("\(word) \(Int.random(in: 1...99, using: &random))", at: Int.random(in: 0...lines.count, using: &random))
        } else if roll < 85 {
            lines[Int.random(in: 0..<lines.count, using: &random)] += " \(word)"
        } else {
            lines.remove(at: Int.random(in: 0..<lines.count, using: &random))
        }
        return .text(lines.joined(separator: "\n"))
    }

    /// A delete of `record` covering every version the node sees (nil when it sees none).
    private static func delete(_ record: String, node: inout Node, wall: UInt64) -> Change? {
        let seen = fields.flatMap { node.view.state(record: record, field: $0).heads.map(\.hlc) }
        guard !seen.isEmpty else { return nil }
        let parents = node.view.state(record: record, field: Change.deletedField).resolutionParents
        return Change(collection: collection, record: record, field: Change.deletedField, value: .bool(true), hlc: node.clock.tick(now: wall),
                      author: node.author, base: parents.base, supersedes: parents.supersedes, covers: seen)
    }

    /// The changes shuffled, a random part delivered again (a retried push or pull), cut into batches of 1 to 8.
    private static func deliveries(of changes: [Change], random: inout SplitMix64) -> [[Change]] {
        var order = changes.shuffled(using: &random)
        order += changes.shuffled(using: &random).prefix(Int.random(in: 0...changes.count / 3, using: &random))
        order.shuffle(using: &random)
        var batches: [[Change]] = []
        while !order.isEmpty {
            let size = min(order.count, Int.random(in: 1...8, using: &random))
            batches.append(Array(order.prefix(size)))
            order.removeFirst(size)
        }
        return batches
    }

    /// The reference model fed every delivery in order.
    package var model: InMemoryReplica {
        var model = InMemoryReplica(schema: Self.schema)
        for batch in deliveries { for change in batch { model.apply(change) } }
        return model
    }
}
