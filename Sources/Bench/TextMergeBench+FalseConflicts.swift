import Foundation
import Shared
import TestSupport

extension TextMergeBench {
    /// The ways of cutting text compared: lines only, then finer where two versions' lines meet.
    static let strategies: [(name: String, levels: [TextGranularity])] = [
        ("lines", [.line]),
        ("lines, then sentences (used)", [.line, .sentence]),
        ("lines, then words", [.line, .word]),
        ("lines, sentences, then words", [.line, .sentence, .word]),
    ]

    /// Pairs of concurrent edits researchers make, from the widest apart to the same word: the last
    /// two kinds are real conflicts (a merge there gives a date or a word neither wrote); every
    /// conflict before them is false.
    /// Each kind makes Ana's and Bek's versions of a base (which it may first adjust, as both saw it).
    static let kinds: [(name: String, make: @Sendable (inout NarrativeText, inout NarrativeText, inout NarrativeText, inout SplitMix64) -> Void)] = [
        ("different paragraphs", { base, ana, bek, random in
            let (p, q) = twoDifferent(ana.paragraphs.count, &random)
            ana.apply(anyEdit(&random), paragraph: p, sentence: Int.random(in: 0..<9, using: &random), using: &random)
            bek.apply(anyEdit(&random), paragraph: q, sentence: Int.random(in: 0..<9, using: &random), using: &random)
        }),
        ("one paragraph, different sentences", { base, ana, bek, random in
            let p = Int.random(in: 0..<ana.paragraphs.count, using: &random)
            let (s, t) = twoDifferent(ana.paragraphs[p].count, &random)
            ana.apply([.fixNumber, .fixWord, .rewriteSentence].randomElement(using: &random)!, paragraph: p, sentence: s, using: &random)
            bek.apply([.fixNumber, .fixWord, .rewriteSentence].randomElement(using: &random)!, paragraph: p, sentence: t, using: &random)
        }),
        ("a sentence edited, another added right after it", { base, ana, bek, random in
            let p = Int.random(in: 0..<ana.paragraphs.count, using: &random), s = ana.paragraphs[p].count - 1
            ana.apply(.fixNumber, paragraph: p, sentence: s, using: &random)
            bek.apply(.appendSentence, paragraph: p, sentence: s, using: &random)
        }),
        ("one sentence, different words", { base, ana, bek, random in
            let p = Int.random(in: 0..<ana.paragraphs.count, using: &random), s = Int.random(in: 0..<ana.paragraphs[p].count, using: &random)
            ana.apply(.fixNumber, paragraph: p, sentence: s, using: &random)
            bek.paragraphs[p][s] = "Reportedly, " + bek.paragraphs[p][s]
        }),
        ("one date corrected two ways, day and month (a real conflict)", { base, ana, bek, random in
            let p = Int.random(in: 0..<ana.paragraphs.count, using: &random), s = Int.random(in: 0..<ana.paragraphs[p].count, using: &random)
            let day = Int.random(in: 1...28, using: &random)
            let sentence = "On \(day) March 2024 police detained a journalist outside the court."
            base.paragraphs[p][s] = sentence
            ana.paragraphs[p][s] = sentence.replacingOccurrences(of: "\(day) March", with: "\(day + 1) March")
            bek.paragraphs[p][s] = sentence.replacingOccurrences(of: "\(day) March", with: "\(day) April")
        }),
        ("the same word changed two ways (a real conflict)", { base, ana, bek, random in
            let p = Int.random(in: 0..<ana.paragraphs.count, using: &random), s = Int.random(in: 0..<ana.paragraphs[p].count, using: &random)
            var words = ana.paragraphs[p][s].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let w = Int.random(in: 0..<words.count, using: &random)
            words[w] = "first"
            ana.paragraphs[p][s] = words.joined(separator: " ")
            words[w] = "second"
            bek.paragraphs[p][s] = words.joined(separator: " ")
        }),
    ]

    /// Conflicts per kind of edit pair and per strategy, over `trials` random pairs each, as a table.
    static func falseConflictTable(trials: Int) -> String {
        var lines = ["| concurrent edits (\(trials) pairs each) | " + strategies.map(\.name).joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---:|", count: strategies.count)]
        for (index, kind) in kinds.enumerated() {
            var random = SplitMix64(seed: 1_000 + UInt64(index))
            var conflicts = [Int](repeating: 0, count: strategies.count)
            for _ in 0..<trials {
                var base = NarrativeText.random(paragraphs: 6, using: &random)
                var ana = base, bek = base
                kind.make(&base, &ana, &bek, &random)
                for (position, strategy) in strategies.enumerated()
                where TextMerge.merge(base: base.text, versions: [ana.text, bek.text], levels: strategy.levels) == nil {
                    conflicts[position] += 1
                }
            }
            lines.append("| \(kind.name) | " + conflicts.map(String.init).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    private static func twoDifferent(_ count: Int, _ random: inout SplitMix64) -> (Int, Int) {
        let first = Int.random(in: 0..<count, using: &random)
        let second = (first + Int.random(in: 1..<max(2, count), using: &random)) % max(count, 1)
        return (first, second)
    }

    private static func anyEdit(_ random: inout SplitMix64) -> NarrativeText.Edit {
        [.fixNumber, .fixWord, .rewriteSentence, .insertSentence, .appendSentence, .deleteSentence].randomElement(using: &random)!
    }
}
