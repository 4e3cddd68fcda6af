import Foundation
import Shared

// Need-to-know: what a pull costs a user who may read a tenth of a project.
extension Runner {
    /// A project of `count` records, 90% restricted to a group the puller is not in. Each replica's
    /// initial sync, timed: a member's (every record) and the outsider's (a tenth), in the same run;
    /// then the outsider's no-op syncs, counted in the requests the server logged.
    mutating func needToKnow(records count: Int) throws -> [Row] {
        let log = work.appendingPathComponent("requests-ntk-\(count).log")
        let (server, token) = try freshServer(requestLog: log)
        defer { server.stop() }
        _ = try server.admin(["group", "add", "inner", "--project", "bench"])
        _ = try server.admin(["group", "add-member", "inner", "bench", "--project", "bench"])
        let outsider = try server.admin(["user", "add", "outsider", "--project", "bench"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        let writer = try replica(server, token: token)
        let team = count / 10
        let teamCSV = work.appendingPathComponent("ntk-team-\(count).csv"), innerCSV = work.appendingPathComponent("ntk-inner-\(count).csv")
        try BenchData.csv(count: team, seed: 7, to: teamCSV)
        try BenchData.csv(count: count - team, seed: 8, to: innerCSV)
        _ = try casebook(writer, ["import", "incidents", teamCSV.path])
        _ = try casebook(writer, ["import", "incidents", innerCSV.path, "--access", "inner"])
        _ = try casebook(writer, ["sync"])

        let size = "\(count.formatted()) records"
        let member = try replica(server, token: token)
        let full = try casebook(member, ["sync", "--json"])
        let reader = try replica(server, token: outsider)
        let tenth = try casebook(reader, ["sync", "--json"])
        let listed = try casebook(reader, ["list", "incidents"]).stdout.split(separator: "\n").count
        guard listed == team else { throw BenchError("the outsider's replica lists \(listed) records, not the \(team) they may read") }
        var requests: [Int] = [], noops: [Double] = []
        for _ in 0..<5 {
            let before = try Self.requestCount(log)
            noops.append(try casebook(reader, ["sync"]).seconds)
            usleep(100_000)  // the log line is written as the request arrives; leave it time to land
            requests.append(try Self.requestCount(log) - before)
        }
        let changes = Double(count * BenchData.fields.count)
        return [
            Row(phase: "initial pull, member (reads all)", size: size, time: full.seconds, rate: changes / full.seconds, ratio: nil,
                note: "whole `casebook sync` process"),
            Row(phase: "initial pull, outsider (reads 10%)", size: size, time: tenth.seconds, rate: changes / 10 / tenth.seconds,
                ratio: tenth.seconds / full.seconds, note: "ratio column: time / the member's"),
            Row(phase: "no-op sync, outsider", size: size, time: Self.median(noops), rate: nil, ratio: nil,
                note: "median of 5; requests per sync (server log): \(requests.map(String.init).joined(separator: ", "))"),
        ]
    }
}
