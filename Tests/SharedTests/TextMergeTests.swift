import Foundation
import Testing
@testable import Shared

/// The text merge on the edits researchers make: different parts combine, the same part conflicts.
@Suite struct TextMergeTests {
    static let base = """
        On 12 March 2024 police detained Zhanar outside the court. She was held for six hours.

        Her lawyer was not allowed in. The hearing was postponed.

        Задержание произошло у здания суда. Свидетели сообщили о давлении.
        """

    func merge(_ versions: String...) -> String? { TextMerge.merge(base: Self.base, versions: versions) }

    func replacing(_ old: String, _ new: String, in text: String = TextMergeTests.base) -> String {
        text.replacingOccurrences(of: old, with: new)
    }

    @Test func editsOfDifferentParagraphsCombine() {
        let ana = replacing("12 March", "13 March")
        let bek = replacing("Свидетели сообщили о давлении.", "Свидетели сообщили о давлении. Ерла\u{0301}н подтвердил это.")
        let merged = merge(ana, bek)
        #expect(merged == replacing("Свидетели сообщили о давлении.", "Свидетели сообщили о давлении. Ерла\u{0301}н подтвердил это.", in: ana))
        #expect(merge(bek, ana) == merged)
    }

    @Test func editsOfDifferentSentencesOfOneParagraphCombine() {
        let ana = replacing("12 March", "13 March")
        let bek = replacing("six hours", "seven hours")
        #expect(merge(ana, bek) == replacing("six hours", "seven hours", in: ana))
    }

    @Test func anEditOfTheLastSentenceAndASentenceAddedAfterItCombine() {
        let ana = replacing("The hearing was postponed.", "The hearing was postponed to April.")
        let bek = replacing("The hearing was postponed.", "The hearing was postponed. No reason was given.")
        #expect(merge(ana, bek) == replacing("The hearing was postponed.", "The hearing was postponed to April. No reason was given."))
    }

    @Test func twoEditsOfOneSentenceConflict() {
        let ana = replacing("12 March", "13 March")
        let bek = replacing("outside the court", "inside the court")
        #expect(merge(ana, bek) == nil)
        let pieces = TextMerge.pieces(base: Self.base, versions: [ana, bek])
        let conflicts = pieces.filter { if case .conflict = $0 { true } else { false } }
        #expect(conflicts.count == 1)
        guard case .conflict(let base, let blocks)? = conflicts.first else { return }
        #expect(base == "On 12 March 2024 police detained Zhanar outside the court. She was held for six hours.\n")
        #expect(blocks == ["On 13 March 2024 police detained Zhanar outside the court. She was held for six hours.\n",
                           "On 12 March 2024 police detained Zhanar inside the court. She was held for six hours.\n"])
    }

    @Test func twoAdditionsAtTheSamePlaceConflictTheSameAdditionDoesNot() {
        let ana = Self.base + "\n\nAna's paragraph."
        let bek = Self.base + "\n\nBek's paragraph."
        #expect(merge(ana, bek) == nil)
        #expect(merge(ana, ana) == ana)
    }

    @Test func aDeletedParagraphAndAnEditElsewhereCombineAnEditOfTheDeletedParagraphConflicts() {
        let ana = replacing("Her lawyer was not allowed in. The hearing was postponed.\n\n", "")
        let bek = replacing("12 March", "13 March")
        #expect(merge(ana, bek) == replacing("12 March", "13 March", in: ana))
        let cem = replacing("Her lawyer", "His lawyer")
        #expect(merge(ana, cem) == nil)
    }

    @Test func threeAuthorsCombineInAnyOrder() {
        let ana = replacing("12 March", "13 March")
        let bek = replacing("Her lawyer was", "Her lawyer, Ольга Ивано\u{0301}ва, was")
        let cem = replacing("давлении", "давлении полиции")
        let expected = replacing("давлении", "давлении полиции", in: replacing("Her lawyer was", "Her lawyer, Ольга Ивано\u{0301}ва, was", in: ana))
        for order in [[ana, bek, cem], [cem, ana, bek], [bek, cem, ana]] {
            #expect(TextMerge.merge(base: Self.base, versions: order) == expected)
        }
    }

    @Test func aVersionEqualToTheBaseChangesNothing() {
        let ana = replacing("six", "seven")
        #expect(merge(Self.base, ana) == ana)
        #expect(merge(Self.base) == Self.base)
        #expect(TextMerge.merge(base: "", versions: ["", ""]) == "")
    }

    @Test func combiningMarksAreKeptWhole() {
        // The same letter, precomposed in one version and decomposed in the base: a change of that word only.
        let base = "Ерлан, Айгуль и Жанар.\nВторая строка."
        let ana = "Ерла\u{0301}н, Айгуль и Жанар.\nВторая строка."
        let bek = "Ерлан, Айгуль и Жанар.\nВторая строка, исправленная."
        #expect(TextMerge.merge(base: base, versions: [ana, bek]) == "Ерла\u{0301}н, Айгуль и Жанар.\nВторая строка, исправленная.")
    }

    @Test func markersShowTheBaseAndBothSides() {
        let ana = replacing("12 March", "13 March")
        let bek = replacing("outside the court", "inside the court") + "\nAdded by Bek."
        let (text, conflicts) = TextMerge.marked(base: Self.base, versions: [ana, bek], labels: ["1: ana", "2: bek"])
        #expect(conflicts == 1)
        #expect(text.hasPrefix("""
            <<<<<<< 1: ana
            On 13 March 2024 police detained Zhanar outside the court. She was held for six hours.
            ||||||| base
            On 12 March 2024 police detained Zhanar outside the court. She was held for six hours.
            =======
            On 12 March 2024 police detained Zhanar inside the court. She was held for six hours.
            >>>>>>> 2: bek

            Her lawyer
            """))
        #expect(text.hasSuffix("давлении.\nAdded by Bek."))
        #expect(TextMerge.markerLine(in: text) == 1)
        #expect(TextMerge.markerLine(in: "fine\n=======x\n") == nil)
        #expect(TextMerge.markerLine(in: "fine\n>>>>>>> 2: bek\n") == 2)
        // A line of the texts themselves is not a marker.
        #expect(TextMerge.markerLine(in: "Title\n=======\n", known: ["Title\n=======\n"]) == nil)
    }

    @Test func threeWayMarkersLabelEverySide() {
        let versions = [replacing("six", "seven"), replacing("six", "eight"), replacing("six", "nine")]
        let (text, conflicts) = TextMerge.marked(base: Self.base, versions: versions, labels: ["1", "2", "3"])
        #expect(conflicts == 1)
        #expect(text.contains("<<<<<<< 1\n") && text.contains("======= 2\n") && text.contains("======= 3\n") && text.contains(">>>>>>> end of conflict\n"))
    }

    @Test func wordDiffShowsWhatChangedInALine() {
        let hunks = TextDiff.hunks(Self.base, replacing("12 March", "13 March"))
        #expect(hunks.count == 1)
        #expect(hunks.first?.oldLine == 1)
        #expect(TextDiff.inline(hunks[0].runs) == "On [-12-]{+13+} March 2024 police detained Zhanar …")
    }
}
