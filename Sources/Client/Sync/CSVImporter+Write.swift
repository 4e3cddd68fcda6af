import Foundation
import GRDB
import Shared

extension CSVImporter {
    /// Writes the batch: a row with an `id` or the natural key of an existing record updates that record
    /// (only the cells that differ), any other row adds one.
    func write(_ batch: ImportBatch, editor: inout LocalEditor, result: inout Result) throws {
        var existing = batch.keyed ? try existingKeys(editor.db) : [:]
        for (index, item) in batch.items.enumerated() {
            do {
                if let id = item.id ?? item.key.flatMap({ existing[$0] }) {
                    switch try editor.put(record: id, collection: collection, values: item.values) {
                    case .added: result.imported += 1
                    case .changed: result.updated += 1
                    case .unchanged: result.unchanged += 1
                    }
                } else {
                    let id = try editor.add(collection: collection, values: item.values)
                    if let key = item.key { existing[key] = id }
                    result.imported += 1
                }
            } catch {
                let message = (error as? ClientError)?.message ?? (error as? SchemaError)?.message ?? "\(error)"
                guard skipInvalid else {
                    throw ClientError("line \(item.line) of \(path): \(message); nothing was imported (fix the row, or use --skip-invalid)")
                }
                result.skipped.append(Problem(line: item.line, message: message))
            }
            if index % 500 == 0 { progress.update("importing into \(collection)", done: index, total: batch.items.count) }
        }
    }

    /// The natural keys (`review|paragraph`) of the collection's records, to their ids.
    private func existingKeys(_ db: Database) throws -> [String: String] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT record.id AS id, paragraph.value AS paragraph, review.value AS review FROM record
            JOIN current paragraph ON paragraph.record_key = record.key AND paragraph.field = 'paragraph'
            LEFT JOIN current review ON review.record_key = record.key AND review.field = 'review'
            WHERE record.collection = ? AND record.visible
            """, arguments: [collection])
        var keys: [String: String] = [:]
        for row in rows {
            var values: [String: FieldValue] = [:]
            values["paragraph"] = try StorageText.decodeValue(row["paragraph"])
            if let review: String = row["review"] { values["review"] = try StorageText.decodeValue(review) }
            if let key = ImportBatch.key(values) { keys[key, default: row["id"]] = row["id"] }
        }
        return keys
    }
}
