import Foundation

/// The types a field can have.
package enum FieldType: String, Codable, Sendable, CaseIterable {
    case text
    /// Free text that may span lines.
    case longText = "long_text"
    case integer
    case date
    case bool
    /// One term of a vocabulary.
    case `enum`
    /// Several terms of a vocabulary.
    case enumList = "enum_list"
    /// Several free-text items.
    case list
    /// The id of a record in another collection.
    case reference
    /// Several record ids.
    case references
    /// Attached files (`FileRef`s): content by SHA-256, set with `casebook attach`.
    case files
}

/// A named list of terms with stable ids and English labels.
package struct Vocabulary: Codable, Sendable, Hashable {
    /// One term.
    package struct Term: Codable, Sendable, Hashable {
        /// The stable id stored in records.
        package var id: String
        /// The English label shown to people.
        package var label: String
        /// Other words for it that an import accepts (`Accepted` for `supported`, a UN theme, a Russian label),
        /// compared by `Schema.foldedKey`; empty when the schema gives none.
        package var aliases: [String]
        /// Retired by a later schema version: kept for the values that use it, refused for new
        /// ones, left out of prompts.
        package var deprecated: Bool

        private enum CodingKeys: String, CodingKey { case id, label, aliases, deprecated }

        /// A term; `aliases` default to none.
        package init(id: String, label: String, aliases: [String] = [], deprecated: Bool = false) {
            self.id = id
            self.label = label
            self.aliases = aliases
            self.deprecated = deprecated
        }

        package init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            label = try c.decode(String.self, forKey: .label)
            // Schemas stored before terms had aliases have no key.
            aliases = try c.decodeIfPresent([String].self, forKey: .aliases) ?? []
            deprecated = try c.decodeIfPresent(Bool.self, forKey: .deprecated) ?? false
        }

        package func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(label, forKey: .label)
            // No key when there are none, so a schema without term aliases encodes as it did before they existed.
            if !aliases.isEmpty { try c.encode(aliases, forKey: .aliases) }
            if deprecated { try c.encode(true, forKey: .deprecated) }
        }
    }

    /// The vocabulary's name, as fields refer to it.
    package var name: String
    /// Its terms in display order.
    package var terms: [Term]

    /// Whether `id` is one of the terms.
    package func contains(_ id: String) -> Bool { terms.contains { $0.id == id } }
}

