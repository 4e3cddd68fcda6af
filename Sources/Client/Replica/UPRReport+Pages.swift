import Foundation

/// The report as Markdown and as one self-contained HTML page a team can hand over (inline CSS and SVG bar
/// charts, no script, no network; each bar carries its figure in `data-count`, which the browser test checks
/// against `report --json`).
extension UPRReport {
    static func markdown(_ report: UPRReport) -> String {
        var lines = ["# UPR recommendations", "", "\(report.recommendations) recommendations from \(report.recommendingStates) states.", ""]
        func table(_ title: String, _ counts: [String: Int]) {
            guard !counts.isEmpty else { return }
            lines += ["## \(title)", "", "| | count |", "|---|---:|"]
            for (key, count) in sorted(counts) { lines.append("| \(escapeMarkdown(key)) | \(count) |") }
            lines.append("")
        }
        table("By response", report.byResponse)
        table("By implementation status (team's view)", report.byStatus)
        table("By theme", report.byTheme)
        table("By recommending state", report.byRecommendingState)
        for review in report.reviews where !review.stateClaims.isEmpty || !review.ngoFindings.isEmpty {
            lines += ["## Claims and findings: \(escapeMarkdown(review.state ?? "?")), cycle \(review.cycle.map(String.init) ?? "?")", "",
                      "| status | the state says | NGOs found |", "|---|---:|---:|"]
            for status in Set(review.stateClaims.keys).union(review.ngoFindings.keys).sorted() {
                lines.append("| \(status) | \(review.stateClaims[status] ?? 0) | \(review.ngoFindings[status] ?? 0) |")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    static func markdown(recurrences: [Recurrence]) -> String {
        var lines = ["# Recurring recommendations", "", "\(recurrences.count) recommendations were made again in a later cycle.", ""]
        for chain in recurrences {
            lines += ["## \(escapeMarkdown(chain.recommendingStates.joined(separator: ", "))): \(escapeMarkdown(String((chain.appearances.last?.text ?? "").prefix(120))))", "",
                      "| cycle | paragraph | response | status | the state says | NGOs found |", "|---|---|---|---|---|---|"]
            for item in chain.appearances {
                lines.append("| \(item.cycle.map(String.init) ?? "?") | \(item.paragraph ?? "") | \(item.response ?? "") | \(item.status ?? "not_assessed") | \(item.stateClaim ?? "") | \(item.ngoFinding ?? "") |")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    static func html(_ report: UPRReport, recurrences: [Recurrence]) -> String {
        var body = "<h1>UPR recommendations</h1>\n<p class=\"total\" data-count=\"\(report.recommendations)\">\(report.recommendations) recommendations from "
            + "<span data-count=\"\(report.recommendingStates)\">\(report.recommendingStates)</span> states</p>\n"
        body += chart("By response", id: "byResponse", report.byResponse)
        body += chart("By implementation status (team's view)", id: "byStatus", report.byStatus)
        body += chart("By theme", id: "byTheme", report.byTheme)
        body += chart("By recommending state", id: "byRecommendingState", report.byRecommendingState)
        for review in report.reviews where !review.stateClaims.isEmpty || !review.ngoFindings.isEmpty {
            body += "<section><h2>The state's claims beside the team's findings: \(escape(review.state ?? "?")), cycle \(review.cycle.map(String.init) ?? "?")</h2>\n"
                + "<table><tr><th>status</th><th>the state says</th><th>NGOs found</th></tr>\n"
            for status in Set(review.stateClaims.keys).union(review.ngoFindings.keys).sorted() {
                body += "<tr><td>\(escape(status))</td><td>\(review.stateClaims[status] ?? 0)</td><td>\(review.ngoFindings[status] ?? 0)</td></tr>\n"
            }
            body += "</table></section>\n"
        }
        body += "<section><h2>Recurring recommendations (\(recurrences.count))</h2>\n"
        for chain in recurrences {
            body += "<h3>\(escape(chain.recommendingStates.joined(separator: ", "))): \(escape(String((chain.appearances.last?.text ?? "").prefix(160))))</h3>\n"
                + "<table><tr><th>cycle</th><th>paragraph</th><th>response</th><th>status</th><th>the state says</th><th>NGOs found</th></tr>\n"
            for item in chain.appearances {
                let cells = [item.cycle.map(String.init) ?? "?", item.paragraph ?? "", item.response ?? "", item.status ?? "not_assessed",
                             item.stateClaim ?? "", item.ngoFinding ?? ""]
                body += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
            }
            body += "</table>\n"
        }
        body += "</section>\n"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>UPR recommendations</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.5em; } h3 { font-size: 1em; }
            table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
            svg text { font: 12px system-ui, sans-serif; } .bar { fill: #3a6ea5; }
            @media print { body { margin: 0; max-width: none; } section, svg { break-inside: avoid; } }
            </style></head>
            <body>
            \(body)</body></html>
            """
    }

    /// A horizontal bar chart: one labelled bar per key, its count beside it and in `data-count`.
    private static func chart(_ title: String, id: String, _ counts: [String: Int]) -> String {
        guard !counts.isEmpty else { return "" }
        let rows = Array(sorted(counts).prefix(30))
        let largest = max(rows.map(\.1).max() ?? 1, 1)
        let height = rows.count * 22 + 10
        var svg = "<svg id=\"\(id)\" role=\"img\" aria-label=\"\(escape(title))\" width=\"720\" height=\"\(height)\" viewBox=\"0 0 720 \(height)\">\n"
        for (index, (key, count)) in rows.enumerated() {
            let y = index * 22 + 5
            let width = max(1, Int(Double(count) / Double(largest) * 380))
            svg += "<text x=\"0\" y=\"\(y + 14)\">\(escape(String(key.prefix(40))))</text>"
                + "<rect class=\"bar\" data-key=\"\(escape(key))\" data-count=\"\(count)\" x=\"290\" y=\"\(y)\" width=\"\(width)\" height=\"18\"></rect>"
                + "<text x=\"\(296 + width)\" y=\"\(y + 14)\">\(count)</text>\n"
        }
        return "<section><h2>\(escape(title))</h2>\n\(svg)</svg></section>\n"
    }

    private static func sorted(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func escapeMarkdown(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
