import Foundation
import Shared

/// An incident description as researchers write it (paragraphs of sentences, in English and
/// Russian, names with combining marks), and the edits they make to one: for merge tests and the
/// benchmark. The same seed gives the same text and edits.
package struct NarrativeText: Sendable, Equatable {
    /// Paragraphs of sentences.
    package var paragraphs: [[String]]

    /// The text: sentences joined by a space, paragraphs by a blank line.
    package var text: String { paragraphs.map { $0.joined(separator: " ") }.joined(separator: "\n\n") }

    /// A text read back into paragraphs (at blank lines) and sentences (after `. `): `text` gives it back exactly.
    package init(parsing text: String) {
        paragraphs = text.components(separatedBy: "\n\n").map { paragraph in
            let pieces = paragraph.components(separatedBy: ". ")
            return pieces.enumerated().map { $0.offset < pieces.count - 1 ? $0.element + "." : $0.element }
        }
    }

    /// Paragraphs of sentences.
    package init(paragraphs: [[String]]) {
        self.paragraphs = paragraphs
    }

    /// A text of `paragraphs` paragraphs of 3 to 7 sentences.
    package static func random(paragraphs count: Int, using random: inout SplitMix64) -> NarrativeText {
        NarrativeText(paragraphs: (0..<count).map { _ in
            (0..<Int.random(in: 3...7, using: &random)).map { _ in sentence(using: &random) }
        })
    }

    /// About `pages` pages of 3,000 characters.
    package static func pages(_ pages: Int, using random: inout SplitMix64) -> NarrativeText {
        var text = NarrativeText(paragraphs: [])
        while text.text.utf8.count < pages * 3_000 { text.paragraphs.append((0..<5).map { _ in sentence(using: &random) }) }
        return text
    }

    static let names = ["Zhanar Abdi\u{0301}rova", "Айгу\u{0308}ль Сарсенова", "José Marti\u{0301}nez", "Ерла\u{0301}н Касымов", "Dana Nurlanqyzy", "Ольга Ивано\u{0301}ва"]
    static let places = ["Almaty", "Астана", "Shymkent", "Караганда", "the district court", "the regional police station"]
    static let templates = [
        "On {d} March 2024 police detained {n} outside {p}.",
        "{n} told the monitors that officers took her phone and did not return it.",
        "The hearing was postponed to {d} April without explanation.",
        "Witnesses said that about {k} people had gathered near {p} by noon.",
        "Her lawyer was not allowed to attend the interrogation, which lasted {k} hours.",
        "Задержание произошло {d} марта у здания суда в городе {p}.",
        "Свидетели сообщили, что около {k} человек собрались на площади!",
        "Адвокат {n} не был допущен к допросу, который длился {k} часов.",
        "Was the warrant shown? {n} says it was not.",
        "The family filed a complaint with {p} on {d} May; no answer has come (as of June).",
    ]
    static let words = ["quickly", "reportedly", "later", "formally", "again", "позже", "снова", "официально"]

    static func sentence(using random: inout SplitMix64) -> String {
        var text = templates.randomElement(using: &random)!
        text = text.replacingOccurrences(of: "{n}", with: names.randomElement(using: &random)!)
        text = text.replacingOccurrences(of: "{p}", with: places.randomElement(using: &random)!)
        text = text.replacingOccurrences(of: "{d}", with: String(Int.random(in: 1...28, using: &random)))
        return text.replacingOccurrences(of: "{k}", with: String(Int.random(in: 2...400, using: &random)))
    }

    /// The edits researchers make.
    package enum Edit: String, CaseIterable, Sendable {
        case fixNumber, fixWord, rewriteSentence, insertSentence, appendSentence, deleteSentence, insertParagraph, deleteParagraph
    }

    /// Applies `edit` at paragraph `p`, sentence `s` (both wrapped into range).
    package mutating func apply(_ edit: Edit, paragraph p: Int, sentence s: Int, using random: inout SplitMix64) {
        guard !paragraphs.isEmpty else {
            paragraphs = [[Self.sentence(using: &random)]]
            return
        }
        let p = p % paragraphs.count
        if paragraphs[p].isEmpty { paragraphs[p] = [Self.sentence(using: &random)] }
        let s = s % paragraphs[p].count
        switch edit {
        case .fixNumber: paragraphs[p][s] = Self.changingNumber(paragraphs[p][s], using: &random)
        case .fixWord: paragraphs[p][s] = Self.insertingWord(paragraphs[p][s], using: &random)
        case .rewriteSentence: paragraphs[p][s] = Self.sentence(using: &random)
        case .insertSentence: paragraphs[p].insert(Self.sentence(using: &random), at: s)
        case .appendSentence: paragraphs[p].append(Self.sentence(using: &random))
        case .deleteSentence where paragraphs[p].count > 1: paragraphs[p].remove(at: s)
        case .deleteSentence: paragraphs[p][s] = Self.sentence(using: &random)
        case .insertParagraph: paragraphs.insert([Self.sentence(using: &random), Self.sentence(using: &random)], at: p)
        case .deleteParagraph where paragraphs.count > 1: paragraphs.remove(at: p)
        case .deleteParagraph: paragraphs[p] = [Self.sentence(using: &random)]
        }
    }

    /// A random edit anywhere.
    package mutating func randomEdit(using random: inout SplitMix64) {
        apply(Edit.allCases.randomElement(using: &random)!, paragraph: Int.random(in: 0..<1_000, using: &random),
              sentence: Int.random(in: 0..<1_000, using: &random), using: &random)
    }

    static func changingNumber(_ sentence: String, using random: inout SplitMix64) -> String {
        var words = sentence.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if let index = words.firstIndex(where: { $0.first?.isNumber == true }) {
            words[index] = String(Int.random(in: 29...999, using: &random)) + words[index].drop { $0.isNumber }
            return words.joined(separator: " ")
        }
        return insertingWord(sentence, using: &random)
    }

    static func insertingWord(_ sentence: String, using random: inout SplitMix64) -> String {
        var words = sentence.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        words.insert(Self.words.randomElement(using: &random)!, at: Int.random(in: 1...max(1, words.count - 1), using: &random))
        return words.joined(separator: " ")
    }
}
