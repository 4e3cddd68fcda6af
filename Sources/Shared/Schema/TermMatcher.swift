import Foundation

/// Finds the term a word people or the UN wrote means, by id, label or alias, through a table built once.
///
/// Every key is `Schema.foldedKey`, so `Türkiye`, `turkiye`, `TÜRKIYE` and `Turkey` (an alias) find one term,
/// and so do `Women’s rights` and `Women's rights`. Building the table once per import is what keeps a large
/// import fast: comparing each cell with every term, folded afresh, made a row with a two-theme cell 7 times slower.
package struct TermMatcher: Sendable {
    /// The vocabulary matched against.
    package let vocabulary: Vocabulary
    private let ids: [String: Int]

    /// A matcher for `vocabulary`.
    package init(_ vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        var ids: [String: Int] = [:]
        // Ids first, then labels, then aliases: an earlier kind wins a clash.
        for (index, term) in vocabulary.terms.enumerated() { ids[Schema.foldedKey(term.id), default: index] = index }
        for (index, term) in vocabulary.terms.enumerated() { ids[Schema.foldedKey(term.label), default: index] = index }
        for (index, term) in vocabulary.terms.enumerated() {
            for alias in term.aliases { ids[Schema.foldedKey(alias), default: index] = index }
        }
        self.ids = ids
    }

    /// The term `text` names, if any.
    package func term(_ text: String) -> Vocabulary.Term? {
        ids[Schema.foldedKey(text)].map { vocabulary.terms[$0] }
    }

    /// Refuses an alias that is empty or that another term also answers to (by id, label or alias).
    static func checkAliases(of vocabulary: Vocabulary) throws(SchemaError) {
        var owners: [String: String] = [:]
        for term in vocabulary.terms {
            for key in [Schema.foldedKey(term.id), Schema.foldedKey(term.label)] where owners[key] == nil { owners[key] = term.id }
        }
        for term in vocabulary.terms {
            for alias in term.aliases {
                let key = Schema.foldedKey(alias)
                let at = "alias '\(alias)' of term '\(vocabulary.name).\(term.id)'"
                guard !key.isEmpty else { throw SchemaError(message: "\(at) is empty: remove it") }
                if let owner = owners[key], owner != term.id {
                    throw SchemaError(message: "\(at) also names term '\(owner)': remove it from one of them")
                }
                owners[key] = term.id
            }
        }
    }
}

extension Schema {
    /// The form in which vocabulary words are compared: Unicode compatibility-normalised, without case or
    /// diacritics, curly quotes as straight ones, `&` as `and`, `_` and `-` as spaces, runs of spaces as one,
    /// and no trailing `.` or `;`.
    package static func foldedKey(_ text: String) -> String {
        if let ascii = asciiFoldedKey(text) { return ascii }
        var folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        if folded.unicodeScalars.contains(where: { !$0.isASCII || $0 == "&" || $0 == "_" || $0 == "-" }) {
            folded = String(String.UnicodeScalarView(folded.unicodeScalars.flatMap { scalar -> [Unicode.Scalar] in
                switch scalar {
                case "\u{2019}", "\u{2018}", "\u{02BC}", "`", "\u{00B4}": ["'"]
                case "\u{201C}", "\u{201D}": ["\""]
                case "&": [" ", "a", "n", "d", " "]
                case "_", "-", "\u{2013}", "\u{2014}", "\u{00A0}": [" "]
                default: [scalar]
                }
            }))
        }
        var words = folded.split(whereSeparator: { $0.isWhitespace })
        if var last = words.popLast() {
            while let end = last.last, end == "." || end == ";" { last = last.dropLast() }
            if !last.isEmpty { words.append(last) }
        }
        return words.joined(separator: " ")
    }

    /// `foldedKey` of plain ASCII text without Foundation, which most cells are: an import folds each of them.
    private static func asciiFoldedKey(_ text: String) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        var space = false
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "_"), UInt8(ascii: "-"), 0x0B, 0x0C:
                space = !out.isEmpty
            case UInt8(ascii: "&"):
                if !out.isEmpty { out.append(UInt8(ascii: " ")) }
                out += Array("and".utf8)
                space = true
            default:
                if space { out.append(UInt8(ascii: " ")) }
                space = false
                out.append((65...90).contains(byte) ? byte + 32 : byte)
            }
        }
        while let last = out.last, last == UInt8(ascii: ".") || last == UInt8(ascii: ";") { out.removeLast() }
        while out.last == UInt8(ascii: " ") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// This schema with the term aliases `source` gives for terms it has too (same vocabulary name and term id)
    /// and has none for: a project created before terms had aliases reads `Accepted` or `Türkiye` all the same.
    package func withTermAliases(from source: Schema) -> Schema {
        var filled = self
        for v in filled.vocabularies.indices {
            guard let sourceVocabulary = source.vocabulary(filled.vocabularies[v].name) else { continue }
            for t in filled.vocabularies[v].terms.indices where filled.vocabularies[v].terms[t].aliases.isEmpty {
                let id = filled.vocabularies[v].terms[t].id
                filled.vocabularies[v].terms[t].aliases = sourceVocabulary.terms.first { $0.id == id }?.aliases ?? []
            }
        }
        // Aliases that clash with a project's own labels are not worth refusing its import: keep what it had.
        do { try filled.check() } catch { return self }
        return filled
    }
}