/// One field of a collection.
package struct FieldSchema: Codable, Sendable, Hashable {
    package var name: String
    package var type: FieldType
    /// A new record must set it.
    package var required: Bool
    /// For `enum` and `enum_list`: the vocabulary's name. A `list` may name one too: an import then writes an item
    /// that matches a term as the term's label (a state's UN name), and keeps any other item as typed.
    package var vocabulary: String?
    /// For `reference` and `references`: the collection the ids must belong to.
    package var collection: String?
    /// A sentence for people.
    package var description: String?
    /// Other names a CSV column may give the field, compared by `Schema.matchingKey`; empty when the schema gives none.
    package var aliases: [String]
    /// Retired by a later schema version (a field is never removed): its values stay in records and
    /// history, it takes no new ones, and `add` and `edit` no longer offer it.
    package var deprecated: Bool
    /// Encrypted end to end with the project's key: the server stores and merges only sealed values (`SealedValue`).
    package var sensitive: Bool

    private enum CodingKeys: String, CodingKey { case name, type, required, vocabulary, collection, description, aliases, deprecated, sensitive }

    /// A field; optional parts default to nil, `required`, `deprecated` and `sensitive` to false and `aliases` to none.
    package init(name: String, type: FieldType, required: Bool = false, vocabulary: String? = nil,
                 collection: String? = nil, description: String? = nil, aliases: [String] = [], deprecated: Bool = false,
                 sensitive: Bool = false) {
        self.name = name
        self.type = type
        self.required = required
        self.vocabulary = vocabulary
        self.collection = collection
        self.description = description
        self.aliases = aliases
        self.deprecated = deprecated
        self.sensitive = sensitive
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(FieldType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        vocabulary = try c.decodeIfPresent(String.self, forKey: .vocabulary)
        collection = try c.decodeIfPresent(String.self, forKey: .collection)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        // Schemas stored before fields had aliases have no key.
        aliases = try c.decodeIfPresent([String].self, forKey: .aliases) ?? []
        deprecated = try c.decodeIfPresent(Bool.self, forKey: .deprecated) ?? false
        sensitive = try c.decodeIfPresent(Bool.self, forKey: .sensitive) ?? false
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode(required, forKey: .required)
        try c.encodeIfPresent(vocabulary, forKey: .vocabulary)
        try c.encodeIfPresent(collection, forKey: .collection)
        try c.encodeIfPresent(description, forKey: .description)
        // No key when there are none, so a schema without aliases encodes as it did before they existed.
        if !aliases.isEmpty { try c.encode(aliases, forKey: .aliases) }
        if deprecated { try c.encode(true, forKey: .deprecated) }
        if sensitive { try c.encode(true, forKey: .sensitive) }
    }
}

/// One collection: a kind of record and its fields.
package struct CollectionSchema: Codable, Sendable, Hashable {
    package var name: String
    /// The field that names a record for people (shown in lists and conflicts).
    package var titleField: String
    package var fields: [FieldSchema]
    /// Fields that only make sense together: edited together, in conflict together (none when the schema gives none).
    package var groups: [FieldGroup]

    private enum CodingKeys: String, CodingKey { case name, titleField = "title_field", fields, groups }

    /// A collection with its title field, fields and groups.
    package init(name: String, titleField: String, fields: [FieldSchema], groups: [FieldGroup] = []) {
        self.name = name
        self.titleField = titleField
        self.fields = fields
        self.groups = groups
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        titleField = try c.decode(String.self, forKey: .titleField)
        fields = try c.decode([FieldSchema].self, forKey: .fields)
        // Schemas stored before groups existed have no key.
        groups = try c.decodeIfPresent([FieldGroup].self, forKey: .groups) ?? []
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(titleField, forKey: .titleField)
        try c.encode(fields, forKey: .fields)
        // No key when there are none, so a schema without groups encodes as it did before they existed.
        if !groups.isEmpty { try c.encode(groups, forKey: .groups) }
    }

    /// The group `field` belongs to, if any.
    package func group(of field: String) -> FieldGroup? { groups.first { $0.fields.contains(field) } }

    /// The field called `name`, if any.
    package func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }
}

