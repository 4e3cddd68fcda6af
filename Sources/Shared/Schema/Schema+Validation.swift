import Foundation

extension Schema {
    /// Limits on values, so that no single field can swamp a replica.
    package enum Limits {
        /// Longest `text` value, in characters.
        package static let textLength = 4_096
        /// Longest `long_text` value, in characters.
        package static let longTextLength = 1_000_000
        /// Most items in a list.
        package static let listItems = 1_000
        /// Longest list item, in characters.
        package static let itemLength = 1_024
        /// Bytes (UTF-8) a text may take per character of its limit: characters are grapheme clusters,
        /// so one letter with a million combining marks is one character; this bounds its bytes too.
        package static let bytesPerCharacter = 4
    }

    /// The collection called `name`, or an error that lists the collections there are.
    package func requireCollection(_ name: String) throws(SchemaError) -> CollectionSchema {
        guard let collection = collection(name) else {
            throw SchemaError(message: "unknown collection '\(name)': the project has \(collections.map(\.name).joined(separator: ", "))")
        }
        return collection
    }

    /// The field of a collection, or an error that lists its fields.
    package func requireField(_ field: String, in collection: CollectionSchema) throws(SchemaError) -> FieldSchema {
        guard let schema = collection.field(field) else {
            throw SchemaError(
                message: "unknown field '\(field)' in \(collection.name): its fields are \(collection.fields.map(\.name).joined(separator: ", "))",
                field: field)
        }
        return schema
    }

    /// Reads a value as a user types it (`--set FIELD=VALUE`): lists comma-separated, dates `YYYY-MM-DD`.
    package func parse(_ text: String, collection: String, field: String) throws(SchemaError) -> FieldValue {
        let collectionSchema = try requireCollection(collection)
        let fieldSchema = try requireField(field, in: collectionSchema)
        let value: FieldValue
        func items() -> [String] {
            text.split(separator: ",", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        switch fieldSchema.type {
        case .text, .longText, .enum: value = .text(text)
        case .integer:
            guard let n = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw SchemaError(message: "field '\(field)' of \(collection) takes a whole number, not '\(text.prefix(40))'", field: field)
            }
            value = .integer(n)
        case .date: value = .date(text.trimmingCharacters(in: .whitespaces))
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1": value = .bool(true)
            case "false", "no", "0": value = .bool(false)
            default: throw SchemaError(message: "field '\(field)' of \(collection) takes true or false, not '\(text.prefix(40))'", field: field)
            }
        case .enumList, .list: value = .list(items())
        case .reference: value = .reference(text.trimmingCharacters(in: .whitespaces).lowercased())
        case .references: value = .references(items().map { $0.lowercased() })
        case .files:
            throw SchemaError(message: "field '\(field)' of \(collection) holds files: attach them with 'casebook attach ID FILE...'", field: field)
        }
        let normalized = normalize(value, type: fieldSchema.type)
        try validate(normalized, collection: collection, field: field)
        return normalized
    }

    /// Brings a value to the form the field stores: enum text as an enum term, date text as a date.
    package func normalize(_ value: FieldValue, type: FieldType) -> FieldValue {
        switch (type, value) {
        case (.date, .text(let s)): .date(s)
        case (.reference, .text(let s)): .reference(s)
        case (.references, .list(let items)): .references(items)
        case (.enumList, .references(let items)), (.list, .references(let items)): .list(items)
        default: value
        }
    }

