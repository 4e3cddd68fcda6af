import Foundation
import Shared

/// Text made safe to write to a terminal. Values come from other people (through the server),
/// and a terminal obeys the control characters in what it prints: ESC sequences can set the
/// window title, clear the screen or rewrite what was shown, and bidirectional overrides can
/// make a value read as something else. Each such character is shown visibly as `<U+XXXX>`;
/// line feeds, CRLF line ends and tabs stay (multi-line text is shown as it is).
enum TerminalText {
    /// Whether stdout and stderr are terminals, read once.
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    /// `text` with every control character (C0 but line feed and tab, DEL, C1) and every
    /// bidirectional formatting character shown as `<U+XXXX>`.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            // A carriage return ending a line (CRLF, as Windows writes multi-line text) moves nothing.
            let endsLine = scalar == "\r" && index + 1 < scalars.count && scalars[index + 1] == "\n"
            if needsEscape(scalar) && !endsLine {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: "<U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)>".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value == 0x0A || value == 0x09 { return false }
        return value < 0x20 || (0x7F...0x9F).contains(value) || Schema.isBidiFormatting(scalar)
    }
}
