import Foundation
import GRDB
import Shared

/// Fills each recommendation's `repeats` with the earlier cycle's recommendation it makes again, after an import.
///
/// A recommendation repeats an earlier one when both are of the same state under review, share a recommending
/// state, and their texts are alike (`TextSimilarity`: the Jaccard index of their content words, at least its
/// threshold). Of several, the one of the latest earlier cycle wins, then the most alike: so a chain runs cycle
/// by cycle. A `repeats` someone already filled is left as it is.
enum RecurrenceLinker {
    struct Item {
        var id: String
        var group: String
        var cycle: Int64
        var states: [String]
        var words: Set<String>
        var linked: Bool
    }

    /// Links the recommendations that repeat an earlier one and returns how many it linked; nil when the schema has
    /// no `repeats` field.
    static func link(schema: Schema, editor: inout LocalEditor) throws -> Int? {
        guard let roles = schema.report, let collection = schema.collection(roles.recommendations),
              collection.field("repeats")?.type == .references else { return nil }
        // Nothing can repeat while the replica holds a single cycle: the usual case, and a large import's.
        guard try cycles(roles, editor.db) > 1 else { return 0 }
        let items = try load(roles, schema: schema, editor.db)
        var byState: [String: [Int]] = [:]
        for (index, item) in items.enumerated() {
            for state in item.states { byState[state, default: []].append(index) }
        }
        var linked = 0
        for item in items where !item.linked {
            var best: (index: Int, cycle: Int64, score: Double)?
            for state in item.states {
                for other in byState[state] ?? [] {
                    let candidate = items[other]
                    guard candidate.group == item.group, candidate.cycle < item.cycle else { continue }
                    let score = TextSimilarity.score(item.words, candidate.words)
                    guard score >= TextSimilarity.threshold else { continue }
                    let better = best.map { current in
                        (candidate.cycle, score) > (current.cycle, current.score)
                            || (candidate.cycle, score) == (current.cycle, current.score) && candidate.id < items[current.index].id
                    } ?? true
                    if better { best = (other, candidate.cycle, score) }
                }
            }
            guard let best else { continue }
            try editor.edit(record: RecordRef(id: item.id, collection: roles.recommendations, visible: true),
                            values: ["repeats": .references([items[best.index].id])])
            linked += 1
        }
        return linked
    }

    static func notice(_ count: Int) -> String {
        "linked \(count) recommendation\(count == 1 ? "" : "s") to the earlier cycle's one \(count == 1 ? "it repeats" : "they repeat") "
            + "(same recommending state, texts alike: see 'casebook report --cycles')"
    }

    /// How many distinct cycles the recommendations and reviews name.
    private static func cycles(_ roles: ReportRoles, _ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT current.value) FROM record JOIN current ON current.record_key = record.key AND current.field = 'cycle'
            WHERE record.collection IN (?, ?) AND record.visible
            """, arguments: [roles.recommendations, roles.reviews]) ?? 0
    }

    private static func load(_ roles: ReportRoles, schema: Schema, _ db: Database) throws -> [Item] {
        let states = schema.vocabulary("states").map(TermMatcher.init)
        func key(_ name: String) -> String { states?.term(name)?.id ?? Schema.foldedKey(name) }
        var reviews: [String: (state: String, cycle: Int64?)] = [:]
        for view in try ReplicaQuery.list(collection: roles.reviews, filters: [], db) {
            reviews[view.id] = (key(view.fields["state"]?.displayText ?? ""), integer(view.fields["cycle"]))
        }
        return try ReplicaQuery.list(collection: roles.recommendations, filters: [], db).compactMap { view in
            let review = view.fields["review"].flatMap { if case .reference(let id) = $0 { reviews[id] } else { nil } }
            guard let cycle = review?.cycle ?? integer(view.fields["cycle"]) else { return nil }
            let named: [String] = if case .list(let items)? = view.fields["recommending_state"] { items.map(key) } else { [] }
            let linked = if case .references(let ids)? = view.fields["repeats"] { !ids.isEmpty } else { false }
            return Item(id: view.id, group: review?.state ?? "", cycle: cycle, states: named,
                        words: TextSimilarity.words(view.fields["text"]?.displayText ?? ""), linked: linked)
        }
    }

    private static func integer(_ value: FieldValue?) -> Int64? {
        if case .integer(let n)? = value { return n }
        return nil
    }
}
