import Foundation
import Shared

/// The benchmark phases.
struct Runner {
    let bin: URL
    let work: URL
    /// Set when the server runs on PostgreSQL: each fresh server gets a fresh database.
    var postgres: BenchPostgres?
    /// Whether the replicas made from now on are encrypted (unlocked once with `casebook unlock`, as a
    /// researcher's day goes) or made with `--no-passphrase`.
    var encrypted = false
    /// The other files beside the replica that `casebook wipe --yes` is timed with (1 GiB; `--smoke`
    /// makes it small: the phase is there to run, not to be measured).
    var wipeFillerBytes = 1 << 30
    private var serial = 0
    /// The encrypted replicas made, locked again at the end.
    private(set) var unlocked: [URL] = []

    init(bin: URL, work: URL, postgres: BenchPostgres? = nil) {
        self.bin = bin
        self.work = work
        self.postgres = postgres
    }

    var client: URL { bin.appendingPathComponent("casebook") }

    mutating func folder(_ name: String) -> URL {
        serial += 1
        return work.appendingPathComponent("\(serial)-\(name)")
    }

    /// A fresh server with the benchmark schema and one researcher; returns it and a token.
    mutating func freshServer(schema: Schema = BenchData.schema, requestLog: URL? = nil) throws -> (BenchServer, String) {
        let data = folder("server")
        let databaseURL = try postgres?.freshDatabase()
        let server = try BenchServer(bin: bin, data: data, databaseURL: databaseURL, requestLog: requestLog)
        let schemaPath = work.appendingPathComponent("\(schema.name)-schema.json")
        try schema.jsonData().write(to: schemaPath)
        _ = try server.admin(["project", "create", "bench", "--schema", schemaPath.path])
        let token = try server.admin(["user", "add", "bench", "--project", "bench"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (server, token)
    }

    mutating func replica(_ server: BenchServer, token: String) throws -> URL {
        let home = folder("replica")
        let initialise = ["init", "--server", server.url, "--project", "bench", "--token", token, "--home", home.path]
        guard encrypted else {
            try check(try Processes.run(client, initialise + ["--no-passphrase"]), "init")
            return home
        }
        let passphrase = work.appendingPathComponent("passphrase")
        try Data("a benchmark passphrase of decent length\n".utf8).write(to: passphrase)
        try check(try Processes.run(client, initialise + ["--passphrase-file", passphrase.path]), "init")
        try check(try Processes.run(client, ["unlock", "--for", "2h", "--passphrase-file", passphrase.path, "--home", home.path]), "unlock")
        unlocked.append(home)
        return home
    }

    /// Forgets the keys of the replicas this run unlocked.
    func lockAll() {
        for home in unlocked { _ = try? Processes.run(client, ["lock", "--home", home.path]) }
    }

    func casebook(_ home: URL, _ arguments: [String]) throws -> Processes.Result {
        let result = try Processes.run(client, arguments + ["--home", home.path])
        try check(result, arguments.first ?? "")
        return result
    }

    func check(_ result: Processes.Result, _ what: String) throws {
        guard result.code == 0 else { throw BenchError("casebook \(what) failed (\(result.code)): \(result.stderr)") }
    }

    func syncSeconds(_ result: Processes.Result) -> [String: Double] {
        guard let data = result.stdout.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object["seconds"] as? [String: Double] ?? [:]
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func mb(_ bytes: Int) -> String { "\(bytes / 1_048_576) MB" }

    /// "CPU: client X s, server Y s" for a phase, the server's counted from `since` (then moved on).
    func cpu(client: Processes.Result, server: BenchServer, since: inout Double) -> String {
        let now = Processes.cpuSeconds(pid: server.pid) ?? since
        defer { since = now }
        return String(format: "CPU: client %.2f s, server %.2f s", client.cpuSeconds, now - since)
    }

    /// 1% of the records edited on `writer` (a CSV of ids and new locations), synced, then pulled by `reader`.
    private func incrementalPhase(writer: URL, reader: URL, records: Int, size: String) throws -> Row {
        let edited = max(1, records / 100)
        let editCSV = work.appendingPathComponent("edits-\(records).csv")
        // The first column of an export is the id: edit the location of the first 1% of records.
        let export = try casebook(writer, ["export", "incidents"]).stdout.split(separator: "\r\n", omittingEmptySubsequences: true)
        var editText = "id,location\n"
        for (index, line) in export.dropFirst().prefix(edited).enumerated() {
            editText += "\(line.prefix(32)),moved \(index)\n"
        }
        try Data(editText.utf8).write(to: editCSV)
        _ = try casebook(writer, ["import", "incidents", editCSV.path])
        _ = try casebook(writer, ["sync"])
        let incremental = try casebook(reader, ["sync", "--json"])
        return Row(phase: "incremental pull (1% edited)", size: size, time: incremental.seconds, rate: Double(edited) / incremental.seconds,
                   ratio: nil, note: "\(edited.formatted()) changes; whole `casebook sync` process")
    }

    /// Push, initial pull, incremental, no-op sync and local reads at one size, with the baseline.
    mutating func scalingPhases(records count: Int) throws -> [Row] {
        let changes = count * BenchData.fields.count
        let size = "\(count.formatted()) records"
        let baseline = try Baseline.insertRate(rows: changes, folder: work)
        var rows = [Row(phase: "raw SQLite insert (baseline)", size: size, time: baseline.seconds, rate: baseline.rowsPerSecond, ratio: 1,
                        note: "\(changes.formatted()) rows, one transaction, prepared statement, server's indexes")]

        let (server, token) = try freshServer()
        defer { server.stop() }
        let writer = try replica(server, token: token)
        let csv = work.appendingPathComponent("records-\(count).csv")
        try BenchData.csv(count: count, seed: 42, to: csv)
        let imported = try casebook(writer, ["import", "incidents", csv.path])
        rows.append(Row(phase: "local import (not a sync)", size: size, time: imported.seconds, rate: Double(changes) / imported.seconds, ratio: nil,
                        note: "client peak RSS \(Self.mb(imported.peakRSS))"))

        // 1. Push.
        Processes.resetPeakRSS(pid: server.pid)
        var serverCPU = Processes.cpuSeconds(pid: server.pid) ?? 0
        let pushed = try casebook(writer, ["sync", "--json"])
        let pushSeconds = syncSeconds(pushed)["push"] ?? pushed.seconds
        let pushRate = Double(changes) / pushSeconds
        rows.append(Row(phase: "push", size: size, time: pushSeconds, rate: pushRate, ratio: pushRate / baseline.rowsPerSecond,
                        note: "\(Int(Double(count) / pushSeconds).formatted()) records/s; whole sync \(String(format: "%.2f", pushed.seconds)) s; server peak RSS \(Self.mb(Processes.peakRSS(pid: server.pid) ?? 0)); \(cpu(client: pushed, server: server, since: &serverCPU))"))

        // 2. Initial pull by a fresh replica.
        let reader = try replica(server, token: token)
        Processes.resetPeakRSS(pid: server.pid)
        serverCPU = Processes.cpuSeconds(pid: server.pid) ?? 0
        let pulled = try casebook(reader, ["sync", "--json"])
        let pullRate = Double(changes) / pulled.seconds
        rows.append(Row(phase: "initial pull", size: size, time: pulled.seconds, rate: pullRate, ratio: pullRate / baseline.rowsPerSecond,
                        note: "\(Int(Double(count) / pulled.seconds).formatted()) records/s; server peak RSS \(Self.mb(Processes.peakRSS(pid: server.pid) ?? 0)), client peak RSS \(Self.mb(pulled.peakRSS)); \(cpu(client: pulled, server: server, since: &serverCPU))"))

        // 3. Incremental: 1% of records edited on one replica, pulled by another.
        rows.append(try incrementalPhase(writer: writer, reader: reader, records: count, size: size))

        // 4. No-op sync.
        let noops = try (0..<7).map { _ in try casebook(reader, ["sync"]).seconds }
        rows.append(Row(phase: "no-op sync", size: size, time: Self.median(noops), rate: nil, ratio: nil,
                        note: "median of 7, process start to exit (one pull round trip)"))

        // 6. Local: add latency and list --where.
        let adds = try (0..<9).map { index in try casebook(writer, ["add", "incidents", "--set", "title=bench add \(index)"]).seconds }
        rows.append(Row(phase: "`casebook add`", size: size, time: Self.median(adds), rate: nil, ratio: nil, note: "median of 9, process start to exit"))
        let lists = try (0..<5).map { index in try casebook(reader, ["list", "incidents", "--where", "code=CASE-\(index * 7)"]).seconds }
        rows.append(Row(phase: "`casebook list --where`", size: size, time: Self.median(lists), rate: nil, ratio: nil,
                        note: "median of 5, one match among \(count.formatted())"))
        let listAll = try casebook(reader, ["list", "incidents", "--where", "status=open"])
        rows.append(Row(phase: "`casebook list --where` (1/3 match)", size: size, time: listAll.seconds, rate: nil, ratio: nil,
                        note: "\((count / 3).formatted()) records printed"))
        if encrypted { rows.append(try wipePhase(writer, size: size)) }
        return rows
    }

    /// `casebook wipe --yes` on a replica whose folder also holds `wipeFillerBytes` of other files
    /// (1 GiB, standing in for attached evidence): the contract's "under a second, whatever the size".
    private func wipePhase(_ home: URL, size: String) throws -> Row {
        let filler = home.appendingPathComponent("filler")
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(repeating: 0x5a, count: min(8 << 20, wipeFillerBytes))
        for _ in 0..<max(1, wipeFillerBytes / block.count) { handle.write(block) }
        try handle.synchronize()
        try handle.close()
        let folderBytes = (FileManager.default.enumerator(atPath: home.path)?.allObjects as? [String] ?? [])
            .compactMap { try? FileManager.default.attributesOfItem(atPath: home.appendingPathComponent($0).path)[.size] as? Int }.reduce(0, +)
        let wiped = try casebook(home, ["wipe", "--yes"])
        return Row(phase: "`casebook wipe --yes`", size: size, time: wiped.seconds, rate: nil, ratio: nil,
                   note: "folder of \(Self.mb(folderBytes)) (\(Self.mb(wipeFillerBytes)) of it a stand-in for attachments), process start to exit")
    }

    /// Many replicas syncing at once, each pushing its own changes and pulling everyone's.
    mutating func concurrency(replicas: Int, changesPerReplica: Int) throws -> [Row] {
        let (server, token) = try freshServer()
        defer { server.stop() }
        let perRecord = BenchData.fields.count
        let recordsEach = max(1, changesPerReplica / perRecord)
        var homes: [URL] = []
        for index in 0..<replicas {
            let home = try replica(server, token: token)
            _ = try casebook(home, ["sync"])  // the (empty) first snapshot
            let csv = work.appendingPathComponent("concurrent-\(index).csv")
            try BenchData.csv(count: recordsEach, seed: UInt64(1_000 + index), to: csv)
            _ = try casebook(home, ["import", "incidents", csv.path])
            homes.append(home)
        }
        // Each sync's latency is taken when its process exits (not when the benchmark gets round
        // to waiting for it, which would charge the later ones with the earlier ones' time).
        let finished = ExitTimes()
        let start = ContinuousClock.now
        let processes = try homes.map { home -> Process in
            let process = Process()
            process.executableURL = client
            process.arguments = ["sync", "--home", home.path]
            process.environment = Processes.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.terminationHandler = { finished.record($0.processIdentifier, (ContinuousClock.now - start).seconds) }
            try process.run()
            return process
        }
        let results = processes.map { process -> (Int32, Double) in
            process.waitUntilExit()
            return (process.terminationStatus, finished.seconds(process.processIdentifier) ?? (ContinuousClock.now - start).seconds)
        }
        let total = ContinuousClock.now - start
        let totalSeconds = total.seconds
        let latencies = results.map(\.1).sorted()
        let errors = results.filter { $0.0 != 0 }.count
        let pushedChanges = replicas * recordsEach * perRecord
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        return [Row(phase: "concurrency: \(replicas) replicas at once", size: "\(recordsEach * perRecord) changes each",
                    time: totalSeconds, rate: Double(pushedChanges) / totalSeconds, ratio: nil,
                    note: "p50 \(String(format: "%.0f", Self.median(latencies) * 1000)) ms, p99 \(String(format: "%.0f", p99 * 1000)) ms per sync, errors \(errors)")]
    }
}

extension Int {
    func formatted() -> String {
        let digits = String(self)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}

/// When each process of a phase exited, recorded from the processes' termination handlers.
private final class ExitTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [Int32: Double] = [:]

    func record(_ pid: Int32, _ seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        times[pid] = seconds
    }

    func seconds(_ pid: Int32) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return times[pid]
    }
}
