import Foundation
import GRDB
import Shared

extension CSVImporter {
    /// Writes the batch: a row with an `id` or the natural key of an existing record updates that record
    /// (only the cells that differ), any other row adds one, through the bulk path (`BulkWriter`).
    func write(_ batch: ImportBatch, editor: inout LocalEditor, result: inout Result) throws {
        var existing = batch.keyed ? try existingKeys(editor.db) : [:]
        var writer = try BulkWriter(editor)
        for (index, item) in batch.items.enumerated() {
            do {
                var match = item.id ?? item.key.flatMap { existing[$0] }
                // A record imported before without its review is adopted (once) by the row that now names it.
                if match == nil, let key = item.key, let unlinked = ImportBatch.unlinkedKey(key), let orphan = existing.removeValue(forKey: unlinked) {
                    match = orphan
                    existing[key] = orphan
                }
                if let id = match {
                    switch try writer.put(record: id, collection: collection, values: item.values, editor: &editor) {
                    case .added: result.imported += 1
                    case .changed: result.updated += 1
                    case .unchanged: result.unchanged += 1
                    }
                } else {
                    let id = try writer.add(collection: collection, values: item.values, access: access, editor: &editor)
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

    /// The natural keys (`review|paragraph`, or `review|#text`) of the collection's records, to their ids.
    private func existingKeys(_ db: Database) throws -> [String: String] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT record.id AS id, paragraph.value AS paragraph, review.value AS review,
                   CASE WHEN paragraph.value IS NULL THEN text.value END AS text FROM record
            LEFT JOIN current paragraph ON paragraph.record_key = record.key AND paragraph.field = 'paragraph'
            LEFT JOIN current review ON review.record_key = record.key AND review.field = 'review'
            LEFT JOIN current text ON text.record_key = record.key AND text.field = 'text'
            WHERE record.collection = ? AND record.visible
            """, arguments: [collection])
        var keys: [String: String] = [:]
        for row in rows {
            var values: [String: FieldValue] = [:]
            if let paragraph: String = row["paragraph"] { values["paragraph"] = try StorageText.decodeValue(paragraph) }
            if let text: String = row["text"] { values["text"] = try StorageText.decodeValue(text) }
            if let review: String = row["review"] { values["review"] = try StorageText.decodeValue(review) }
            if let key = ImportBatch.key(values) { keys[key, default: row["id"]] = row["id"] }
        }
        return keys
    }
}
