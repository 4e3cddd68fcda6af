import Foundation

/// A recommendation as the UN writes it in a Working Group report or a thematic list, taken apart:
/// `140.7 Ratify the Optional Protocol ... (Maldives) (Portugal);` and a `Source of Position: ...` line.
package struct RecommendationText: Equatable, Sendable {
    /// The paragraph number, e.g. `140.7`; nil when the text does not start with one.
    package var paragraph: String?
    /// The recommendation without its number, its recommending states and its closing `;` or `.`.
    package var text: String
    /// The recommending states in the order written, as written (a joint recommendation names several).
    package var states: [String]
    /// The document and paragraph where the state gave its position, e.g. `A/HRC/59/15/Add.1 - Para.3`.
    package var sourceOfPosition: String?

    /// Takes `cell` apart. `isState` says whether a name is a known state: the last parenthesis of each
    /// sentence always names states (the UN's form), earlier ones only when every name in them is known,
    /// so `the Forced Labour Convention, 1930 (No. 29) (United Kingdom ...)` keeps `(No. 29)` in the text.
    package static func parse(_ cell: String, isState: (String) -> Bool) -> RecommendationText {
        // ASCII without line breaks (most cells) is one line: no need to walk its characters to find out.
        var lines = isASCII(cell, allowingLineBreaks: false) ? [cell]
            : cell.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        var source: String?
        // Foundation's case-insensitive search only on the line that has it: most of an import's cells do not, and
        // a byte search (which any match implies) rules them out without copying each line in lower case.
        if containsASCIIIgnoringCase(cell, "source of position"),
           let index = lines.firstIndex(where: { $0.lowercased().firstRange(of: "source of position") != nil }),
           lines[index].range(of: "source of position", options: .caseInsensitive) != nil {
            let line = lines[index]
            let start = line.range(of: "source of position", options: .caseInsensitive)!
            let head = String(line[..<start.lowerBound])
            var rest = line[start.upperBound...].drop { $0 == ":" || $0 == " " }
            while rest.last == " " { rest = rest.dropLast() }
            source = rest.isEmpty ? nil : String(rest)
            lines[index] = head
        }
        var body = lines.map { $0.trimmed }.filter { !$0.isEmpty }.joined(separator: "\n")
        let paragraph = leadingParagraph(&body)
        var states: [String] = []
        // Each `;`-ended sentence of a combined recommendation names its own states. Without a paragraph
        // number the text may not be the UN's: then even the last parenthesis must name known states.
        var sentences = split(body, on: ";")
        for index in sentences.indices {
            var sentence = sentences[index]
            states += trailingStates(&sentence, trustLast: paragraph != nil, isState: isState)
            // Only the last sentence loses its states: earlier ones keep them, so that a combined
            // recommendation still says who asked for what.
            if index == sentences.count - 1 { sentences[index] = sentence }
        }
        var text = sentences.joined(separator: "; ")
        while text.hasSuffix(";") || text.hasSuffix(" ") { text.removeLast() }
        var seen = Set<String>()
        states = states.filter { seen.insert($0).inserted }
        return RecommendationText(paragraph: paragraph, text: text, states: states, sourceOfPosition: source)
    }

    /// Removes and returns a leading `140.7` (digits, a dot, digits; an optional trailing dot).
    private static func leadingParagraph(_ body: inout String) -> String? {
        let scalars = body.unicodeScalars
        var i = scalars.startIndex
        func digits() -> Bool {
            let start = i
            while i < scalars.endIndex, ("0"..."9").contains(scalars[i]) { i = scalars.index(after: i) }
            return i > start
        }
        guard digits(), i < scalars.endIndex, scalars[i] == ".", { i = scalars.index(after: i); return digits() }() else { return nil }
        let number = String(scalars[..<i])
        if i < scalars.endIndex, scalars[i] == "." { i = scalars.index(after: i) }
        guard i == scalars.endIndex || scalars[i].properties.isWhitespace else { return nil }
        body = String(scalars[i...]).trimmed
        return number
    }

    /// `text` split on `separator` outside parentheses, each part trimmed, empty parts dropped.
    static func split(_ text: String, on separator: Character) -> [String] {
        // In ASCII every byte is a character (but CR LF, which is neither a separator nor a parenthesis): no need
        // to find where characters end.
        if let byte = separator.asciiValue, isASCII(text, allowingLineBreaks: true) { return split(ascii: text, on: byte) }
        var parts: [Substring] = [], start = text.startIndex, depth = 0
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "(" { depth += 1 } else if character == ")" { depth = max(0, depth - 1) }
            let next = text.index(after: index)
            if character == separator && depth == 0 {
                parts.append(text[start..<index])
                start = next
            }
            index = next
        }
        parts.append(text[start...])
        return parts.map { $0.trimmed }.filter { !$0.isEmpty }
    }

    private static func split(ascii text: String, on separator: UInt8) -> [String] {
        var parts: [Substring] = [], depth = 0
        let utf8 = text.utf8
        var start = utf8.startIndex, index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "(") { depth += 1 } else if byte == UInt8(ascii: ")") { depth = max(0, depth - 1) }
            let next = utf8.index(after: index)
            if byte == separator && depth == 0 {
                parts.append(text[start..<index])
                start = next
            }
            index = next
        }
        parts.append(text[start...])
        return parts.map { $0.trimmed }.filter { !$0.isEmpty }
    }

    /// Whether `text` is ASCII (and, unless `allowingLineBreaks`, holds no line feed, CR, vertical tab or form feed).
    private static func isASCII(_ text: String, allowingLineBreaks: Bool) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 && (allowingLineBreaks || !(0x0A...0x0D).contains($0)) }
    }

    /// Whether `text` may hold `needle` (lower-case ASCII letters and spaces) ignoring case: true whenever it does
    /// (a case-insensitive match of these letters is one of their bytes), and sometimes when it does not.
    static func containsASCIIIgnoringCase(_ text: String, _ needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        func search(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let first = pattern.first else { return true }
            guard bytes.count >= pattern.count else { return false }
            // `| 0x20` lowers an ASCII capital (and makes a few other bytes match too: a first pass only).
            outer: for start in 0...(bytes.count - pattern.count) where bytes[start] | 0x20 == first {
                for offset in 1..<pattern.count where bytes[start + offset] | 0x20 != pattern[offset] { continue outer }
                return true
            }
            return false
        }
        return text.utf8.withContiguousStorageIfAvailable(search) ?? Array(text.utf8).withUnsafeBufferPointer(search)
    }

    /// Removes the parentheses that end `sentence` and name states, and returns the states, first to last.
    private static func trailingStates(_ sentence: inout String, trustLast: Bool, isState: (String) -> Bool) -> [String] {
        var groups: [[String]] = []
        var rest = sentence
        while true {
            var trimmed = rest.trimmed
            while trimmed.hasSuffix(".") || trimmed.hasSuffix(";") { trimmed.removeLast() }
            guard trimmed.hasSuffix(")"), let open = matchingOpen(trimmed) else { break }
            let inside = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            let names = split(inside, on: ",")
            // The last parenthesis is the UN's list of states; an earlier one must name only known states.
            guard !names.isEmpty, groups.isEmpty && trustLast || names.allSatisfy(isState) else { break }
            groups.insert(names, at: 0)
            rest = String(trimmed[..<open])
        }
        guard !groups.isEmpty else { return [] }
        sentence = rest.trimmed
        return groups.flatMap { $0 }
    }

    /// The `(` that the final `)` of `text` closes.
    private static func matchingOpen(_ text: String) -> String.Index? {
        var depth = 0
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            if text[index] == ")" { depth += 1 }
            if text[index] == "(" {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }
}
