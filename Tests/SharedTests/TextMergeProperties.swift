import Foundation
import PropertyBased
import TestSupport
import Testing
@testable import Shared

/// Properties of the text merge itself, over random texts and edits.
@Suite struct TextMergeProperties {
    /// Characters that stress the byte-level cutting: Cyrillic, combining marks, CRLF, emoji, punctuation.
    static let alphabet: [String] = ["a", "b", " ", " ", ".", "!", "?", "\n", "\r\n", "Ж", "и\u{0306}", "e\u{0301}", "\u{0301}", "…", "»", "👩‍⚖️", "1", "\t"]

    static func randomText(_ random: inout SplitMix64, length: Int) -> String {
        (0..<length).map { _ in alphabet.randomElement(using: &random)! }.joined()
    }

    /// `text` with a few random insertions and deletions (by character).
    static func randomlyEdited(_ text: String, _ random: inout SplitMix64) -> String {
        var characters = Array(text)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = Int.random(in: 0...characters.count, using: &random)
            if Bool.random(using: &random) || characters.isEmpty {
                characters.insert(contentsOf: randomText(&random, length: Int.random(in: 1...6, using: &random)), at: at)
            } else {
                characters.removeSubrange(at..<min(characters.count, at + Int.random(in: 1...6, using: &random)))
            }
        }
        return String(characters)
    }

    @Test func cuttingAndJoiningTokensGivesBackTheBytes() async {
        await propertyCheck(count: 500, input: Gen.uint64(), Gen.int(in: 0...200)) { seed, length in
            var random = SplitMix64(seed: seed)
            let text = Self.randomText(&random, length: length)
            var table = TokenTable()
            for granularity in TextGranularity.allCases {
                let tokens = table.tokenize(text, granularity)
                #expect(tokens.text(0..<tokens.ids.count) == text, "seed \(seed) \(granularity)")
                #expect(tokens.starts.count == tokens.ids.count + 1)
            }
        }
    }

    @Test func applyingTheDiffGivesTheNewSequence() async {
        await propertyCheck(count: 1_000, input: Gen.uint64(), Gen.int(in: 0...40), Gen.int(in: 0...40)) { seed, n, m in
            var random = SplitMix64(seed: seed)
            let old = (0..<n).map { _ in Int.random(in: 0..<4, using: &random) }
            let new = (0..<m).map { _ in Int.random(in: 0..<4, using: &random) }
            let hunks = MyersDiff.hunks(old, new) ?? []
            var rebuilt: [Int] = []
            var position = 0
            for hunk in hunks {
                #expect(hunk.old.lowerBound >= position, "seed \(seed): hunks in order")
                rebuilt += old[position..<hunk.old.lowerBound] + new[hunk.new]
                position = hunk.old.upperBound
            }
            rebuilt += old[position...]
            #expect(rebuilt == new, "seed \(seed)")
        }
    }

    @Test func randomEditsMergeTheSameInEveryOrderAndNeverLoseASingleVersion() async {
        await propertyCheck(count: 500, input: Gen.uint64(), Gen.int(in: 1...4)) { seed, authors in
            var random = SplitMix64(seed: seed)
            let base = Self.randomText(&random, length: Int.random(in: 0...120, using: &random))
            let versions = (0..<authors).map { _ in Self.randomlyEdited(base, &random) }
            let merged = TextMerge.merge(base: base, versions: versions)
            for _ in 0..<3 {
                #expect(TextMerge.merge(base: base, versions: versions.shuffled(using: &random)) == merged, "seed \(seed)")
            }
            #expect(TextMerge.merge(base: base, versions: [versions[0]]) == versions[0], "seed \(seed)")
            #expect(TextMerge.merge(base: base, versions: [versions[0], versions[0], base]) == versions[0], "seed \(seed)")
            if merged == nil {
                let (_, conflicts) = TextMerge.marked(base: base, versions: versions, labels: versions.indices.map { "\($0 + 1)" })
                #expect(conflicts > 0, "seed \(seed): a refused merge shows a conflict")
            }
        }
    }

    @Test func editsOfDifferentParagraphsAlwaysCombineIntoEveryEdit() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 2...4)) { seed, authors in
            var random = SplitMix64(seed: seed)
            let base = NarrativeText.random(paragraphs: authors + Int.random(in: 0...3, using: &random), using: &random)
            let inParagraph: [NarrativeText.Edit] = [.fixNumber, .fixWord, .rewriteSentence, .insertSentence, .appendSentence, .deleteSentence]
            var expected = base
            var versions: [String] = []
            for (author, paragraph) in Array(base.paragraphs.indices).shuffled(using: &random).prefix(authors).enumerated() {
                var version = base
                for _ in 0...author % 2 {
                    version.apply(inParagraph.randomElement(using: &random)!, paragraph: paragraph, sentence: Int.random(in: 0..<9, using: &random), using: &random)
                }
                expected.paragraphs[paragraph] = version.paragraphs[paragraph]
                versions.append(version.text)
            }
            #expect(TextMerge.merge(base: base.text, versions: versions) == expected.text, "seed \(seed)")
        }
    }

    @Test func editsOfDifferentSentencesOfOneParagraphCombine() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var random = SplitMix64(seed: seed)
            let base = NarrativeText.random(paragraphs: 2, using: &random)
            let sentences = Array(base.paragraphs[0].indices).shuffled(using: &random)
            var ana = base, bek = base, expected = base
            ana.apply(.fixNumber, paragraph: 0, sentence: sentences[0], using: &random)
            bek.apply(.fixWord, paragraph: 0, sentence: sentences[1], using: &random)
            expected.paragraphs[0][sentences[0]] = ana.paragraphs[0][sentences[0]]
            expected.paragraphs[0][sentences[1]] = bek.paragraphs[0][sentences[1]]
            #expect(TextMerge.merge(base: base.text, versions: [ana.text, bek.text]) == expected.text, "seed \(seed)")
        }
    }
}
