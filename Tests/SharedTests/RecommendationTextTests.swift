import Foundation
import Testing
@testable import Shared

/// Taking apart recommendations as the UN writes them. The texts are from OHCHR's thematic lists of
/// recommendations for Slovenia (UPR 20, 34 and 48; see Tests/Fixtures/README.md for the sources).
@Suite struct RecommendationTextTests {
    let states = TermMatcher(Schema.upr.vocabulary("states")!)

    func parse(_ text: String) -> RecommendationText {
        RecommendationText.parse(text, isState: { states.term($0) != nil })
    }

    @Test func aJointRecommendationNamesEveryState() {
        let parsed = parse("""
            140.7 Ratify the Optional Protocol to the International Covenant on Economic, Social and Cultural Rights (Maldives) (Portugal);
            Source of Position: A/HRC/59/15/Add.1 - Para.3
            """)
        #expect(parsed.paragraph == "140.7")
        #expect(parsed.text == "Ratify the Optional Protocol to the International Covenant on Economic, Social and Cultural Rights")
        #expect(parsed.states == ["Maldives", "Portugal"])
        #expect(parsed.sourceOfPosition == "A/HRC/59/15/Add.1 - Para.3")
    }

    @Test func aParenthesisInTheTextStaysInTheText() {
        let parsed = parse("121.3 Ratify and implement the International Labour Organization’s 2014 Protocol to the Forced Labour Convention, 1930 (No. 29) (United Kingdom of Great Britain and Northern Ireland);")
        #expect(parsed.text.hasSuffix("1930 (No. 29)"))
        #expect(parsed.states == ["United Kingdom of Great Britain and Northern Ireland"])
    }

    @Test func statesListedInOneParenthesisWithNestedNames() {
        let parsed = parse("115.8 Ratify ICRMW (Senegal, Sierra Leone, Venezuela (Bolivarian Republic of),Peru, Uruguay);Source of position: A/HRC/28/15/Add.1 - Para. 5")
        #expect(parsed.paragraph == "115.8")
        #expect(parsed.text == "Ratify ICRMW")
        #expect(parsed.states == ["Senegal", "Sierra Leone", "Venezuela (Bolivarian Republic of)", "Peru", "Uruguay"])
        #expect(parsed.sourceOfPosition == "A/HRC/28/15/Add.1 - Para. 5")
    }

    @Test func twoRecommendationsUnderOneNumberKeepWhoAskedForWhat() {
        let parsed = parse("121.2 Complete the process of ratification of the Convention (Ukraine); Increase efforts towards ratification of the Convention (Slovakia);")
        #expect(parsed.states == ["Ukraine", "Slovakia"])
        #expect(parsed.text == "Complete the process of ratification of the Convention (Ukraine); Increase efforts towards ratification of the Convention")
    }

    @Test func textWithoutANumberLosesOnlyKnownStates() {
        #expect(parse("Guarantee inclusive education (in all regions)").text == "Guarantee inclusive education (in all regions)")
        #expect(parse("Guarantee inclusive education (in all regions)").states.isEmpty)
        #expect(parse("Abolish the death penalty (Türkiye).").states == ["Türkiye"])
    }

    @Test func stateNamesMatchWhateverTheSpelling() {
        for (typed, label) in [("Turkey", "Türkiye"), ("TURKIYE", "Türkiye"), ("Iran", "Iran (Islamic Republic of)"),
                               ("Islamic Republic of Iran", "Iran (Islamic Republic of)"), ("Vietnam", "Viet Nam"),
                               ("Venezuela", "Venezuela (Bolivarian Republic of)"), ("Bolivarian Republic of Venezuela", "Venezuela (Bolivarian Republic of)"),
                               ("Cote d’Ivoire", "Côte d'Ivoire"), ("Korea, Republic of", "Republic of Korea"),
                               // Unicode normalisation: a decomposed ü (u + combining diaeresis), as some PDF copies give it.
                               ("Tu\u{0308}rkiye", "Türkiye"), ("CO\u{0302}TE D'IVOIRE", "Côte d'Ivoire")] {
            #expect(states.term(typed)?.label == label, "\(typed)")
        }
    }

    @Test func responsesInTheWordsStatesUse() {
        let responses = TermMatcher(Schema.upr.vocabulary("response")!)
        for (typed, id) in [("Accepted", "supported"), ("Supported", "supported"), ("Rejected", "noted"), ("Noted", "noted"),
                            ("Partially supported", "supported_in_part"), ("Supported in part", "supported_in_part"),
                            ("Supported/Noted", "supported_in_part"), ("Поддержана", "supported"), ("Принята к сведению", "noted")] {
            #expect(responses.term(typed)?.id == id, "\(typed)")
        }
        #expect(responses.term("consider") == nil)
    }

