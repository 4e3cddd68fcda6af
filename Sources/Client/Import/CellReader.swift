import Foundation
import Shared

/// Reads import cells as field values, with every vocabulary's matcher built once for the whole import.
struct CellReader {
    /// A cell the schema refuses, with the values no term matched (for the summary of unknown values).
    struct Refusal: Error {
        var message: String
        var unknown: [String] = []
    }

    let schema: Schema
    let collection: CollectionSchema
    /// `--map FIELD:VALUE=TERM`, by field, keyed by the value's folded form.
    let maps: [String: [String: String]]
    private let matchers: [String: TermMatcher]
    /// An `enum_list` field whose items the field's vocabulary does not know but the UN's list of themes does
    /// go to the list field that keeps the UN's themes (`themes` -> `un_themes`), instead of being refused.
    private let overflow: [String: FieldSchema]
    /// What vocabulary and list cells read as, by field and cell: real files repeat the same few states, themes
    /// and responses on every row, and a cell is matched once, not folded and looked up again on each row.
    private var memo: [String: [String: Read]] = [:]
    /// The most cells remembered per field: enough for any vocabulary, and a bound for free lists.
    static let memoLimit = 4096

    init(schema: Schema, collection: CollectionSchema, maps: [String: [String: String]]) {
        self.schema = schema
        self.collection = collection
        self.maps = maps
        var matchers: [String: TermMatcher] = [:]
        for field in collection.fields {
            if let name = field.vocabulary, matchers[name] == nil, let vocabulary = schema.vocabulary(name) {
                matchers[name] = TermMatcher(vocabulary)
            }
        }
        self.matchers = matchers
        var overflow: [String: FieldSchema] = [:]
        for field in collection.fields where field.type == .enumList {
            if let keeper = collection.field("un_" + field.name), keeper.type == .list, keeper.vocabulary != nil { overflow[field.name] = keeper }
        }
        self.overflow = overflow
    }

    /// The matcher of a field's vocabulary, if it has one.
    func matcher(for field: FieldSchema) -> TermMatcher? { field.vocabulary.flatMap { matchers[$0] } }

    /// What a cell reads as.
    struct Read {
        var value: FieldValue
        /// Items it passes to another field (see `overflow`).
        var spill: (field: String, items: [String])?
        /// Items of an `enum_list` cell that no vocabulary knows, kept as written in the field `overflow` names.
        var unlisted: [String] = []
    }

    /// A cell as the value of `field`; what an enum or list cell reads as is remembered (it depends on nothing else).
    mutating func value(_ text: String, field: FieldSchema, editor: LocalEditor) throws -> Read {
        switch field.type {
        case .enum, .enumList, .list: break
        default: return try read(text, field: field, editor: editor)
        }
        if let known = memo[field.name]?[text] { return known }
        let read = try read(text, field: field, editor: editor)
        if memo[field.name, default: [:]].count < Self.memoLimit { memo[field.name, default: [:]][text] = read }
        return read
    }

    private func read(_ text: String, field: FieldSchema, editor: LocalEditor) throws -> Read {
        let value: FieldValue
        switch field.type {
        case .enum:
            let item = mapped(text, field)
            guard let term = matcher(for: field)?.term(item) else { throw unknownTerms([item], field) }
            value = .text(term.id)
        case .enumList:
            let read = try enumList(text, field: field)
            try schema.validate(read.value, collection: collection.name, field: field.name)
            return read
        case .list:
            let known: (String) -> Bool = { self.matcher(for: field)?.term($0) != nil }
            value = .list(normalised(items(text, known: known).map { mapped($0, field) }, field: field))
        // Text and whole numbers directly: `Schema.parse` trims through Foundation, a cost on every cell of an import.
        case .text, .longText: value = .text(mapped(text, field))
        case .integer:
            guard let number = Int64(text) else { return Read(value: try editor.value(text, field: field.name, collection: collection)) }
            value = .integer(number)
        case .reference: value = .reference(try editor.record(text).id)
        case .references: value = .references(try items(text, known: { _ in false }).map { try editor.record($0).id })
        default: return Read(value: try editor.value(mapped(text, field), field: field.name, collection: collection))
        }
        try schema.validate(value, collection: collection.name, field: field.name)
        return Read(value: value)
    }

