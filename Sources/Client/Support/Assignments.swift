import ArgumentParser
import Foundation
import GRDB
import Shared

/// `--set FIELD=VALUE` and `--where FIELD=VALUE` arguments.
enum Assignments {
    /// Checks the shape of `FIELD=VALUE` before anything else (a wrong command line).
    static func validateShape(_ items: [String], option: String) throws {
        for item in items where !item.contains("=") || item.hasPrefix("=") {
            throw ValidationError("\(option) takes FIELD=VALUE, not '\(item)'")
        }
    }

    /// Splits at the first `=`.
    static func split(_ item: String) -> (field: String, value: String) {
        let index = item.firstIndex(of: "=")!
        return (String(item[..<index]), String(item[item.index(after: index)...]))
    }

    /// Reads values by their fields' types; references may be typed as unique id prefixes.
    static func parse(_ items: [String], unsets: [String] = [], collection: String, schema: Schema, _ db: Database) throws -> [String: FieldValue] {
        let collectionSchema = try schema.requireCollection(collection)
        var values: [String: FieldValue] = [:]
        for item in items {
            let (field, text) = split(item)
            guard values[field] == nil else { throw ClientError("field '\(field)' is set twice: give each field once") }
            values[field] = try value(text, field: field, collection: collectionSchema, schema: schema, db)
        }
        for field in unsets {
            _ = try schema.requireField(field, in: collectionSchema)
            guard values[field] == nil else { throw ClientError("field '\(field)' is both set and unset: choose one") }
            values[field] = .unset
        }
        return values
    }

    /// One value of one field.
    static func value(_ text: String, field: String, collection: CollectionSchema, schema: Schema, _ db: Database) throws -> FieldValue {
        let fieldSchema = try schema.requireField(field, in: collection)
        switch fieldSchema.type {
        case .reference:
            let id = text.trimmingCharacters(in: .whitespaces)
            let value = FieldValue.reference(try RecordRef.find(id, db).id)
            try schema.validate(value, collection: collection.name, field: field)
            return value
        case .references:
            let ids = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let value = FieldValue.references(try ids.map { try RecordRef.find($0, db).id })
            try schema.validate(value, collection: collection.name, field: field)
            return value
        default:
            return try schema.parse(text, collection: collection.name, field: field)
        }
    }
}
