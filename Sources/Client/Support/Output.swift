import Foundation
import Shared

/// Writing to stdout and stderr, and the JSON shapes of the contract.
enum Output {
    /// A line on stdout; on a terminal, with control characters shown visibly (`TerminalText`).
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((forTerminal(text, TerminalText.stdoutIsTerminal) + "\n").utf8))
    }

    /// A message for people on stderr; on a terminal, with control characters shown visibly.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((forTerminal(text, TerminalText.stderrIsTerminal) + "\n").utf8))
    }

    /// `text` as written to a terminal when `terminal`, else unchanged (a pipe or file gets the bytes).
    static func forTerminal(_ text: String, _ terminal: Bool) -> String {
        terminal ? TerminalText.visible(text) : text
    }

    /// A value as JSON on stdout: sorted keys, UTF-8 unescaped.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// ISO-8601 with milliseconds, in UTC.
    static func iso(_ millis: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

/// A field value in the contract's JSON: a string, number, boolean, or array of strings (a files
/// field: its files' SHA-256s, which `files`, `fetch` and `extract` take).
struct JSONValue: Encodable {
    let value: FieldValue

    init(_ value: FieldValue) { self.value = value }

    private enum SealedKeys: String, CodingKey { case sealed }

    func encode(to encoder: Encoder) throws {
        // A sensitive value this replica cannot open (docs/security.md, "Sensitive fields").
        if value.isSealed {
            var sealed = encoder.container(keyedBy: SealedKeys.self)
            return try sealed.encode(true, forKey: .sealed)
        }
        var container = encoder.singleValueContainer()
        switch value {
        case .text(let s), .date(let s), .reference(let s): try container.encode(s)
        case .integer(let n): try container.encode(n)
        case .bool(let b): try container.encode(b)
        case .list(let items), .references(let items): try container.encode(items)
        case .files(let files): try container.encode(files.map(\.sha256))
        case .unset: try container.encodeNil()
        }
    }
}

/// `show` and `list` entries.
struct RecordJSON: Encodable {
    let id: String
    let collection: String
    let fields: [String: JSONValue]
    let pending: Bool?
    let conflicts: [String]?
    let deleted: Bool?
    /// Reference fields whose target this replica does not have (deleted elsewhere, say).
    let dangling: [String]?
    /// The groups a restricted record is restricted to (`show --json` only; absent: the whole team's).
    var access: [String]?

    init(_ view: RecordView, detailed: Bool) {
        id = view.id
        collection = view.collection
        fields = view.fields.mapValues(JSONValue.init)
        pending = detailed ? view.pending : nil
        conflicts = detailed ? view.conflictFields : nil
        deleted = detailed ? !view.visible : nil
        dangling = detailed ? view.danglingFields : nil
    }
}
