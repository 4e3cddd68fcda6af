import Foundation
import GRDB
import Shared

/// The rows of an import, read and checked, waiting to be written. Rows with the same natural key (review and
/// paragraph number) merge into one record: lists are joined, and any other field keeps its first value.
struct ImportBatch {
    struct Item {
        var values: [String: FieldValue]
        /// The record id an `id` column gave.
        var id: String?
        /// The review and paragraph that identify a recommendation, when keyed.
        var key: String?
        var line: Int
    }

    let keyed: Bool
    let review: String?
    private(set) var items: [Item] = []
    private var byKey: [String: Int] = [:]

    init(keyed: Bool, review: String?) {
        self.keyed = keyed
        self.review = review
    }

    mutating func add(_ values: [String: FieldValue], id: String?, line: Int) {
        let key = keyed && id == nil ? Self.key(values) : nil
        guard let key, let index = byKey[key] else {
            if let key { byKey[key] = items.count }
            items.append(Item(values: values, id: id, key: key, line: line))
            return
        }
        items[index].values = Self.merged(items[index].values, values)
    }

    /// `review|paragraph`, or nil when the row has no paragraph number.
    static func key(_ values: [String: FieldValue]) -> String? {
        guard let paragraph = values["paragraph"].map(plain), !paragraph.isEmpty else { return nil }
        return (values["review"].map(plain) ?? "") + "|" + paragraph
    }

    static func plain(_ value: FieldValue) -> String {
        switch value {
        case .text(let text), .reference(let text), .date(let text): text
        default: value.displayText
        }
    }

    private static func merged(_ first: [String: FieldValue], _ second: [String: FieldValue]) -> [String: FieldValue] {
        var merged = first
        for (field, value) in second {
            switch (merged[field], value) {
            case (nil, _): merged[field] = value
            case (.list(let a)?, .list(let b)): merged[field] = .list(CellReader.unique(a + b))
            case (.references(let a)?, .references(let b)): merged[field] = .references(CellReader.unique(a + b))
            default: break
            }
        }
        return merged
    }
}

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

/// Takes apart what the UN writes in a recommendation's text cell.
enum UNRecommendation {
    /// `140.7 Ratify ... (Maldives) (Portugal);` + `Source of Position: ...` -> paragraph, text, recommending
    /// states and source of position, each filling its field unless the row gave it in a column of its own.
    static func takeApart(_ values: inout [String: FieldValue], cells: CellReader) {
        guard case .text(let raw)? = values["text"] else { return }
        let stateField = cells.collection.field("recommending_state")
        let states = stateField.flatMap { cells.matcher(for: $0) }
        let parsed = RecommendationText.parse(raw, isState: { states?.term($0) != nil })
        guard parsed.paragraph != nil || !parsed.states.isEmpty || parsed.sourceOfPosition != nil else { return }
        values["text"] = .text(parsed.text)
        if values["paragraph"] == nil, let paragraph = parsed.paragraph { values["paragraph"] = .text(paragraph) }
        if let stateField, !parsed.states.isEmpty {
            let had: [String] = if case .list(let items)? = values[stateField.name] { items } else { [] }
            values[stateField.name] = .list(cells.normalised(had.isEmpty ? parsed.states : had, field: stateField))
        }
        if let source = parsed.sourceOfPosition, cells.collection.field("source_of_position") != nil, values["source_of_position"] == nil {
            values["source_of_position"] = .text(source)
        }
    }
}
