import Foundation

extension StringProtocol {
    /// The text without leading and trailing whitespace or newlines. Foundation's `trimmingCharacters(in:)` goes
    /// through `NSString` and UTF-16 and was a quarter of an import's time; this stays in Swift, and a text that
    /// starts and ends with a visible ASCII character (most cells) is taken as it is, without walking its
    /// characters (nearly 5% of an import's profile went there).
    package var trimmed: String {
        if let first = first?.asciiValue, let last = last?.asciiValue, Self.isKept(first), Self.isKept(last) { return String(self) }
        guard let first = firstIndex(where: { !$0.isWhitespace && !$0.isNewline }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace && !$0.isNewline })!
        return String(self[first...last])
    }

    /// An ASCII character that is neither whitespace nor a newline (tab, line feed, vertical tab, form feed,
    /// carriage return, space): `trimmed` keeps it at either end. Every other whitespace character is not ASCII
    /// (`asciiValue` is nil), and so is an ASCII character with a combining mark.
    private static func isKept(_ byte: UInt8) -> Bool {
        byte < 0x80 && byte != 0x20 && !(0x09...0x0D).contains(byte)
    }
}
