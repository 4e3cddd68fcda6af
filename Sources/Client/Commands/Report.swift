import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Report: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count recommendations by response, implementation status, theme and recommending state.",
            discussion: """
                For each review: the recommendations, the distinct recommending states, counts by response, by status, by theme,
                the state's claims and the NGO findings about implementation side by side, and the recommendations where they disagree.
                """)

        @Option(help: "Only this review (id or unique prefix).")
        var review: String?

        @Flag(help: "Print JSON (the same as --format json).")
        var json = false

        @Option(help: "text, json, md (Markdown) or html (one self-contained page: inline CSS and SVG charts, no network).")
        var format: ReportFormat = .text

        @Flag(help: "The recommendations made again in a later cycle, with their response and status in each cycle.")
        var cycles = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let roles = try UPRReport.roles(in: settings.schema)
            let format = json ? .json : format
            if cycles {
                let chains = try await replica.recurrences(roles: roles)
                switch format {
                case .json: try Output.json(["recurring": chains])
                case .md, .html: Output.line(UPRReport.markdown(recurrences: chains))
                case .text: UPRReport.printText(recurrences: chains)
                }
                return
            }
            let report = try await replica.report(roles: roles, review: review)
            switch format {
            case .json: try Output.json(report)
            case .md: Output.line(UPRReport.markdown(report))
            case .html: Output.line(UPRReport.html(report, recurrences: try await replica.recurrences(roles: roles)))
            case .text: UPRReport.printText(report)
            }
        }
    }

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, md, html
    }
}

extension UPRReport {
    /// Prints the report as text.
    static func printText(_ report: UPRReport) {
        func counts(_ title: String, _ values: [String: Int], limit: Int = 50) {
            guard !values.isEmpty else { return }
            Output.line("  \(title):")
            for (key, count) in values.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(limit) {
                Output.line("    \(String(count).leftPadded(to: 5))  \(key)")
            }
            if values.count > limit { Output.line("    ... and \(values.count - limit) more") }
        }
        func section(_ s: Section, title: String) {
            Output.line(title)
            Output.line("  \(s.recommendations) recommendations from \(s.recommendingStates) states")
            counts("by response", s.byResponse)
            counts("by implementation status (team's view)", s.byStatus)
            counts("state's claims of implementation", s.stateClaims)
            counts("NGO findings on implementation", s.ngoFindings)
            counts("by theme", s.byTheme)
            counts("by recommending state (top 10)", s.byRecommendingState, limit: 10)
            if !s.disagreements.isEmpty {
                Output.line("  where the state's claim and NGO findings disagree (\(s.disagreements.count)):")
                for d in s.disagreements.prefix(20) {
                    Output.line("    \(d.recommendation.prefix(12))  state: \(d.stateClaim), NGO: \(d.ngoFinding)  \(d.text.replacingOccurrences(of: "\n", with: " ").prefix(70))")
                }
            }
        }
        var all = Section()
        all.recommendations = report.recommendations
        all.recommendingStates = report.recommendingStates
        all.byResponse = report.byResponse
        all.byStatus = report.byStatus
        all.byTheme = report.byTheme
        all.byRecommendingState = report.byRecommendingState
        section(all, title: "All recommendations")
        for review in report.reviews {
            Output.line("")
            section(review, title: "Review of \(review.state ?? "?"), cycle \(review.cycle.map(String.init) ?? "?"), \(review.date ?? "undated") (\(review.review?.prefix(12) ?? ""))")
        }
    }
}

extension UPRReport {
    /// Prints the recurring recommendations as text.
    static func printText(recurrences: [Recurrence]) {
        Output.line("Recurring recommendations: \(recurrences.count)")
        for chain in recurrences {
            Output.line("")
            Output.line("  \(chain.recommendingStates.joined(separator: ", ")) to \(chain.state ?? "?"): \((chain.appearances.last?.text ?? "").prefix(100))")
            for item in chain.appearances {
                Output.line("    cycle \(item.cycle.map(String.init) ?? "?")  \(item.paragraph ?? "-")  \(item.response ?? "no response")  "
                            + "status: \(item.status ?? "not_assessed")  state says: \(item.stateClaim ?? "-")  NGOs: \(item.ngoFinding ?? "-")")
            }
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