    /// Checks a value against its field; the error names the field and what it accepts.
    /// `refusingBidi`: short texts refuse reordering characters (what a push and a local edit
    /// get); a pulled change was accepted by the server, perhaps before that rule existed, so the
    /// client only shows them visibly.
    ///
    /// With `refusingDeprecated`, a deprecated field or term is refused: for a change made with the
    /// current schema. One made offline with an older version was valid then, and a deprecated field
    /// or term is not invalid now, only retired (docs/protocol.md, "Schema versions").
    package func validate(_ value: FieldValue, collection: String, field: String, refusingBidi: Bool = true,
                          refusingDeprecated: Bool = false) throws(SchemaError) {
        let collectionSchema = try requireCollection(collection)
        let fieldSchema = try requireField(field, in: collectionSchema)
        // The message is only built on failure: this runs for every pushed change.
        func fail(_ message: String) -> SchemaError { SchemaError(message: "field '\(field)' of \(collection) \(message)", field: field) }
        if refusingDeprecated && fieldSchema.deprecated {
            throw fail("is retired (schema version \(version)): it keeps its values but takes no new ones")
        }
        func checkText(_ s: String, limit: Int, multiline: Bool) throws(SchemaError) {
            if let problem = Self.textProblem(s, limit: limit, multiline: multiline) { throw fail(problem) }
            if !multiline, refusingBidi, let problem = Self.bidiProblem(s) { throw fail(problem) }
        }
        func checkItems(_ items: [String]) throws(SchemaError) {
            guard items.count <= Limits.listItems else { throw fail("has more than \(Limits.listItems) items") }
            for item in items { try checkText(item, limit: Limits.itemLength, multiline: false) }
        }
        func checkTerm(_ term: String) throws(SchemaError) { if let problem = termProblem(term, field: fieldSchema, refusingDeprecated: refusingDeprecated) { throw fail(problem) } }
        func checkID(_ id: String) throws(SchemaError) {
            guard RecordID.isValid(id) else {
                throw fail("takes the full id of a record in \(fieldSchema.collection ?? "another collection") (32 characters 0-9a-f), not '\(id.prefix(40))'")
            }
        }

        if value == .unset {
            if fieldSchema.required { throw fail("is required and cannot be unset") }
            return
        }
        switch (fieldSchema.type, value) {
        case (.text, .text(let s)):
            try checkText(s, limit: Limits.textLength, multiline: false)
            if fieldSchema.required && Self.isBlank(s) { throw fail("is required and cannot be empty") }
        case (.longText, .text(let s)):
            try checkText(s, limit: Limits.longTextLength, multiline: true)
            if fieldSchema.required && Self.isBlank(s) { throw fail("is required and cannot be empty") }
        case (.integer, .integer): break
        case (.date, .date(let s)):
            guard CalendarDate(s) != nil else { throw fail("takes a date as YYYY-MM-DD, not '\(s.prefix(40))'") }
        case (.bool, .bool): break
        case (.enum, .text(let s)): try checkTerm(s)
        case (.enumList, .list(let items)):
            try checkItems(items)
            for item in items { try checkTerm(item) }
        case (.list, .list(let items)): try checkItems(items)
        case (.reference, .reference(let id)): try checkID(id)
        case (.references, .references(let ids)):
            guard ids.count <= Limits.listItems else { throw fail("has more than \(Limits.listItems) items") }
            for id in ids { try checkID(id) }
        case (.files, .files(let files)):
            guard files.count <= Limits.listItems else { throw fail("has more than \(Limits.listItems) files") }
            var seen = Set<String>()
            for file in files {
                if let problem = file.problem { throw fail(problem) }
                guard seen.insert(file.sha256).inserted else { throw fail("lists the file \(file.sha256.prefix(12)) twice") }
            }
        default:
            throw fail("is of type \(fieldSchema.type.rawValue), not \(value.kind)")
        }
    }

    /// Why `term` is not a value of `field`'s vocabulary (or, with `refusingDeprecated`, a retired one), nil when it is.
    private func termProblem(_ term: String, field: FieldSchema, refusingDeprecated: Bool) -> String? {
        guard let vocabularyName = field.vocabulary, let vocabulary = vocabulary(vocabularyName) else { return nil }
        // Only on failure: this runs for every pushed term.
        func current() -> String { vocabulary.terms.filter { !$0.deprecated }.map(\.id).joined(separator: ", ") }
        guard let found = vocabulary.terms.first(where: { $0.id == term }) else {
            return "takes one of \(current()), not '\(term.prefix(60))'"
        }
        if refusingDeprecated && found.deprecated {
            return "no longer takes '\(term)' (retired, schema version \(version)): use one of \(current())"
        }
        return nil
    }

    /// Whether `s` is empty once `.whitespacesAndNewlines` are trimmed: all its scalars are Unicode `White_Space`
    /// (categories Zs, Zl and Zp, tab, U+000A-000D, U+0085) or U+200B, which Foundation's set still counts as a
    /// space. Without Foundation, which bridged each long text through `NSString` (a tenth of an import's time).
    static func isBlank(_ s: String) -> Bool {
        !s.unicodeScalars.contains { !$0.properties.isWhitespace && $0 != "\u{200B}" }
    }

