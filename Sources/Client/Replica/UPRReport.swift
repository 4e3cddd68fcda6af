import Foundation
import GRDB
import Shared

/// The report's figures.
struct UPRReport: Encodable {
    struct Section: Encodable {
        var review: String?
        var state: String?
        var cycle: Int64?
        var date: String?
        var recommendations = 0
        var recommendingStates = 0
        var byResponse: [String: Int] = [:]
        var byStatus: [String: Int] = [:]
        var byTheme: [String: Int] = [:]
        var byRecommendingState: [String: Int] = [:]
        /// The latest state claim about each recommendation, counted by status.
        var stateClaims: [String: Int] = [:]
        /// The latest NGO finding about each recommendation, counted by status.
        var ngoFindings: [String: Int] = [:]
        var disagreements: [Disagreement] = []
    }

    struct Disagreement: Encodable {
        var recommendation: String
        var text: String
        var stateClaim: String
        var ngoFinding: String
    }

    var recommendations = 0
    var recommendingStates = 0
    var byResponse: [String: Int] = [:]
    var byStatus: [String: Int] = [:]
    var byTheme: [String: Int] = [:]
    var byRecommendingState: [String: Int] = [:]
    var reviews: [Section] = []

    /// The collections to report on: the schema's `report` section, or the embedded upr schema's for a
    /// replica of a upr project stored before schemas carried one.
    static func roles(in schema: Schema) throws -> ReportRoles {
        guard let roles = schema.backfilled(from: .upr).report else {
            throw ClientError("the project's schema '\(schema.name)' has no \"report\" section naming its recommendations, reviews "
                + "and assessments collections, so 'casebook report' has nothing to count: use 'casebook list' or 'casebook export'")
        }
        return roles
    }

    /// The figures for the collections `roles` names (the fields it reads are listed on `ReportRoles`).
    static func build(roles: ReportRoles, reviewFilter: String?, _ db: Database) throws -> UPRReport {
        let recommendations = try ReplicaQuery.list(collection: roles.recommendations, filters: [], db)
        let reviews = try ReplicaQuery.list(collection: roles.reviews, filters: [], db)
        let latest = try latestAssessments(roles: roles, db)

        var report = UPRReport()
        let selected = recommendations.filter { view in
            guard let reviewFilter else { return true }
            return view.fields["review"] == .reference(reviewFilter)
        }
        var all = Section()
        for view in selected { add(view, to: &all, latest: latest) }
        report.recommendations = all.recommendations
        report.recommendingStates = all.recommendingStates
        report.byResponse = all.byResponse
        report.byStatus = all.byStatus
        report.byTheme = all.byTheme
        report.byRecommendingState = all.byRecommendingState

        let byReview = Dictionary(grouping: selected) { view -> String in
            if case .reference(let id)? = view.fields["review"] { return id }
            return ""
        }
        for review in reviews where reviewFilter == nil || review.id == reviewFilter {
            var cycle: Int64?
            if case .integer(let n)? = review.fields["cycle"] { cycle = n }
            var section = Section(review: review.id, state: review.fields["state"]?.displayText, cycle: cycle,
                                  date: review.fields["date"]?.displayText)
            for view in byReview[review.id] ?? [] { add(view, to: &section, latest: latest) }
            report.reviews.append(section)
        }
        report.reviews.sort { ($0.date ?? "", $0.review ?? "") > ($1.date ?? "", $1.review ?? "") }
        return report
    }

    /// The latest assessment of each kind (`state`, `ngo`, ...) per recommendation, by assessment date, then by creation.
    static func latestAssessments(roles: ReportRoles, _ db: Database) throws -> [String: [String: (date: String, status: String)]] {
        var latest: [String: [String: (date: String, status: String)]] = [:]
        for assessment in try ReplicaQuery.list(collection: roles.assessments, filters: [], db) {
            guard case .reference(let recommendation)? = assessment.fields["recommendation"],
                  case .text(let kind)? = assessment.fields["assessor_type"],
                  case .text(let status)? = assessment.fields["status"] else { continue }
            let date = assessment.fields["date"]?.displayText ?? ""
            if let existing = latest[recommendation]?[kind], existing.date > date { continue }
            latest[recommendation, default: [:]][kind] = (date, status)
        }
        return latest
    }

    private static func add(_ view: RecordView, to section: inout Section, latest: [String: [String: (date: String, status: String)]]) {
        section.recommendations += 1
        section.byResponse[view.fields["response"]?.displayText ?? "unknown", default: 0] += 1
        section.byStatus[view.fields["status"]?.displayText ?? "not_assessed", default: 0] += 1
        if case .list(let themes)? = view.fields["themes"] {
            for theme in Set(themes) { section.byTheme[theme, default: 0] += 1 }
        }
        if case .list(let states)? = view.fields["recommending_state"] {
            for state in Set(states) { section.byRecommendingState[state, default: 0] += 1 }
        }
        section.recommendingStates = section.byRecommendingState.count
        let claim = latest[view.id]?["state"]?.status
        let finding = latest[view.id]?["ngo"]?.status
        if let claim { section.stateClaims[claim, default: 0] += 1 }
        if let finding { section.ngoFindings[finding, default: 0] += 1 }
        if let claim, let finding, claim != finding {
            section.disagreements.append(Disagreement(recommendation: view.id, text: view.fields["text"]?.displayText ?? "",
                                                      stateClaim: claim, ngoFinding: finding))
        }
    }
}