/// A project's schema: its collections, fields and vocabularies.
package struct Schema: Codable, Sendable, Hashable {
    /// The schema's name, e.g. `upr`.
    package var name: String
    /// Its version: a project starts with the schema it was created with, and `casebook-server
    /// project schema` replaces it with a higher version that keeps its data valid (`SchemaEvolution`).
    package var version: Int
    package var collections: [CollectionSchema]
    package var vocabularies: [Vocabulary]
    /// The collections `casebook report` reads; nil when the schema has no `report` section.
    package var report: ReportRoles?

    /// A schema from its parts (call `check()` before using it).
    package init(name: String, version: Int, collections: [CollectionSchema], vocabularies: [Vocabulary], report: ReportRoles? = nil) {
        self.name = name
        self.version = version
        self.collections = collections
        self.vocabularies = vocabularies
        self.report = report
    }

    /// The collection called `name`, if any.
    package func collection(_ name: String) -> CollectionSchema? { collections.first { $0.name == name } }

    /// The vocabulary called `name`, if any.
    package func vocabulary(_ name: String) -> Vocabulary? { vocabularies.first { $0.name == name } }

    /// Decodes a schema from JSON and checks it.
    package static func fromJSON(_ data: Data) throws -> Schema {
        let schema: Schema
        do {
            schema = try JSONDecoder().decode(Schema.self, from: data)
        } catch let error as DecodingError {
            throw SchemaError(message: "the schema file is not valid: \(DecodingErrorText.describe(error))")
        }
        try schema.check()
        return schema
    }

    /// The schema as pretty, stable JSON.
    package func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Checks that the schema is consistent: unique names, known vocabularies and collections,
    /// title fields that exist, no field using a reserved name, column aliases that name one field
    /// each, and report roles that name collections it defines.
    package func check() throws(SchemaError) {
        var seen = Set<String>()
        for collection in collections {
            guard Schema.isValidName(collection.name) else {
                throw SchemaError(message: "collection name '\(collection.name)' is not valid: use lower-case letters, digits and _")
            }
            guard seen.insert(collection.name).inserted else {
                throw SchemaError(message: "collection '\(collection.name)' is defined twice")
            }
            var fieldNames = Set<String>()
            for field in collection.fields {
                guard Schema.isValidName(field.name) else {
                    throw SchemaError(message: "field name '\(collection.name).\(field.name)' is not valid: use lower-case letters, digits and _, not starting with _")
                }
                guard fieldNames.insert(field.name).inserted else {
                    throw SchemaError(message: "field '\(collection.name).\(field.name)' is defined twice")
                }
                switch field.type {
                case .enum, .enumList:
                    guard let name = field.vocabulary, vocabulary(name) != nil else {
                        throw SchemaError(message: "field '\(collection.name).\(field.name)' needs a vocabulary that the schema defines")
                    }
                case .reference, .references:
                    guard let name = field.collection, collections.contains(where: { $0.name == name }) else {
                        throw SchemaError(message: "field '\(collection.name).\(field.name)' needs a collection that the schema defines")
                    }
                case .list:
                    if let name = field.vocabulary, vocabulary(name) == nil {
                        throw SchemaError(message: "field '\(collection.name).\(field.name)' names vocabulary '\(name)', which the schema does not define")
                    }
                default: break
                }
                // The server reads a files value (which content to keep, who may fetch it): it cannot be sealed.
                if field.sensitive && field.type == .files {
                    throw SchemaError(message: "field '\(collection.name).\(field.name)' holds files, which cannot be sensitive")
                }
            }
            guard fieldNames.contains(collection.titleField) else {
                throw SchemaError(message: "collection '\(collection.name)' names title field '\(collection.titleField)', which it does not have")
            }
            try Schema.checkAliases(of: collection)
            try Schema.checkGroups(of: collection)
        }
        try report?.check(in: self)
        var vocabularyNames = Set<String>()
        for vocabulary in vocabularies {
            guard vocabularyNames.insert(vocabulary.name).inserted else {
                throw SchemaError(message: "vocabulary '\(vocabulary.name)' is defined twice")
            }
            guard Set(vocabulary.terms.map(\.id)).count == vocabulary.terms.count else {
                throw SchemaError(message: "vocabulary '\(vocabulary.name)' has a term id twice")
            }
            try TermMatcher.checkAliases(of: vocabulary)
        }
    }

    /// Names of collections and fields: `[a-z][a-z0-9_]*`, at most 64 characters.
    package static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (97...122).contains(first), name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "_") }
    }
}

/// A schema problem or a value the schema refuses, with a message that says what to do.
package struct SchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong and what to do.
    package var message: String
    /// The field concerned, when there is one.
    package var field: String?

    /// An error with an optional field.
    package init(message: String, field: String? = nil) {
        self.message = message
        self.field = field
    }

    package var description: String { message }
}

/// Turns `DecodingError`s into one line that names the field.
package enum DecodingErrorText {
    /// A human-readable line for a decoding error.
    package static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the document" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let context):
            let at = path(context)
            return "\(at == "the document" ? "" : at + ": ")missing '\(key.stringValue)'"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "the document could not be read"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Int32.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "a list" : name.hasPrefix("Dictionary") ? "an object" : "a value of type \(name)"
        }
    }
}
