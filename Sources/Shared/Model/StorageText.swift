import Foundation

/// The text forms stores use for values and lists of timestamps (server and replica alike).
///
/// A value is a one-letter type tag, a colon, and the payload: `t:text`, `i:42`, `d:2025-01-23`,
/// `b:1`, `r:ID`, `u:` for unset, for lists `l:` / `R:` followed by a JSON array of strings, and for files
/// `f:` followed by a JSON array of `FileRef` objects.
/// Scalars need no escaping and no JSON coder, which keeps the hot paths of push and pull cheap.
package enum StorageText {
    /// A value as stored text.
    package static func encode(_ value: FieldValue) -> String {
        switch value {
        case .text(let s): "t:" + s
        case .integer(let n): "i:" + String(n)
        case .date(let s): "d:" + s
        case .bool(let b): b ? "b:1" : "b:0"
        case .reference(let s): "r:" + s
        case .list(let items): jsonArray(items, tag: "l:")
        case .references(let items): jsonArray(items, tag: "R:")
        case .files(let files): "f:" + filesJSON(files)
        case .unset: "u:"
        }
    }

    /// A value from its stored text.
    package static func decodeValue(_ text: String) throws -> FieldValue {
        let utf8 = text.utf8
        guard utf8.count >= 2, let tag = utf8.first, utf8[utf8.index(after: utf8.startIndex)] == UInt8(ascii: ":") else {
            throw DamagedData(text: text)
        }
        let payload = String(text.dropFirst(2))
        switch tag {
        case UInt8(ascii: "t"): return .text(payload)
        case UInt8(ascii: "i"):
            guard let n = Int64(payload) else { throw DamagedData(text: text) }
            return .integer(n)
        case UInt8(ascii: "d"): return .date(payload)
        case UInt8(ascii: "b"): return .bool(payload == "1")
        case UInt8(ascii: "r"): return .reference(payload)
        case UInt8(ascii: "l"): return .list(try decodeArray(payload, original: text))
        case UInt8(ascii: "R"): return .references(try decodeArray(payload, original: text))
        case UInt8(ascii: "f"):
            guard let files = try? JSONDecoder().decode([FileRef].self, from: Data(payload.utf8)) else { throw DamagedData(text: text) }
            return .files(files)
        case UInt8(ascii: "u"): return .unset
        default: throw DamagedData(text: text)
        }
    }

    /// `tag` followed by the items as a JSON array.
    private static func jsonArray(_ items: [String], tag: String) -> String {
        // Items with nothing to escape are written as they are: exactly what `JSONEncoder` writes
        // for them, without its cost (this runs for every list value a sync stores), into one
        // string of the right size. Anything else goes through `JSONEncoder`, so the stored text
        // never depends on which path ran.
        let plain = items.allSatisfy { item in
            item.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") && $0 != 0x7F }
        }
        guard plain else { return tag + ((try? String(decoding: JSONEncoder().encode(items), as: UTF8.self)) ?? "[]") }
        var text = tag
        text.reserveCapacity(items.reduce(tag.utf8.count + 2) { $0 + $1.utf8.count + 3 })
        text.append("[")
        for (index, item) in items.enumerated() {
            if index > 0 { text.append(",") }
            text.append("\"")
            text.append(item)
            text.append("\"")
        }
        text.append("]")
        return text
    }

    /// Files as a JSON array of objects with sorted keys, so equal values store as equal text.
    private static func filesJSON(_ files: [FileRef]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(files), as: UTF8.self)) ?? "[]"
    }

    private static func decodeArray(_ payload: String, original: String) throws -> [String] {
        // The fast reader first: this runs for every list value a store reads (a page of the server,
        // a replica's records), where `JSONDecoder` would make a decoder and go through the generic
        // coding machinery for each. It accepts nothing `JSONDecoder` refuses; what it does not read
        // goes to `JSONDecoder`.
        var payload = payload
        let fast: [String]? = payload.withUTF8 { utf8 in
            var reader = FastJSONReader(utf8)
            guard let items = try? reader.readStringArray(), reader.atEnd() else { return nil }
            return items
        }
        if let fast { return fast }
        guard let items = try? JSONDecoder().decode([String].self, from: Data(payload.utf8)) else { throw DamagedData(text: original) }
        return items
    }

    /// Timestamps as comma-separated text, nil for none.
    package static func encode(_ hlcs: [HLC]) -> String? {
        hlcs.isEmpty ? nil : hlcs.map(\.text).joined(separator: ",")
    }

    /// Timestamps from comma-separated text.
    package static func decodeHLCs(_ text: String?) throws -> [HLC] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { try decodeHLC(String($0)) }
    }

    /// One timestamp from its text, or an error naming the damaged value.
    package static func decodeHLC(_ text: String) throws -> HLC {
        guard let hlc = HLC(text: text) else { throw DamagedData(text: text) }
        return hlc
    }

    /// Stored text that is not what it should be.
    package struct DamagedData: Error, CustomStringConvertible {
        package let text: String
        package var description: String { "the database holds a damaged value '\(text.prefix(60))'" }
    }
}

/// A change's columns as every store keeps them (the server's SQLite and PostgreSQL stores and the
/// replica): one place that says which field is stored in which text form, both ways.
package struct StoredChange: Sendable {
    package var hlc: String
    package var collection: String
    package var record: String
    package var field: String
    package var value: String
    package var author: String
    package var base: String?
    package var supersedes: String?
    package var covers: String?

    package init(_ change: Change) {
        hlc = change.hlc.text
        collection = change.collection
        record = change.record
        field = change.field
        value = StorageText.encode(change.value)
        author = change.author
        base = change.base?.text
        supersedes = StorageText.encode(change.supersedes)
        covers = StorageText.encode(change.covers)
    }

    package init(hlc: String, collection: String, record: String, field: String, value: String, author: String,
                 base: String?, supersedes: String?, covers: String?) {
        self.hlc = hlc
        self.collection = collection
        self.record = record
        self.field = field
        self.value = value
        self.author = author
        self.base = base
        self.supersedes = supersedes
        self.covers = covers
    }

    /// The change these columns hold; throws when a column is not in its stored form.
    package func change() throws -> Change {
        Change(collection: collection, record: record, field: field, value: try StorageText.decodeValue(value),
               hlc: try StorageText.decodeHLC(hlc), author: author, base: try base.map(StorageText.decodeHLC),
               supersedes: try StorageText.decodeHLCs(supersedes), covers: try StorageText.decodeHLCs(covers))
    }
}
