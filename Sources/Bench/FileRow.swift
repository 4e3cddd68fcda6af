import Foundation

/// One line of the evidence-files table: a phase measured in several runs, beside a baseline program
/// (`cp`, `sha256sum`) measured in the same runs on the same file.
struct FileRow {
    var phase: String
    var bytes: Int
    /// Seconds, one per run.
    var seconds: [Double] = []
    /// Baselines measured in the same runs: a name and its seconds, one per run.
    var baselines: [(name: String, seconds: [Double])] = []
    /// Peak resident memory above the program's idle size, one per run (bytes).
    var clientRSS: [Int] = []
    var serverRSS: [Int] = []
    var note = ""

    /// This phase's rate over each baseline's in the same run, the median over the runs.
    var ratios: [(name: String, ratio: Double)] {
        baselines.filter { $0.seconds.count == seconds.count }.map { baseline in
            (baseline.name, Runner.median(zip(seconds, baseline.seconds).map { $0 > 0 ? $1 / $0 : 0 }))
        }
    }

    var medianSeconds: Double { Runner.median(seconds) }
}

extension Table {
    static func printFiles(_ rows: [FileRow], runs: Int) {
        Swift.print("\nEvidence files (median of \(runs) run\(runs == 1 ? "" : "s"); ratios are per run, against the baseline of the same run):\n")
        Swift.print("| phase | size | time | MB/s | vs baseline | client peak RSS above idle | server peak RSS above idle | notes |")
        Swift.print("|---|---|---:|---:|---:|---:|---:|---|")
        for row in rows {
            let seconds = row.medianSeconds
            let time = seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
            let rate = row.bytes > 0 && seconds > 0 ? String(format: "%.0f", Double(row.bytes) / seconds / 1_000_000) : ""
            let ratio = row.ratios.map { String(format: "%.0f%%", $0.ratio * 100) + " of " + $0.name }.joined(separator: ", ")
            let client = row.clientRSS.isEmpty ? "" : Runner.mb(Int(Runner.median(row.clientRSS.map(Double.init))))
            let server = row.serverRSS.isEmpty ? "" : Runner.mb(Int(Runner.median(row.serverRSS.map(Double.init))))
            let spread = row.seconds.count > 1 ? String(format: "runs %.2f-%.2f s; ", row.seconds.min() ?? 0, row.seconds.max() ?? 0) : ""
            Swift.print("| \(row.phase) | \(Runner.mb(row.bytes)) | \(time) | \(rate) | \(ratio) | \(client) | \(server) | \(spread)\(row.note) |")
        }
    }
}
