import ArgumentParser
import Foundation
import Shared

/// Measures sync speed, memory and scaling with the real programs on loopback, beside the raw
/// SQLite insert rate of the same rows, and prints one table. Run on a release build.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casebook-bench",
        abstract: "Benchmark casebook-server and casebook against raw SQLite (see docs/performance.md).")

    @Option(help: "Record counts for the push and initial-pull phases (each record is 12 field changes).")
    var records: [Int] = [10_000, 100_000]

    @Option(help: "Replicas syncing at once in the concurrency phase.")
    var replicas = 50

    @Option(name: .customLong("changes-per-replica"), help: "Changes each replica pushes in the concurrency phase.")
    var changesPerReplica = 200

    @Option(name: .customLong("load-replicas"), parsing: .upToNextOption,
            help: "Replicas the load generator plays at once, one step each (with --changes-per-replica changes each).")
    var loadReplicas = [50, 100, 200, 400]

    @Option(name: .customLong("load-syncs"), help: "Syncs each replica of the load generator makes (its changes spread over them).")
    var loadSyncs = 4

    @Option(name: .customLong("load-interval"), help: ArgumentHelp("Seconds between two syncs of one replica of the load generator, the replicas spread evenly over it; 0: all at once, back to back.", valueName: "SECONDS"))
    var loadInterval = 15.0

    @Flag(name: .customLong("load-only"), help: "Only the load generator: many replicas played from this process (async HTTP), at each --load-replicas count.")
    var loadOnly = false

    @Option(help: "The folder holding casebook and casebook-server (default: next to this program).")
    var bin: String?

    @Flag(help: "Tiny sizes, for CI: checks the benchmark runs, measures nothing worth keeping.")
    var smoke = false

    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("Run the server on PostgreSQL: a database whose user may create databases (one is made per server, dropped at the end).",
                               valueName: "postgres://USER:PASS@HOST:PORT/DB"))
    var databaseURL: String?

    @Flag(name: .customLong("import-only"), help: "Only the import of UN recommendations (list and vocabulary cells), at each --records size.")
    var importOnly = false

    @Flag(name: .customLong("term-ids-only"), help: "In the import phase, only the file written with term ids (an older casebook reads it too).")
    var termIDsOnly = false

    @Option(help: ArgumentHelp("Replicas to measure: unencrypted, encrypted, or both side by side in the same run.", valueName: "off|on|both"))
    var encryption = "both"

    @Option(name: .customLong("file-size"), help: ArgumentHelp("The evidence file attached, uploaded and downloaded in the files phase, in MiB.", valueName: "MIB"))
    var fileSize = 1_024

    @Option(name: .customLong("file-runs"), help: "How many times the files phase attaches, uploads and downloads it (the table gives medians).")
    var fileRuns = 3

    @Option(help: "Small attachments in the replica of the files phase's no-op sync.")
    var attachments = 10_000

    @Flag(name: .customLong("files-only"), help: "Only the evidence-files phase (with encrypted replicas unless --encryption off).")
    var filesOnly = false
    @Flag(name: .customLong("text-merge-only"), help: "Only the merge of long text (in process, no programs): timings and the false conflicts of each way of cutting text.")
    var textMergeOnly = false

    @Flag(name: .customLong("need-to-know-only"), help: "Only the need-to-know phase: initial pulls of a member and of a user who may read 10%, at each --records size.")
    var needToKnowOnly = false

    @Flag(name: .customLong("sensitive-only"), help: "Only the sensitive-fields phase: a pull of persons with two sensitive fields beside the same without, at each --records size.")
    var sensitiveOnly = false
    @Flag(name: .customLong("bundles-only"), help: "Only the bundles phase: create, apply twice and relay a bundle of persons, at each --records size.")
    var bundlesOnly = false
    @Flag(name: .customLong("scaling-only"), help: "Only the sync phases of incidents (push, initial pull, incremental, no-op) at each --records size: for pairing two builds, run after run.")
    var scalingOnly = false

    @Flag(name: .customLong("signatures-only"), help: "Only the in-process cost of signatures (digests, signing, checking a push and pull pages) at each --records size: no programs run.")
    var signaturesOnly = false

    @Flag(name: .customLong("record-shapes-only"), help: "Only the record-shapes phase: 6-field recommendations imported, pushed and pulled beside their raw insert, at each --records size.")
    var recordShapesOnly = false

    func validate() throws {
        guard ["off", "on", "both"].contains(encryption) else { throw ValidationError("--encryption takes off, on or both") }
        guard !loadReplicas.isEmpty, loadReplicas.allSatisfy({ $0 >= 1 }), loadSyncs >= 1, loadInterval >= 0, changesPerReplica >= loadSyncs else {
            throw ValidationError("--load-replicas takes counts of at least 1, --load-syncs at least 1, --load-interval 0 or more seconds, and --changes-per-replica at least one change a sync")
        }
        guard fileSize >= 1, fileRuns >= 1, attachments >= 1 else { throw ValidationError("--file-size, --file-runs and --attachments must be at least 1") }
    }

    /// The tiny sizes of `--smoke`: one size of each phase (the test that runs it checks that every
    /// phase runs, on both stores, with a debug build; each size more cost CI minutes).
    private mutating func useSmokeSizes() {
        records = [200]
        replicas = 5
        changesPerReplica = 24
        fileSize = 9
        fileRuns = 1
        attachments = 150
        loadReplicas = [5, 12]
        loadSyncs = 2
        loadInterval = 0.5
    }

    /// The machine and the server's store, as the tables are headed.
    var heading: String {
        Machine.describe() + "\nserver store: " + (databaseURL.map { "PostgreSQL (\(Bench.postgresVersion($0)))" } ?? "embedded SQLite")
    }

    /// One of the phases that run alone (`--need-to-know-only`, `--sensitive-only`, `--bundles-only`,
    /// `--record-shapes-only`), at each `--records` size, printed as one table.
    func runOnePhase(_ runner: inout Runner) throws {
        runner.encrypted = encryption == "on"
        var rows: [Row] = []
        for count in records {
            rows += needToKnowOnly ? try runner.needToKnow(records: count)
                : sensitiveOnly ? try runner.sensitiveFields(records: count)
                : bundlesOnly ? try runner.bundles(records: count) : try runner.recordShapes(records: count)
        }
        Table.print(rows, machine: heading)
    }

    mutating func run() async throws {
        if smoke { useSmokeSizes() }
        if signaturesOnly {
            return Table.print(try records.flatMap { try SignatureBench.rows(records: $0) }, machine: Machine.describe())
        }
        let onlyOne = loadOnly || filesOnly || needToKnowOnly || sensitiveOnly || bundlesOnly || recordShapesOnly || scalingOnly
        let textRows = onlyOne ? [] : TextMergeBench.rows(repeats: smoke ? 3 : 50)
        let falseConflicts = onlyOne ? "" : TextMergeBench.falseConflictTable(trials: smoke ? 20 : 1_000)
        if textMergeOnly {
            Table.print(textRows, machine: Machine.describe())
            return print("\n" + falseConflicts)
        }
        let binURL = bin.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var runner = Runner(bin: binURL, work: work, postgres: databaseURL.map { BenchPostgres(baseURL: $0) })
        if smoke {
            runner.wipeFillerBytes = 8 << 20
            Processes.cheapKeyDerivation = true
        }
        defer { runner.postgres?.dropAll() }
        defer { runner.lockAll() }
        var rows: [Row] = []
        if loadOnly {
            let steps = try await runner.loadSteps(replicas: loadReplicas, changesEach: changesPerReplica, syncs: loadSyncs, interval: loadInterval)
            return Table.print(steps, machine: heading)
        }
        if needToKnowOnly || sensitiveOnly || bundlesOnly || recordShapesOnly { return try runOnePhase(&runner) }
        var pairs: [(plain: [Row], encrypted: [Row])] = []
        for count in records where !filesOnly {
            var plain: [Row] = [], encrypted: [Row] = []
            if !importOnly && encryption != "on" {
                runner.encrypted = false
                plain = try runner.scalingPhases(records: count)
            }
            if !importOnly && encryption != "off" {
                runner.encrypted = true
                encrypted = try runner.scalingPhases(records: count).map { row in
                    var row = row
                    if !row.phase.hasPrefix("raw SQLite") { row.phase += " (encrypted)" }
                    return row
                }
            }
            rows += plain + encrypted.filter { !$0.phase.hasPrefix("raw SQLite") || plain.isEmpty }
            if scalingOnly { continue }
            if !importOnly {
                rows += try runner.recordShapes(records: count) + SignatureBench.rows(records: count)
                rows += try runner.sensitiveFields(records: count) + runner.bundles(records: count)
            }
            pairs.append((plain, encrypted))
            rows += try runner.recommendationImport(records: count, unWording: termIDsOnly ? [false] : [false, true])
        }
        runner.encrypted = encryption != "off"
        if !importOnly && !filesOnly && !scalingOnly {
            rows += try runner.concurrency(replicas: replicas, changesPerReplica: changesPerReplica)
            rows += try await runner.loadSteps(replicas: loadReplicas, changesEach: changesPerReplica, syncs: loadSyncs, interval: loadInterval)
        }
        let files = importOnly || scalingOnly ? [] : try runner.filePhases(size: fileSize << 20, runs: fileRuns, attachments: attachments)
        let shown = rows + textRows
        if shown.isEmpty {
            Swift.print("machine: \(heading)")
        } else {
            Table.print(shown, machine: heading)
        }
        if encryption == "both" && !filesOnly { Table.printEncryptionCost(pairs) }
        if !files.isEmpty { Table.printFiles(files, runs: fileRuns) }
        if !filesOnly && !scalingOnly { print("\n" + falseConflicts) }
    }
}

