import Foundation

/// A one-line progress display on stderr, only when stderr is a terminal.
/// (Not `Progress`: that name is Foundation's.)
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false
    /// When a byte count started, and from how many bytes (a resumed transfer starts above zero).
    private var byteStart: (at: Date, done: Int64)?

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    /// Shows `label: done of total` with a bar; redraws at most ten times a second.
    /// Counts below zero (from a broken server) show as zero.
    func update(_ label: String, done: Int, total: Int?) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        draw(line(label, done: done, total: total))
    }

    /// The text of the line.
    func line(_ label: String, done: Int, total: Int?) -> String {
        let done = max(0, done)
        var line = "\(label): \(done.formatted())"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done.formatted()) of \(total.formatted())"
        }
        return line
    }

    /// Shows `label: 412 MB of 1.0 GB, 85 MB/s, 7 s left`, measured from the first call after `start(bytes:)`
    /// (or the first call); redraws at most ten times a second.
    func bytes(_ label: String, done: Int64, total: Int64) {
        let now = Date()
        if byteStart == nil { byteStart = (now, done) }
        guard enabled, now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        draw(bytesLine(label, done: done, total: total, seconds: now.timeIntervalSince(byteStart!.at), since: byteStart!.done))
    }

    /// Starts measuring the rate afresh (a new transfer, resumed at `bytes`).
    func start(bytes: Int64) {
        byteStart = (Date(), bytes)
    }

    /// The text of a byte-counting line: what is done, the rate since `since` bytes `seconds` ago, and the time left.
    func bytesLine(_ label: String, done: Int64, total: Int64, seconds: Double, since: Int64) -> String {
        var line = "\(label): \(Self.size(done)) of \(Self.size(total))"
        let rate = seconds > 0.2 ? Double(max(0, done - since)) / seconds : 0
        if rate > 0 {
            let left = Double(max(0, total - done)) / rate
            line += ", \(Self.size(Int64(rate)))/s, " + (left < 60 ? "\(Int(left.rounded(.up))) s left" : "\(Int((left / 60).rounded(.up))) min left")
        }
        return line
    }

    /// Bytes for people: 512 B, 3.4 MB, 1.0 GB (powers of 1000).
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(max(0, bytes)), unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    private func draw(_ line: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        drawn = true
    }

    /// Clears the line.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}


extension Int {
    /// The number with thousands separators: 12,345.
    func formatted() -> String {
        let digits = String(magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return self < 0 ? "-" + out : out
    }
}
