import Foundation

/// What changed between two texts, for people: by line, with the words that changed inside a line.
package enum TextDiff {
    /// One run of a word diff.
    package struct Run: Equatable, Sendable {
        /// Whether the run is in both texts, only the old one, or only the new one.
        package enum Kind: String, Equatable, Sendable, Codable {
            case equal, delete, insert
        }
        package var kind: Kind
        package var text: String

        /// A run of `kind`.
        package init(_ kind: Kind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    /// One changed place: the lines it starts at in each text (from 1) and its word diff.
    package struct Hunk: Equatable, Sendable {
        package var oldLine: Int
        package var newLine: Int
        package var runs: [Run]
    }

    /// The word diff of two texts: equal, deleted and inserted runs, in order. Texts too far apart
    /// to diff within the bound come back as one deletion and one insertion.
    package static func words(_ old: String, _ new: String) -> [Run] {
        var table = TokenTable()
        let a = table.tokenize(old, .word), b = table.tokenize(new, .word)
        guard let hunks = MyersDiff.hunks(a.ids, b.ids, maxEdits: 20_000) else {
            return [Run(.delete, old), Run(.insert, new)].filter { !$0.text.isEmpty }
        }
        var runs: [Run] = []
        var position = 0
        for hunk in hunks {
            if position < hunk.old.lowerBound { runs.append(Run(.equal, a.text(position..<hunk.old.lowerBound))) }
            if !hunk.old.isEmpty { runs.append(Run(.delete, a.text(hunk.old))) }
            if !hunk.new.isEmpty { runs.append(Run(.insert, b.text(hunk.new))) }
            position = hunk.old.upperBound
        }
        if position < a.ids.count { runs.append(Run(.equal, a.text(position..<a.ids.count))) }
        return runs
    }

    /// The changed places of two texts: lines that differ, each with the word diff of its lines.
    package static func hunks(_ old: String, _ new: String) -> [Hunk] {
        var table = TokenTable()
        let a = table.tokenize(old, .line), b = table.tokenize(new, .line)
        guard let lines = MyersDiff.hunks(a.ids, b.ids, maxEdits: 20_000) else {
            return [Hunk(oldLine: 1, newLine: 1, runs: words(old, new))]
        }
        return lines.map { hunk in
            Hunk(oldLine: hunk.old.lowerBound + 1, newLine: hunk.new.lowerBound + 1,
                 runs: words(a.text(hunk.old), b.text(hunk.new)))
        }
    }

    /// Runs written on one line, git's `--word-diff=plain` style: `[-deleted-]{+inserted+}`; long
    /// unchanged stretches keep `context` words at each end around ` … `, and line breaks show as ` ⏎ `.
    package static func inline(_ runs: [Run], context: Int = 6) -> String {
        var text = ""
        for (index, run) in runs.enumerated() {
            let shown = run.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ⏎ ")
            switch run.kind {
            case .delete: text += "[-\(shown)-]"
            case .insert: text += "{+\(shown)+}"
            case .equal: text += elided(shown, keepStart: index > 0, keepEnd: index < runs.count - 1, context: context)
            }
        }
        return text
    }

    /// The first `words` words of a text on one line, with ` … ` when there is more (line breaks show as ` ⏎ `).
    package static func excerpt(_ text: String, words count: Int = 24) -> String {
        var text = text.replacingOccurrences(of: "\r\n", with: "\n")
        while text.hasSuffix("\n") { text.removeLast() }
        let shown = text.replacingOccurrences(of: "\n", with: " ⏎ ")
        let words = shown.split(separator: " ", omittingEmptySubsequences: false)
        return words.count > count ? words.prefix(count).joined(separator: " ") + " …" : shown
    }

    /// An unchanged run with its middle cut when long: the words next to a change stay.
    private static func elided(_ text: String, keepStart: Bool, keepEnd: Bool, context: Int) -> String {
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        let kept = (keepStart ? context : 0) + (keepEnd ? context : 0)
        guard words.count > kept + 2 else { return text }
        let head = keepStart ? words.prefix(context).joined(separator: " ") : ""
        let tail = keepEnd ? words.suffix(context).joined(separator: " ") : ""
        return head + (keepStart ? " " : "") + "…" + (keepEnd ? " " : "") + tail
    }
}
