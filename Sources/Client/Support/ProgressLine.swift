import Foundation

/// A one-line progress display on stderr, only when stderr is a terminal.
/// (Not `Progress`: that name is Foundation's.)
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

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
