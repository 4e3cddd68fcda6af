import Foundation

/// How alike two recommendations' texts are, to find one that repeats an earlier cycle's.
///
/// The measure: the Jaccard index of their content words (folded by `Schema.foldedKey`, words of three letters
/// or more, without the verbs and fillers every recommendation starts with: `ratify`, `consider`, `continue`,
/// `take`, `measures`, ...). A state's recommendations repeat in other words (`Ratify the Optional Protocol to
/// the Convention against Torture` / `Consider ratifying the Optional Protocol to the Convention against
/// Torture`), so the threshold is a half: what two texts share is at least half of all the content words they use.
///
/// Why a half, on Slovenia's real lists (OHCHR's thematic lists of UPR 20, 34 and 48 in full: 163, 215 and 254
/// recommendations): of the 334 recommendations that share a recommending state with one of an earlier cycle,
/// 9 score 0.5 or more with their best earlier match, and each of those 9 asks for the same thing again (the
/// enforced-disappearance convention, the Optional Protocol to the ICESCR, defamation as a civil offence, the
/// Croatian community's status, ...); 14 score 0.3 to 0.5, 6 of them a repeat worded at greater length and 8 a
/// different request on a related subject; the other 311 score under 0.3. A false link tells a reader that a
/// state was asked the same thing twice, a claim in a report meant for the UN; a missed one can be set by hand
/// (`casebook edit ID --set repeats=...`). So the threshold takes none of the false ones and misses a few true ones.
package enum TextSimilarity {
    /// The index above which two texts by the same state are taken as the same recommendation.
    package static let threshold = 0.5

    /// Words that say how, not what.
    static let fillers: Set<String> = [
        "the", "and", "for", "with", "its", "all", "that", "this", "into", "from", "their", "such", "including", "order",
        "ratify", "ratifying", "ratification", "consider", "considering", "continue", "continuing", "take", "taking", "further",
        "ensure", "ensuring", "strengthen", "strengthening", "efforts", "measures", "necessary", "steps", "adopt", "adopting",
        "accede", "acceding", "accession", "step", "promote", "effective", "effectively", "implement", "implementation",
        "process", "complete", "possibility", "view", "increase", "enhance", "redouble", "intensify", "pursue",
    ]

    /// The content words of `text`.
    package static func words(_ text: String) -> Set<String> {
        let folded = Schema.foldedKey(text)
        var words = Set<String>()
        for word in folded.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) where word.count >= 3 {
            let word = String(word)
            if !fillers.contains(word) { words.insert(word) }
        }
        return words
    }

    /// The Jaccard index of two sets of content words (0 when both are empty).
    package static func score(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 0 : Double(a.intersection(b).count) / Double(union)
    }
}
