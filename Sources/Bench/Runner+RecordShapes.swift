import Foundation
import Shared

// Narrow records (issue 22): recommendations of 6 fields, the shape most real records have, beside
// the 12-field incidents of the scaling phases, per record and per change, against the raw insert of
// the same field rows.
extension Runner {
    /// `count` recommendations (term ids; two states, two themes, an enum, a 130-character text)
    /// imported into a upr project, pushed, and pulled by a fresh replica.
    mutating func recordShapes(records count: Int) throws -> [Row] {
        let changes = count * BenchData.recommendationFields
        let size = "\(count.formatted()) recommendations"
        let baseline = try Baseline.insertRate(rows: changes, folder: work, fieldsPerRecord: BenchData.recommendationFields,
                                               values: BenchData.recommendationRecord)
        let (server, token) = try freshServer(schema: .upr)
        defer { server.stop() }
        let writer = try replica(server, token: token)
        let csv = work.appendingPathComponent("recommendations-\(count)-shapes.csv")
        try BenchData.recommendationsCSV(count: count, unWording: false, to: csv)
        let imported = try casebook(writer, ["import", "recommendations", csv.path])
        let pushed = try casebook(writer, ["sync", "--json"])
        let pushSeconds = syncSeconds(pushed)["push"] ?? pushed.seconds
        let reader = try replica(server, token: token)
        let pulled = try casebook(reader, ["sync", "--json"])
        let moved = Double(Self.count("pulled", pulled) ?? changes)
        func perRecord(_ seconds: Double) -> String { "\(Int(Double(count) / seconds).formatted()) records/s" }
        return [
            Row(phase: "raw SQLite insert (baseline), recommendations", size: size, time: baseline.seconds, rate: baseline.rowsPerSecond, ratio: 1,
                note: "\(changes.formatted()) rows of \(BenchData.recommendationFields) fields a record; \(perRecord(baseline.seconds))"),
            Row(phase: "local import, recommendations", size: size, time: imported.seconds, rate: Double(changes) / imported.seconds, ratio: nil,
                note: "\(perRecord(imported.seconds)); \(Int(Double(changes) / imported.seconds).formatted()) values/s"),
            Row(phase: "push, recommendations", size: size, time: pushSeconds, rate: moved / pushSeconds, ratio: moved / pushSeconds / baseline.rowsPerSecond,
                note: perRecord(pushSeconds)),
            Row(phase: "initial pull, recommendations", size: size, time: pulled.seconds, rate: moved / pulled.seconds,
                ratio: moved / pulled.seconds / baseline.rowsPerSecond, note: "\(perRecord(pulled.seconds)); \(Int(moved).formatted()) changes pulled"),
        ]
    }

    /// A count `casebook sync --json` printed.
    static func count(_ key: String, _ result: Processes.Result) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else { return nil }
        return object[key] as? Int
    }
}
