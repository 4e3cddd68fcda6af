import Foundation

extension TextMerge {
    /// The first characters of a line that marks a conflict: start of the first side, the base,
    /// a further side, and the end (diff3 style, as `git merge` writes with `merge.conflictStyle=diff3`).
    package static let markerPrefixes = ["<<<<<<<", "|||||||", "=======", ">>>>>>>"]

    /// The merge written out for a person to finish in an editor: clean text as merged, and each
    /// conflict as whole lines between markers, the base shown. Two versions are written as git
    /// writes them; more get a labelled `=======` line each. Sides that made the same change are
    /// written once with both labels.
    ///
    /// `labels[i]` names version i (e.g. `1: ana, 2025-01-23 10:00`).
    package static func marked(base: String, versions: [String], labels: [String]) -> (text: String, conflicts: Int) {
        var text = ""
        var conflicts = 0
        for piece in pieces(base: base, versions: versions) {
            switch piece {
            case .clean(let clean):
                text += clean
            case .conflict(let baseBlock, let blocks):
                conflicts += 1
                text += markedConflict(base: baseBlock, blocks: blocks, labels: labels)
            }
        }
        return (text, conflicts)
    }

    private static func markedConflict(base: String, blocks: [String?], labels: [String]) -> String {
        // Same block from several versions: once, with their labels joined.
        var sides: [(label: String, text: String)] = []
        for (index, block) in blocks.enumerated() {
            guard let block else { continue }
            let label = index < labels.count ? labels[index] : "\(index + 1)"
            if let same = sides.firstIndex(where: { $0.text == block }) {
                sides[same].label += "; " + label
            } else {
                sides.append((label, block))
            }
        }
        func line(_ text: String) -> String { text.isEmpty || text.hasSuffix("\n") ? text : text + "\n" }
        guard let first = sides.first else { return base }
        var text = "<<<<<<< \(first.label)\n" + line(first.text) + "||||||| base\n" + line(base)
        if sides.count == 2 {
            text += "=======\n" + line(sides[1].text) + ">>>>>>> \(sides[1].label)\n"
        } else {
            for side in sides.dropFirst() { text += "======= \(side.label)\n" + line(side.text) }
            text += ">>>>>>> end of conflict\n"
        }
        return text
    }

    /// The number (from 1) of the first line of `text` that is a conflict marker, nil when none is
    /// left. Lines found in `known` (the base and versions merged, which may hold such a line as
    /// text) are not markers.
    package static func markerLine(in text: String, known: [String] = []) -> Int? {
        let ordinary = Set(known.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) })
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            guard !ordinary.contains(line) else { continue }
            for prefix in markerPrefixes where line.hasPrefix(prefix) {
                let rest = line.dropFirst(prefix.count)
                if rest.isEmpty || rest.first == " " { return index + 1 }
            }
        }
        return nil
    }
}
