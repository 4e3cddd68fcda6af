import Foundation
import GRDB
import Shared

extension CSVImporter {
    /// Writes the batch: a row with an `id` or the natural key of an existing record updates that record
    /// (only the cells that differ), any other row adds one, through the bulk path (`BulkWriter`). While the
    /// database stores a chunk of rows, the next chunk is checked and encoded on another core
    /// (`BulkWriter.NewRecord`).
    func write(_ batch: ImportBatch, editor: inout LocalEditor, result: inout Result) throws {
        var existing = batch.keyed ? try existingKeys(editor.db) : [:]
        var writer = try BulkWriter(editor)
        let items = batch.items, schema = editor.schema, collection = collection, chunk = max(1, chunkSize), now = editor.now
        func prepared(_ range: Range<Int>) -> [BulkWriter.NewRecord] {
            items[range].map { BulkWriter.NewRecord(collection: collection, values: $0.values, schema: schema, now: now) }
        }
        var ready = prepared(0..<min(chunk, items.count))
        var start = 0
        while start < items.count {
            let end = min(start + chunk, items.count)
            var next: [BulkWriter.NewRecord] = []
            try TwoAtOnce.run(aside: { next = prepared(end..<min(end + chunk, items.count)) }, here: {
                for index in start..<end {
                    try write(items[index], ready[index - start], writer: &writer, existing: &existing, editor: &editor, result: &result)
                    if index % 500 == 0 { progress.update("importing into \(collection)", done: index, total: items.count) }
                }
            })
            ready = next
            start = end
        }
    }

    private func write(_ item: ImportBatch.Item, _ prepared: BulkWriter.NewRecord, writer: inout BulkWriter, existing: inout [String: String],
                       editor: inout LocalEditor, result: inout Result) throws {
        do {
            var match = item.id ?? item.key.flatMap { existing[$0] }
            // A record imported before without its review is adopted (once) by the row that now names it.
            if match == nil, let key = item.key, let unlinked = ImportBatch.unlinkedKey(key), let orphan = existing.removeValue(forKey: unlinked) {
                match = orphan
                existing[key] = orphan
            }
            if let id = match {
                switch try writer.put(record: id, collection: collection, values: item.values, prepared: prepared, editor: &editor) {
                case .added: result.imported += 1
                case .changed: result.updated += 1
                case .unchanged: result.unchanged += 1
                }
            } else {
                let id = try writer.add(prepared, access: access, editor: &editor)
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