    @Test func foldedKeysIgnoreCaseDiacriticsQuotesAndAmpersands() {
        #expect(Schema.foldedKey("Women’s  Rights.") == Schema.foldedKey("women's rights"))
        #expect(Schema.foldedKey("Economic, social & cultural rights") == "economic, social and cultural rights")
        #expect(Schema.foldedKey("Türkiye") == "turkiye")
    }

    @Test func theSourceOfPositionInAnyCaseAndOnlyWhenWritten() {
        for line in ["SOURCE OF POSITION: A/HRC/59/15/Add.1", "Source Of Position : A/HRC/59/15/Add.1", "source of position A/HRC/59/15/Add.1"] {
            let parsed = parse("140.7 Ratify the Convention (Maldives);\n\(line)")
            #expect(parsed.sourceOfPosition == "A/HRC/59/15/Add.1", "\(line)")
            #expect(parsed.text == "Ratify the Convention" && parsed.states == ["Maldives"], "\(line)")
        }
        #expect(parse("140.7 Ratify the source-of-position rules (Maldives)").sourceOfPosition == nil)
        #expect(parse("140.7 A position sourced elsewhere (Maldives)").sourceOfPosition == nil)
        // The byte search is a first pass: true whenever Foundation's case-insensitive search finds the words.
        for text in ["", "source of", "xSoUrCe Of PoSiTiOnx", "source\u{0}of position", "SOURCE OF POSİTION", "source of positio"] {
            if text.lowercased().contains("source of position") {
                #expect(RecommendationText.containsASCIIIgnoringCase(text, "source of position"), "\(text)")
            }
        }
        #expect(!RecommendationText.containsASCIIIgnoringCase("source of positio", "source of position"))
    }

    @Test func aParagraphNumberOnlyWhenWhitespaceFollowsIt() {
        #expect(parse("140.7. Ratify (Maldives)").paragraph == "140.7")
        #expect(parse("140.7\u{00A0}Ratify (Maldives)").paragraph == "140.7")
        #expect(parse("140.7Ratify (Maldives)").paragraph == nil)
        #expect(parse("140. Ratify (Maldives)").paragraph == nil)
        #expect(parse("140.7").paragraph == "140.7" && parse("140.7").text.isEmpty)
        #expect(parse("Ratify; (Maldives); ensure (Portugal)").text == "Ratify; (Maldives); ensure")
    }

    /// `split` (which reads ASCII by bytes) splits as the first version did, character by character.
    @Test func splittingByBytesOrCharactersGivesTheSameParts() {
        func reference(_ text: String, on separator: Character) -> [String] {
            var parts: [String] = [], current = "", depth = 0
            for character in text {
                if character == "(" { depth += 1 } else if character == ")" { depth = max(0, depth - 1) }
                if character == separator && depth == 0 {
                    parts.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            parts.append(current)
            return parts.map { $0.trimmed }.filter { !$0.isEmpty }
        }
        var generator = SplitMix64(seed: 22)
        let pieces = ["a", "Bc", " ", ";", ",", "(", ")", "\r\n", "\n", "\t", "é", "e\u{301}", ";\u{301}", "(\u{301}", "日本"]
        for round in 0..<2_000 {
            let asciiOnly = round % 2 == 0
            let text = (0..<Int.random(in: 0...24, using: &generator)).map { _ in
                asciiOnly ? pieces.prefix(9).randomElement(using: &generator)! : pieces.randomElement(using: &generator)!
            }.joined()
            for separator: Character in [";", ","] {
                #expect(RecommendationText.split(text, on: separator) == reference(text, on: separator), "\(text.debugDescription)")
            }
        }
    }

    @Test func theSchemaRefusesAnAliasTwoTermsAnswerTo() {
        var schema = Schema.upr
        let index = schema.vocabularies.firstIndex { $0.name == "response" }!
        schema.vocabularies[index].terms[0].aliases = ["Accepted"]
        #expect(throws: SchemaError.self) { try schema.check() }
    }
}

/// `trimmed`, whose fast path takes a text with a visible ASCII character at each end as it is.
@Suite struct TrimmedTests {
    @Test func trimsWhitespaceAndNewlinesOfEveryKindAndKeepsTheRest() {
        let cases: [(String, String)] = [
            ("Maldives", "Maldives"), ("  Maldives ", "Maldives"), ("\tViet Nam\r\n", "Viet Nam"), ("\r\n", ""), ("", ""),
            ("\u{00A0}Türkiye\u{2003}", "Türkiye"), ("\u{2028}a\u{0085}", "a"), ("Türkiye", "Türkiye"), ("é ", "é"),
            ("a\u{00A0}", "a"), ("\u{3000}b", "b"), ("x\u{0}", "x\u{0}"), ("\u{1F}x", "\u{1F}x"), ("a b", "a b"),
            ("e\u{301}", "e\u{301}"), ("\u{000B}v\u{000C}", "v"),
        ]
        for (text, expected) in cases {
            #expect(text.trimmed == expected, "\(text.debugDescription)")
            #expect(text[...].trimmed == expected, "\(text.debugDescription) as a substring")
        }
    }
}