extension Bench {
    /// The server's version, as PostgreSQL reports it.
    static func postgresVersion(_ url: String) -> String {
        let result = try? Processes.run(URL(fileURLWithPath: "/usr/bin/psql"), [url, "-X", "-qtAc", "SHOW server_version"])
        return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "version unknown"
    }
}

/// One line of the results table.
struct Row {
    var phase: String
    var size: String
    var time: Double?
    var rate: Double?
    var ratio: Double?
    var note: String = ""
}

enum Table {
    static func print(_ rows: [Row], machine: String) {
        Swift.print("machine: \(machine)\n")
        Swift.print("| phase | size | time | rate (changes/s) | vs raw SQLite | notes |")
        Swift.print("|---|---|---:|---:|---:|---|")
        for row in rows {
            let time = row.time.map { $0 < 1 ? String(format: "%.1f ms", $0 * 1000) : String(format: "%.2f s", $0) } ?? ""
            let rate = row.rate.map { String(format: "%.0f", $0) } ?? ""
            let ratio = row.ratio.map { String(format: "%.0f%%", $0 * 100) } ?? ""
            Swift.print("| \(row.phase) | \(row.size) | \(time) | \(rate) | \(ratio) | \(row.note) |")
        }
    }
}

extension Table {
    /// Each phase's time on an encrypted replica beside an unencrypted one, from the same run.
    static func printEncryptionCost(_ pairs: [(plain: [Row], encrypted: [Row])]) {
        Swift.print("\n| phase | size | unencrypted | encrypted | encrypted / unencrypted |")
        Swift.print("|---|---|---:|---:|---:|")
        func format(_ seconds: Double) -> String { seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds) }
        for (plain, encrypted) in pairs {
            for (a, b) in zip(plain, encrypted) where !a.phase.hasPrefix("raw SQLite") {
                guard let x = a.time, let y = b.time, x > 0 else { continue }
                Swift.print("| \(a.phase) | \(a.size) | \(format(x)) | \(format(y)) | \(String(format: "%.2f", y / x)) |")
            }
        }
    }
}

enum Machine {
    static func describe() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), \(memory.map { "\($0 / 1024 / 1024) GiB" } ?? "?") RAM"
    }
}
