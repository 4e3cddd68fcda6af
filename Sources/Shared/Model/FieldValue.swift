import Foundation

/// A typed value of one field. `unset` removes the field's value.
package enum FieldValue: Hashable, Sendable {
    case text(String)
    case integer(Int64)
    /// A calendar date, `YYYY-MM-DD`.
    case date(String)
    case bool(Bool)
    case list([String])
    /// The id of another record.
    case reference(String)
    case references([String])
    /// Attached files, by content hash (docs/protocol.md, "Evidence files").
    case files([FileRef])
    case unset

    /// The type tag used on the wire.
    package var kind: String {
        switch self {
        case .text: "text"
        case .integer: "integer"
        case .date: "date"
        case .bool: "bool"
        case .list: "list"
        case .reference: "reference"
        case .references: "references"
        case .files: "files"
        case .unset: "unset"
        }
    }

    /// Whether the value is a boolean.
    package var isBool: Bool {
        if case .bool = self { return true }
        return false
    }

    /// Whether the value removes the field.
    package var isUnset: Bool { self == .unset }

    /// The value as a user types it on the command line (lists comma-separated).
    package var displayText: String {
        switch self {
        case .text(let s), .date(let s), .reference(let s): s
        case .integer(let n): String(n)
        case .bool(let b): b ? "true" : "false"
        case .list(let items), .references(let items): items.joined(separator: ",")
        case .files(let files): files.map(\.name).joined(separator: ",")
        case .unset: "(unset)"
        }
    }
}

extension FieldValue: Codable {
    private enum CodingKeys: String, CodingKey { case type, value }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text": self = .text(try container.decode(String.self, forKey: .value))
        case "integer": self = .integer(try container.decode(Int64.self, forKey: .value))
        case "date":
            let text = try container.decode(String.self, forKey: .value)
            guard CalendarDate(text) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "'\(text.prefix(40))' is not a date (YYYY-MM-DD)")
            }
            self = .date(text)
        case "bool": self = .bool(try container.decode(Bool.self, forKey: .value))
        case "list": self = .list(try container.decode([String].self, forKey: .value))
        case "reference": self = .reference(try container.decode(String.self, forKey: .value))
        case "references": self = .references(try container.decode([String].self, forKey: .value))
        case "files": self = .files(try container.decode([FileRef].self, forKey: .value))
        case "unset": self = .unset
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container,
                debugDescription: "unknown value type '\(type.prefix(40))' (expected text, integer, date, bool, list, reference, references, files or unset)")
        }
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .type)
        switch self {
        case .text(let s), .date(let s), .reference(let s): try container.encode(s, forKey: .value)
        case .integer(let n): try container.encode(n, forKey: .value)
        case .bool(let b): try container.encode(b, forKey: .value)
        case .list(let items), .references(let items): try container.encode(items, forKey: .value)
        case .files(let files): try container.encode(files, forKey: .value)
        case .unset: break
        }
    }
}

/// A calendar date `YYYY-MM-DD`, checked for a real day of a real month.
package struct CalendarDate: Hashable, Sendable {
    package let year: Int
    package let month: Int
    package let day: Int

    /// Parses `YYYY-MM-DD`; nil unless it names a real day.
    package init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let y = Int(text.prefix(4)), let m = Int(text.dropFirst(5).prefix(2)), let d = Int(text.suffix(2)),
              bytes.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (48...57).contains($0.element) }),
              (1...12).contains(m), d >= 1, d <= CalendarDate.days(inMonth: m, year: y)
        else { return nil }
        year = y; month = m; day = d
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
