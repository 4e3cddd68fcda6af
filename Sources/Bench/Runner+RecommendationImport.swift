import Foundation
import Shared

extension Runner {
    /// `casebook import recommendations` of `count` rows with list and vocabulary cells into a upr project:
    /// once written with term ids, once as the UN words them (states inside the text, `Accepted`, UN themes,
    /// one with a comma), each into a fresh replica.
    mutating func recommendationImport(records count: Int, unWording wordings: [Bool] = [false, true]) throws -> [Row] {
        let (server, token) = try freshServer(schema: .upr)
        defer { server.stop() }
        var rows: [Row] = []
        for unWording in wordings {
            let home = try replica(server, token: token)
            let csv = work.appendingPathComponent("recommendations-\(count)-\(unWording ? "un" : "ids").csv")
            try BenchData.recommendationsCSV(count: count, unWording: unWording, to: csv)
            let imported = try casebook(home, ["import", "recommendations", csv.path])
            let changes = count * BenchData.recommendationFields
            rows.append(Row(phase: "import recommendations (\(unWording ? "as the UN words them" : "term ids"))", size: "\(count.formatted()) records",
                            time: imported.seconds, rate: Double(changes) / imported.seconds, ratio: nil,
                            note: "\(BenchData.recommendationFields) fields a row, 2 themes and 2 states; client peak RSS \(Self.mb(imported.peakRSS))"))
        }
        return rows
    }
}
