import Foundation

extension StringProtocol {
    /// The text without leading and trailing whitespace or newlines. Foundation's `trimmingCharacters(in:)` goes
    /// through `NSString` and UTF-16 and was a quarter of an import's time; this stays in Swift.
    package var trimmed: String {
        guard let first = firstIndex(where: { !$0.isWhitespace && !$0.isNewline }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace && !$0.isNewline })!
        return String(self[first...last])
    }
}
