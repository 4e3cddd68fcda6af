import Foundation
import PropertyBased
import TestSupport
import Testing
@testable import Shared

/// Properties of automatic merges in random multi-replica histories: three or four replicas edit
/// one incident's description offline (realistic edits of the text they see, merged or not),
/// resolve its conflicts now and then and sync now and then. Every delivery order of the changes
/// shows the same text and the same conflicts, and that is what an oracle computed from the set of
/// changes alone (naive ancestor sets, no walk) says.
@Suite struct TextConvergenceProperties {
    static let record = "0123456789abcdef0123456789abcdef"
    static let field = "description"

    struct Node {
        var view = InMemoryReplica(schema: .upr)
        var clock: HybridClock
        var unpushed: [Change] = []
        var pulled = 0
    }

    /// Plays a random history and returns every change made, in the order the server accepted them.
    static func history(seed: UInt64, steps: Int, replicas: Int) -> [Change] {
        var random = SplitMix64(seed: seed)
        var nodes = (0..<replicas).map { Node(clock: HybridClock(node: NodeID(String(format: "%016x", 0xe0 + $0))!)) }
        var wall: UInt64 = 1_700_000_000_000
        // Everyone starts from one description, as a team does.
        let first = change(.text(NarrativeText.random(paragraphs: 6, using: &random).text), node: &nodes[0], wall: wall, parents: (nil, []))
        var server: [Change] = [first]
        for n in nodes.indices {
            nodes[n].view.apply(first)
            nodes[n].pulled = 1
        }
        for _ in 0..<steps {
            wall += UInt64.random(in: 0...3, using: &random)
            let n = Int.random(in: 0..<nodes.count, using: &random)
            let roll = Int.random(in: 0..<100, using: &random)
            var node = nodes[n]
            var made: Change?
            let state = node.view.state(record: record, field: field)
            if roll < 50 || state.heads.isEmpty {
                var text = NarrativeText.random(paragraphs: 4, using: &random)
                if case .text(let shown) = node.view.value(record: record, field: field) {
                    text = NarrativeText(parsing: shown)
                }
                text.randomEdit(using: &random)
                let parents = node.view.editParents(record: record, field: field)
                made = change(.text(text.text), node: &node, wall: wall, parents: parents)
            } else if roll < 62, let conflict = node.view.conflicts.first {
                made = change(conflict.versions.randomElement(using: &random)!.value, node: &node, wall: wall, parents: state.resolutionParents)
            } else {
                server += node.unpushed
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
        for node in nodes { server += node.unpushed }
        return server
    }

    static func change(_ value: FieldValue, node: inout Node, wall: UInt64, parents: (base: HLC?, supersedes: [HLC])) -> Change {
        Change(collection: "incidents", record: record, field: field, value: value, hlc: node.clock.tick(now: wall),
               author: "user", base: parents.base, supersedes: parents.supersedes)
    }

    /// What a replica shows of the field: its value, heads and conflicts.
    static func fingerprint(_ replica: InMemoryReplica) -> String {
        let heads = replica.state(record: record, field: field).heads.map(\.hlc.text)
        return "\(heads) \(replica.value(record: record, field: field)) \(replica.conflicts.map(\.id))"
    }

    @Test func everyDeliveryOrderShowsTheSameText() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 5...40), Gen.int(in: 2...4)) { seed, steps, replicas in
            let changes = Self.history(seed: seed, steps: steps, replicas: replicas)
            var inOrder = InMemoryReplica(schema: .upr)
            for change in changes { inOrder.apply(change) }
            let expected = Self.fingerprint(inOrder)
            var random = SplitMix64(seed: seed ^ 0x7E47)
            for _ in 0..<4 {
                var delivery = changes.shuffled(using: &random)
                delivery += delivery.prefix(Int.random(in: 0...delivery.count, using: &random)).shuffled(using: &random)
                var replica = InMemoryReplica(schema: .upr)
                for change in delivery { replica.apply(change) }
                #expect(Self.fingerprint(replica) == expected, "seed \(seed), \(steps) steps, \(replicas) replicas")
            }
            #expect(inOrder.value(record: Self.record, field: Self.field) == Oracle(changes).value(), "seed \(seed): the oracle disagrees")
        }
    }

    @Test func everyPermutationOfASmallHistoryShowsTheSameText() {
        // Three authors edit different paragraphs of one text, a fourth edits the merge of two of them:
        // all 720 orders of the six changes show the same text, and it holds every edit.
        let base = "Paragraph one.\n\nParagraph two.\n\nParagraph three.\n\nParagraph four."
        func make(_ text: String, _ millis: UInt64, _ node: String, base: HLC? = nil, supersedes: [HLC] = []) -> Change {
            Change(collection: "incidents", record: Self.record, field: Self.field, value: .text(text),
                   hlc: HLC(millis: millis, counter: 0, node: NodeID(node)!), author: node, base: base, supersedes: supersedes)
        }
        let v0 = make(base, 1, "a0")
        let a = make(base.replacingOccurrences(of: "one.", with: "one, by Ана."), 2, "a1", base: v0.hlc)
        let b = make(base.replacingOccurrences(of: "three.", with: "three, by Бек."), 3, "a2", base: v0.hlc)
        let c = make(base.replacingOccurrences(of: "Paragraph four.", with: "Paragraph four.\n\nA witness: Ерла\u{0301}н."), 4, "a3", base: v0.hlc)
        let merged = base.replacingOccurrences(of: "one.", with: "one, by Ана.").replacingOccurrences(of: "three.", with: "three, by Бек.")
        let d = make(merged.replacingOccurrences(of: "two.", with: "two, by Дана."), 5, "a4", base: b.hlc, supersedes: [a.hlc])
        let e = make(base.replacingOccurrences(of: "Paragraph four.", with: "Paragraph 4."), 6, "a5", base: v0.hlc)
        var results = Set<String>()
        func permute(_ rest: [Change], _ done: [Change]) {
            guard !rest.isEmpty else {
                var replica = InMemoryReplica(schema: .upr)
                for change in done { replica.apply(change) }
                results.insert(Self.fingerprint(replica))
                return
            }
            for index in rest.indices {
                var left = rest
                let next = left.remove(at: index)
                permute(left, done + [next])
            }
        }
        permute([v0, a, b, c, d, e], [])
        #expect(results.count == 1)
        var replica = InMemoryReplica(schema: .upr)
        for change in [v0, a, b, c, d, e] { replica.apply(change) }
        // c appends after paragraph four and e rewrites it: they meet at a boundary and both stay.
        #expect(replica.value(record: Self.record, field: Self.field)
                == .text("Paragraph one, by Ана.\n\nParagraph two, by Дана.\n\nParagraph three, by Бек.\n\nParagraph 4.\n\nA witness: Ерла\u{0301}н."))
    }

    @Test func historiesHoldMergesAndConflicts() {
        // The generator makes both outcomes often, so the property above means something.
        var merged = 0, conflicted = 0
        for seed in UInt64(1)...60 {
            var replica = InMemoryReplica(schema: .upr)
            for change in Self.history(seed: seed, steps: 30, replicas: 3) { replica.apply(change) }
            switch replica.resolution(record: Self.record, field: Self.field) {
            case .merged?: merged += 1
            case .conflict?: conflicted += 1
            default: break
            }
        }
        #expect(merged >= 5 && conflicted >= 5, "\(merged) merged, \(conflicted) in conflict")
        print("text histories: \(merged) merged, \(conflicted) in conflict of 60")
    }

    /// The value the rule gives, computed naively from the set of changes: heads are the changes no
    /// change builds on; the merge base of versions is the merge of their best common ancestors
    /// (common ancestors that are no ancestor of another common ancestor), from full ancestor sets.
    struct Oracle {
        let changes: [HLC: Change]

        init(_ changes: [Change]) { self.changes = Dictionary(changes.map { ($0.hlc, $0) }, uniquingKeysWith: { first, _ in first }) }

        func ancestors(_ hlc: HLC) -> Set<HLC> {
            var seen: Set<HLC> = [hlc], stack = [hlc]
            while let next = stack.popLast() {
                for parent in changes[next]?.parents ?? [] where changes[parent] != nil && seen.insert(parent).inserted { stack.append(parent) }
            }
            return seen
        }

        func value() -> FieldValue {
            let parents = Set(changes.values.flatMap(\.parents))
            let heads = changes.keys.filter { !parents.contains($0) }
            if heads.count == 1 { return changes[heads[0]]!.value }
            return merged(heads) ?? changes[heads.max()!]!.value
        }

        func merged(_ versions: [HLC]) -> FieldValue? {
            var values: [FieldValue] = []
            for hlc in versions.sorted(by: >) where !values.contains(changes[hlc]!.value) { values.append(changes[hlc]!.value) }
            if values.count == 1 { return values[0] }
            let common = versions.map(ancestors).reduce(Set(changes.keys)) { $0.intersection($1) }
            let best = common.filter { candidate in !common.contains { $0 != candidate && ancestors($0).contains(candidate) } }
            guard !best.isEmpty else { return nil }
            let base = best.count == 1 ? changes[best.first!]!.value : merged(Array(best))
            return base.flatMap { MergeHook.longText.merge($0, values) }
        }
    }
}
