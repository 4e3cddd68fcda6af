import Foundation
import GRDB
import Shared

extension UPRReport {
    /// A recommendation made again in later cycles, with its response and status in each: what NGOs check when a
    /// state says "implemented".
    struct Recurrence: Encodable {
        struct Appearance: Encodable {
            var recommendation: String
            var cycle: Int64?
            var paragraph: String?
            var response: String?
            var status: String?
            var stateClaim: String?
            var ngoFinding: String?
            var text: String
        }

        /// The state under review.
        var state: String?
        var recommendingStates: [String]
        /// Oldest cycle first.
        var appearances: [Appearance]
    }

    /// Every chain of recommendations that repeat an earlier cycle's. A recommendation repeats the one its
    /// `repeats` field names or, failing that, the most similar one (`TextSimilarity`, at least its threshold)
    /// of an earlier cycle of the same state under review that shares a recommending state with it.
    static func recurrences(roles: ReportRoles, _ db: Database) throws -> [Recurrence] {
        let recommendations = try ReplicaQuery.list(collection: roles.recommendations, filters: [], db)
        let reviews = Dictionary(uniqueKeysWithValues: try ReplicaQuery.list(collection: roles.reviews, filters: [], db).map { ($0.id, $0) })
        let latest = try latestAssessments(roles: roles, db)
        struct Item {
            var view: RecordView
            var cycle: Int64
            var group: String
            var states: Set<String>
            var words: Set<String>
        }
        var items: [String: Item] = [:]
        var byState: [String: [String]] = [:]
        for view in recommendations {
            let review = view.fields["review"].flatMap { if case .reference(let id) = $0 { reviews[id] } else { nil } }
            guard let cycle = integer(review?.fields["cycle"]) ?? integer(view.fields["cycle"]) else { continue }
            let states = Set(list(view.fields["recommending_state"]))
            items[view.id] = Item(view: view, cycle: cycle, group: review?.fields["state"]?.displayText ?? "", states: states,
                                  words: TextSimilarity.words(view.fields["text"]?.displayText ?? ""))
            for state in states { byState[state, default: []].append(view.id) }
        }
        var previous: [String: String] = [:]
        for (id, item) in items {
            if let named = list(item.view.fields["repeats"]).first(where: { items[$0] != nil }) {
                previous[id] = named
                continue
            }
            var best: (id: String, score: Double)?
            for state in item.states {
                for other in byState[state] ?? [] {
                    guard let candidate = items[other], candidate.cycle < item.cycle, candidate.group == item.group else { continue }
                    let score = TextSimilarity.score(item.words, candidate.words)
                    if score >= TextSimilarity.threshold, score > best?.score ?? 0 || score == best?.score && other < best!.id { best = (other, score) }
                }
            }
            if let best { previous[id] = best.id }
        }
        // One chain for each recommendation that no later one repeats.
        let repeated = Set(previous.values)
        var chains: [Recurrence] = []
        for (id, item) in items where previous[id] != nil && !repeated.contains(id) {
            var chain = [id]
            while let earlier = previous[chain[0]], !chain.contains(earlier) { chain.insert(earlier, at: 0) }
            let appearances = chain.compactMap { items[$0] }.map { item in
                Recurrence.Appearance(recommendation: item.view.id, cycle: item.cycle, paragraph: item.view.fields["paragraph"]?.displayText,
                                      response: item.view.fields["response"]?.displayText, status: item.view.fields["status"]?.displayText,
                                      stateClaim: latest[item.view.id]?["state"]?.status, ngoFinding: latest[item.view.id]?["ngo"]?.status,
                                      text: item.view.fields["text"]?.displayText ?? "")
            }
            chains.append(Recurrence(state: item.group.isEmpty ? nil : item.group, recommendingStates: item.states.sorted(), appearances: appearances))
        }
        return chains.sorted { ($0.state ?? "", $0.appearances.last?.paragraph ?? "") < ($1.state ?? "", $1.appearances.last?.paragraph ?? "") }
    }

    private static func integer(_ value: FieldValue?) -> Int64? {
        if case .integer(let n)? = value { return n }
        return nil
    }

    private static func list(_ value: FieldValue?) -> [String] {
        switch value {
        case .list(let items)?, .references(let items)?: items
        default: []
        }
    }
}
