import Foundation
import Shared

// Bundles: what carrying a replica's work on a stick costs, and how large the file is.
extension Runner {
    /// `count` person records (5 fields) imported into one replica and never pushed; that replica
    /// writes a bundle, a second replica that never reached the server applies it twice, and the
    /// first then syncs, relaying what it published for the bundle. Time and peak memory of each step,
    /// and the bundle's size against the records' own bytes.
    mutating func bundles(records count: Int) throws -> [Row] {
        let csv = work.appendingPathComponent("persons-\(count).csv")
        try BenchData.personsCSV(count: count, to: csv)
        let (server, token) = try freshServer(schema: BenchData.personSchema(sensitive: false))
        defer { server.stop() }
        let otherToken = try server.admin(["user", "add", "reader", "--project", "bench"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        let maker = try replica(server, token: token), reader = try replica(server, token: otherToken)
        // Each learns the other's device at its first sync: the maker the key to seal for, the reader the key the bundle is signed with.
        _ = try casebook(maker, ["sync"])
        _ = try casebook(reader, ["sync"])
        _ = try casebook(maker, ["import", "persons", csv.path])
        let file = work.appendingPathComponent("stick-\(count).casebook")
        let create = try casebook(maker, ["bundle", "create", file.path, "--json"])
        let bytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let apply = try casebook(reader, ["bundle", "apply", file.path, "--json"])
        guard apply.stdout.contains("\"applied\":\(count * BenchData.personFields.count)") else {
            throw BenchError("the bundle did not apply every change: \(apply.stdout)")
        }
        let again = try casebook(reader, ["bundle", "apply", file.path, "--json"])
        let relay = try casebook(maker, ["sync", "--json"])
        let size = "\(count.formatted()) records", changes = Double(count * BenchData.personFields.count)
        let csvBytes = (try FileManager.default.attributesOfItem(atPath: csv.path)[.size] as? Int) ?? 1
        func memory(_ result: Processes.Result) -> String { "peak \(result.peakRSS >> 20) MB" }
        return [
            Row(phase: "`bundle create` (publishes the pending changes, then writes)", size: size, time: create.seconds, rate: changes / create.seconds,
                ratio: nil, note: memory(create)),
            Row(phase: "bundle size", size: size, time: nil, rate: nil, ratio: nil,
                note: "\((bytes >> 10).formatted()) KiB: \(bytes / max(1, Int(changes))) bytes a change, \(String(format: "%.2f", Double(bytes) / Double(csvBytes))) × the CSV imported"),
            Row(phase: "`bundle apply` on a replica that holds none of it", size: size, time: apply.seconds, rate: changes / apply.seconds,
                ratio: nil, note: memory(apply)),
            Row(phase: "`bundle apply` again (every change a duplicate)", size: size, time: again.seconds, rate: changes / again.seconds,
                ratio: nil, note: memory(again)),
            Row(phase: "`sync` relaying the published changes", size: size, time: relay.seconds, rate: changes / relay.seconds, ratio: nil,
                note: memory(relay)),
        ]
    }
}