    /// What is wrong with a text value, nil when nothing is; built only on failure (this runs for every pushed change).
    private static func textProblem(_ s: String, limit: Int, multiline: Bool) -> String? {
        let maxBytes = limit * Limits.bytesPerCharacter
        guard s.utf8.count <= maxBytes else { return "is longer than \(maxBytes) bytes in UTF-8 (\(limit) characters of at most 4 bytes each on average)" }
        // Counting characters means grapheme breaking: only do it when the bytes could exceed the limit.
        guard s.utf8.count <= limit || s.count <= limit else { return "is longer than \(limit) characters" }
        // Control characters (category Cc) are exactly U+0000-001F and U+007F-009F.
        let badScalar = s.unicodeScalars.first { scalar in
            let value = scalar.value
            let isControl = value < 0x20 || (value >= 0x7F && value <= 0x9F)
            let allowed = value == 0x09 || (multiline && (value == 0x0A || value == 0x0D))
            return isControl && !allowed
        }
        guard let badScalar else { return nil }
        return "contains the control character U+\(String(badScalar.value, radix: 16, uppercase: true)): remove it"
    }

    /// Checks a new record: every value valid and every required field set (and, with
    /// `refusingDeprecated`, no retired field or term: for edits made now, with this schema).
    package func validateNewRecord(collection: String, fields: [String: FieldValue], refusingDeprecated: Bool = false) throws(SchemaError) {
        let collectionSchema = try requireCollection(collection)
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
            try validate(value, collection: collection, field: field, refusingDeprecated: refusingDeprecated)
        }
        let missing = collectionSchema.fields.filter { $0.required && (fields[$0.name] ?? .unset) == .unset }.map(\.name)
        if !missing.isEmpty {
            throw SchemaError(
                message: "a new record in \(collection) needs \(missing.map { "'\($0)'" }.joined(separator: ", ")): add --set \(missing[0])=...",
                field: missing[0])
        }
    }

    /// Checks one change as a server or client would before storing it.
    package func validate(_ change: Change, refusingBidi: Bool = true, refusingDeprecated: Bool = false) throws(SchemaError) {
        if change.isDeletionMarker {
            _ = try requireCollection(change.collection)
            guard change.value.isBool else {
                throw SchemaError(message: "\(Change.deletedField) takes true or false", field: Change.deletedField)
            }
            return
        }
        if change.field == Change.accessField {
            _ = try requireCollection(change.collection)
            try Self.validateAccess(change.value)
            return
        }
        let fieldSchema = try requireField(change.field, in: try requireCollection(change.collection))
        if fieldSchema.sensitive {
            if refusingDeprecated && fieldSchema.deprecated {
                throw SchemaError(message: "field '\(change.field)' of \(change.collection) is retired (schema version \(version)): it keeps its values but takes no new ones",
                                  field: change.field)
            }
            return try Self.validateSealed(change.value, collection: change.collection, field: fieldSchema)
        }
        try validate(change.value, collection: change.collection, field: change.field, refusingBidi: refusingBidi,
                     refusingDeprecated: refusingDeprecated)
    }

    /// Checks a sensitive field's value as a server can: unset (unless required) or a well-formed sealed
    /// envelope, never plain text. What is inside is checked by the writer before it seals.
    package static func validateSealed(_ value: FieldValue, collection: String, field: FieldSchema) throws(SchemaError) {
        func fail(_ message: String) -> SchemaError { SchemaError(message: "field '\(field.name)' of \(collection) \(message)", field: field.name) }
        switch value {
        case .unset:
            if field.required { throw fail("is required and cannot be unset") }
        case .text(let text):
            guard text.utf8.count <= SealedValue.maxLength, SealedValue(text: text) != nil else {
                throw fail("is sensitive: it takes only a value sealed with the project's key (\(SealedValue.prefix)...), never plain text; update casebook")
            }
        default:
            throw fail("is sensitive: it takes only a value sealed with the project's key (a text value \(SealedValue.prefix)...), not \(value.kind)")
        }
    }
}

extension Schema {
    /// Checks an `_access` value: a list of group names (empty: the whole team), or unset.
    package static func validateAccess(_ value: FieldValue) throws(SchemaError) {
        switch value {
        case .unset: return
        case .list(let groups):
            guard groups.count <= 16 else {
                throw SchemaError(message: "\(Change.accessField) names at most 16 groups", field: Change.accessField)
            }
            if let bad = groups.first(where: { !AccessRule.isValidGroupName($0) }) {
                throw SchemaError(message: "'\(bad.prefix(64))' is not a group name: names are \(AccessRule.groupNameRule)", field: Change.accessField)
            }
        default:
            throw SchemaError(message: "\(Change.accessField) takes a list of group names", field: Change.accessField)
        }
    }
}
