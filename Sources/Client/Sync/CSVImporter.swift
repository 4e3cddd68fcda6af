import Foundation
import GRDB
import Shared

/// Imports a CSV file into a collection, streaming, in one transaction: all rows or none.
struct CSVImporter {
    let settings: ReplicaSettings
    let collection: String
    let path: String
    let skipInvalid: Bool
    let progress: ProgressLine

    struct Problem {
        var line: Int
        var message: String
    }

    struct Result {
        var imported = 0
        var skipped: [Problem] = []
        var ignoredColumns: [String] = []
    }

    func run(_ replica: Replica) async throws -> Result {
        // Columns match fields by name or by the aliases the project's schema gives.
        let schema = settings.schema.backfilled(from: .upr)
        let collectionSchema = try schema.requireCollection(collection)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let result = try await replica.edit(settings: settings) { editor in
            var reader = try CSVReader(path: path)
            let header: CSVReader.Record
            do {
                guard let first = try reader.next() else { throw ClientError("'\(path)' is empty: it needs a header row naming the fields") }
                header = first
            } catch let error as CSVReader.Malformed {
                throw ClientError("line \(error.line) of \(path): \(error.message)")
            }
            let mapping = try columns(header.cells, collectionSchema)
            var result = Result(ignoredColumns: mapping.ignored)
            while true {
                let record: CSVReader.Record
                do {
                    guard let next = try reader.next() else { break }
                    record = next
                } catch let error as CSVReader.Malformed {
                    throw ClientError("line \(error.line) of \(path): \(error.message); nothing was imported")
                }
                if record.cells.count == 1 && record.cells[0].isEmpty { continue }  // a blank line
                do {
                    guard record.cells.count == header.cells.count else {
                        throw ClientError("it has \(record.cells.count) columns but the header has \(header.cells.count)")
                    }
                    try importRow(record.cells, mapping: mapping, schema: schema, collectionSchema: collectionSchema, editor: &editor)
                    result.imported += 1
                } catch {
                    let message = (error as? ClientError)?.message ?? (error as? SchemaError)?.message ?? "\(error)"
                    guard skipInvalid else {
                        throw ClientError("line \(record.line) of \(path): \(message); nothing was imported (fix the row, or use --skip-invalid)")
                    }
                    result.skipped.append(Problem(line: record.line, message: message))
                }
                if result.imported % 500 == 0 {
                    progress.update("importing into \(collection)", done: reader.bytesRead / 1024, total: size.map { $0 / 1024 })
                }
            }
            return result
        }
        progress.finish()
        return result
    }

    private struct Mapping {
        var fields: [(column: Int, field: FieldSchema)]
        var idColumn: Int?
        var ignored: [String]
    }

    private func columns(_ header: [String], _ schema: CollectionSchema) throws -> Mapping {
        var mapping = Mapping(fields: [], idColumn: nil, ignored: [])
        var taken: [String: String] = [:]
        for (index, raw) in header.enumerated() {
            if Schema.matchingKey(raw) == "id" {
                mapping.idColumn = index
                continue
            }
            guard let field = schema.field(forColumn: raw) else {
                mapping.ignored.append(raw)
                continue
            }
            if let other = taken[field.name] {
                throw ClientError("columns '\(other)' and '\(raw)' both mean field '\(field.name)': keep one")
            }
            taken[field.name] = raw
            mapping.fields.append((index, field))
        }
        guard !mapping.fields.isEmpty else {
            throw ClientError("no column of the header names a field of \(schema.name) (\(schema.fields.map(\.name).joined(separator: ", ")))")
        }
        return mapping
    }

    private func importRow(_ cells: [String], mapping: Mapping, schema: Schema, collectionSchema: CollectionSchema,
                           editor: inout LocalEditor) throws {
        var values: [String: FieldValue] = [:]
        for (column, field) in mapping.fields {
            // A cell neutralised against formula injection by `export` reads as its value.
            let text = CSVWriter.unneutralised(cells[column]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            values[field.name] = try value(text, field: field, schema: schema, collection: collectionSchema, editor: editor)
        }
        let id = mapping.idColumn.map { cells[$0].trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if !id.isEmpty {
            guard RecordID.isValid(id) else { throw ClientError("the id '\(id.prefix(40))' is not a record id (32 characters 0-9a-f)") }
            try editor.put(record: id, collection: collection, values: values)
            return
        }
        _ = try editor.add(collection: collection, values: values)
    }

    /// A cell as a value: lists as JSON arrays or comma-separated; vocabulary terms by id or label, in any case.
    private func value(_ text: String, field: FieldSchema, schema: Schema, collection: CollectionSchema, editor: LocalEditor) throws -> FieldValue {
        func items() throws -> [String] {
            if text.hasPrefix("["), let data = text.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data) {
                return list
            }
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func term(_ raw: String) -> String {
            guard let vocabulary = field.vocabulary.flatMap(schema.vocabulary) else { return raw }
            let wanted = Schema.matchingKey(raw)
            return vocabulary.terms.first { Schema.matchingKey($0.id) == wanted || Schema.matchingKey($0.label) == wanted }?.id ?? raw
        }
        let value: FieldValue
        switch field.type {
        case .enum: value = .text(term(text))
        case .enumList: value = .list(try items().map(term))
        case .list: value = .list(try items())
        case .reference: value = .reference(try editor.record(text).id)
        case .references: value = .references(try items().map { try editor.record($0).id })
        default: return try editor.value(text, field: field.name, collection: collection)
        }
        try schema.validate(value, collection: collection.name, field: field.name)
        return value
    }
}