    /// An `enum_list` cell: its items' term ids, the UN's themes among them for the field that keeps them, and,
    /// when there is such a field, items no list knows (kept there as written rather than refused).
    private func enumList(_ text: String, field: FieldSchema) throws -> Read {
        let keeper = overflow[field.name]
        let keeperMatcher = keeper.flatMap { self.matcher(for: $0) }
        let matcher = matcher(for: field)
        func known(_ item: String) -> Bool { matcher?.term(item) != nil || keeperMatcher?.term(item) != nil }
        var ids: [String] = [], kept: [String] = [], unknown: [String] = []
        for item in items(text, known: known).map({ mapped($0, field) }) {
            let term = matcher?.term(item)
            let uhri = keeperMatcher?.term(item)
            if let term { ids.append(term.id) }
            if let uhri { kept.append(uhri.label) }
            if term == nil && uhri == nil { unknown.append(item) }
        }
        guard unknown.isEmpty || keeper != nil else { throw unknownTerms(unknown, field) }
        var read = Read(value: .list(Self.unique(ids)), unlisted: unknown)
        if let keeper, !(kept + unknown).isEmpty { read.spill = (keeper.name, Self.unique(kept + unknown)) }
        return read
    }

    /// Fills an `enum_list` field from the list that keeps the UN's own terms (`un_themes` -> `themes`) with the
    /// terms they map to, when the row did not fill it itself.
    func derive(_ values: inout [String: FieldValue]) {
        for (target, keeper) in overflow where values[target] == nil {
            guard case .list(let items)? = values[keeper.name], let field = collection.field(target), let matcher = matcher(for: field) else { continue }
            let ids = Self.unique(items.compactMap { matcher.term($0)?.id })
            if !ids.isEmpty { values[target] = .list(ids) }
        }
    }

    /// Items of a list field written as the term's label when its vocabulary knows them (a state's UN name).
    func normalised(_ items: [String], field: FieldSchema) -> [String] {
        guard let matcher = matcher(for: field) else { return Self.unique(items) }
        return Self.unique(items.map { matcher.term($0)?.label ?? $0 })
    }

    /// A list cell's items: a JSON array, or items separated by commas, semicolons or lines. Pieces that
    /// together name a known term stay one item: `Economic, social & cultural rights - general measures of
    /// implementation` is one theme, and `Korea, Republic of` one state.
    func items(_ text: String, known: (String) -> Bool) -> [String] {
        if text.hasPrefix("["), let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) {
            return list.map { $0.trimmed }.filter { !$0.isEmpty }
        }
        if known(text) { return [text] }
        let parts = text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmed }.filter { !$0.isEmpty }
        guard parts.count > 1 else { return parts }
        var result: [String] = []
        var start = 0
        while start < parts.count {
            var end = start + 1
            for candidate in stride(from: parts.count, to: start + 1, by: -1) where known(parts[start..<candidate].joined(separator: ", ")) {
                end = candidate
                break
            }
            result.append(parts[start..<end].joined(separator: ", "))
            start = end
        }
        return result
    }

    /// `value` as `--map` rewrites it for `field`.
    private func mapped(_ value: String, _ field: FieldSchema) -> String {
        maps[field.name]?[Schema.foldedKey(value)] ?? value
    }

    private func unknownTerms(_ items: [String], _ field: FieldSchema) -> Refusal {
        let terms = matcher(for: field)?.vocabulary.terms.map(\.id).joined(separator: ", ") ?? ""
        let listed = items.map { "'\($0.prefix(60))'" }.joined(separator: ", ")
        return Refusal(message: "field '\(field.name)' of \(collection.name) takes one of \(terms), not \(listed) "
                           + "(map a value once with --map \(field.name):VALUE=TERM)", unknown: items)
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
