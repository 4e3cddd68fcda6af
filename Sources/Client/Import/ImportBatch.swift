import Foundation
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

    /// `review|paragraph`; for a row without a paragraph number (UPR Info's exports have none), `review|#text` with
    /// the text folded; nil when it has neither.
    static func key(_ values: [String: FieldValue]) -> String? {
        let review = values["review"].map(plain) ?? ""
        if let paragraph = values["paragraph"].map(plain), !paragraph.isEmpty { return review + "|" + paragraph }
        guard let text = values["text"].map(plain), !text.isEmpty else { return nil }
        return review + "|#" + Schema.foldedKey(text)
    }

    /// The key the same row had before it was linked to a review (`|paragraph`), to adopt a record imported unlinked.
    static func unlinkedKey(_ key: String) -> String? {
        guard let bar = key.firstIndex(of: "|"), bar != key.startIndex else { return nil }
        return String(key[bar...])
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
