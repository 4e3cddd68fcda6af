import Foundation

extension Schema {
    /// The form in which names people type are compared (CSV columns, field names, aliases, vocabulary terms):
    /// lower case, `_` and `-` read as spaces, surrounding spaces dropped and runs of spaces as one.
    package static func matchingKey(_ name: String) -> String {
        name.lowercased().trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
            .split(separator: " ").joined(separator: " ")
    }

    /// Refuses an alias that could not say which field a column means: one that is empty, reads as `id`
    /// (the column of record ids), or matches another field's name or alias. An alias equal to its own
    /// field's name is harmless.
    static func checkAliases(of collection: CollectionSchema) throws(SchemaError) {
        var owners: [String: String] = [:]
        for field in collection.fields where owners[matchingKey(field.name)] == nil {
            owners[matchingKey(field.name)] = field.name
        }
        for field in collection.fields {
            for alias in field.aliases {
                let key = matchingKey(alias)
                let at = "alias '\(alias)' of field '\(collection.name).\(field.name)'"
                guard !key.isEmpty else { throw SchemaError(message: "\(at) is empty: remove it") }
                guard key != "id" else {
                    throw SchemaError(message: "\(at) reads as 'id', the column of record ids: remove it")
                }
                if let owner = owners[key], owner != field.name {
                    throw SchemaError(message: "\(at) is also the name or an alias of field '\(collection.name).\(owner)', "
                        + "so a column called so would mean either: remove it from one of them")
                }
                owners[key] = field.name
            }
        }
    }
}

extension CollectionSchema {
    /// The field that a CSV column called `column` fills, by the field's name or one of its aliases.
    package func field(forColumn column: String) -> FieldSchema? {
        let key = Schema.matchingKey(column)
        return fields.first { Schema.matchingKey($0.name) == key }
            ?? fields.first { $0.aliases.contains { Schema.matchingKey($0) == key } }
    }
}
