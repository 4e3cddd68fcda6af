import Foundation
@testable import Shared

/// JSON as a tree, written out in any of the ways a client may write it: keys in any order,
/// whitespace between tokens, characters of strings escaped or not, optional keys absent or null,
/// and keys the types do not know. Independent of both readers under test and of our writers.
indirect enum JSONText {
    case object([(String, JSONText)])
    case array([JSONText])
    case string(String)
    /// A number as written, so that edge forms (`-0`, the limits) can be spelled out.
    case number(String)
    case bool(Bool)
    case null

    static func integer<T: BinaryInteger>(_ value: T) -> JSONText { .number(String(value)) }

    // MARK: Writing

    /// The tree as JSON, written in a style chosen by `random`.
    func render(_ random: inout SeededGenerator) -> Data {
        var out: [UInt8] = []
        write(&out, &random)
        return Data(out)
    }

    private func write(_ out: inout [UInt8], _ random: inout SeededGenerator) {
        space(&out, &random)
        switch self {
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (index, pair) in pairs.shuffled(using: &random).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space(&out, &random)
                // Keys as written: the fast reader leaves escaped keys to JSONDecoder (FastJSONEdgeCaseTests).
                out += Array(("\"" + pair.0 + "\"").utf8)
                space(&out, &random)
                out.append(UInt8(ascii: ":"))
                pair.1.write(&out, &random)
            }
            space(&out, &random)
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(&out, &random)
            }
            space(&out, &random)
            out.append(UInt8(ascii: "]"))
        case .string(let text): Self.write(text, &out, &random)
        case .number(let text): out += Array(text.utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        }
        space(&out, &random)
    }

    private func space(_ out: inout [UInt8], _ random: inout SeededGenerator) {
        guard Int.random(in: 0..<4, using: &random) == 0 else { return }
        out += Array([" ", "\n", "\t", "\r\n", "  "].randomElement(using: &random)!.utf8)
    }

    /// A string with each character written as it is, or escaped (`\uXXXX` in either case, with
    /// surrogate pairs beyond the Basic Multilingual Plane, or the short escapes).
    private static func write(_ text: String, _ out: inout [UInt8], _ random: inout SeededGenerator) {
        out.append(UInt8(ascii: "\""))
        let short: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "\u{08}": "\\b", "\u{0C}": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "/": "\\/"]
        for scalar in text.unicodeScalars {
            let mustEscape = scalar == "\"" || scalar == "\\" || scalar.value < 0x20
            let roll = Int.random(in: 0..<6, using: &random)
            if !mustEscape && roll > 1 {
                out += Array(String(scalar).utf8)
            } else if let escape = short[scalar], roll != 0 {
                out += Array(escape.utf8)
            } else {
                let upper = Bool.random(using: &random)
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16, uppercase: upper)
                    out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: The wire types as trees

    /// An object with optional keys (nil: left out, or written as null) and a few unknown keys.
    static func object(_ pairs: [(String, JSONText?)], _ random: inout SeededGenerator) -> JSONText {
        var kept: [(String, JSONText)] = pairs.compactMap { key, value in
            if let value { return (key, value) }
            return Bool.random(using: &random) ? (key, .null) : nil
        }
        for index in 0..<Int.random(in: 0...2, using: &random) where Int.random(in: 0..<3, using: &random) == 0 {
            kept.append(("x_unknown\(index)", unknown(&random, depth: 0)))
        }
        return .object(kept)
    }

    /// Any value, as a client may add under a key the types do not know.
    static func unknown(_ random: inout SeededGenerator, depth: Int) -> JSONText {
        let numbers = ["0", "-0", "12", "-3.25", "1e9", "6.02E+23", "1.5e-7", "18446744073709551616", "-0.0"]
        switch Int.random(in: 0..<(depth < 3 ? 7 : 5), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(numbers.randomElement(using: &random)!)
        case 3: return .string(WireCodecTests.randomText(&random))
        case 4: return .array([])
        case 5: return .array((0..<Int.random(in: 1...3, using: &random)).map { _ in unknown(&random, depth: depth + 1) })
        default:
            return .object((0..<Int.random(in: 0...3, using: &random)).map { ("k\($0)", unknown(&random, depth: depth + 1)) })
        }
    }

    static func value(_ value: FieldValue, _ random: inout SeededGenerator) -> JSONText {
        let payload: JSONText? = switch value {
        case .text(let s), .date(let s), .reference(let s): .string(s)
        case .integer(let n): .integer(n)
        case .bool(let b): .bool(b)
        case .list(let items), .references(let items): .array(items.map(JSONText.string))
        case .files(let files):
            .array(files.map { object([("sha256", .string($0.sha256)), ("name", .string($0.name)),
                                       ("size", .integer($0.size)), ("mime", .string($0.mime))], &random) })
        case .unset: nil
        }
        return .object([("type", .string(value.kind))] + (payload.map { [("value", $0)] } ?? []))
    }

    static func hlcs(_ list: [HLC]) -> JSONText { .array(list.map { .string($0.text) }) }

    static func change(_ change: Change, _ random: inout SeededGenerator) -> JSONText {
        object([
            ("collection", .string(change.collection)), ("record", .string(change.record)), ("field", .string(change.field)),
            ("value", value(change.value, &random)), ("hlc", .string(change.hlc.text)),
            ("author", change.author.isEmpty && Bool.random(using: &random) ? nil : .string(change.author)),
            ("base", change.base.map { .string($0.text) }),
            ("supersedes", change.supersedes.isEmpty && Bool.random(using: &random) ? nil : hlcs(change.supersedes)),
            ("covers", change.covers.isEmpty && Bool.random(using: &random) ? nil : hlcs(change.covers)),
        ], &random)
    }

    static func logged(_ logged: Wire.LoggedChange, _ random: inout SeededGenerator) -> JSONText {
        object([("seq", .integer(logged.seq)), ("receivedAt", .integer(logged.receivedAt)), ("change", change(logged.change, &random))], &random)
    }

    static func conflictState(_ state: Wire.ConflictState, _ random: inout SeededGenerator) -> JSONText {
        let conflict = state.conflict
        let versions: [JSONText] = conflict.versions.map { version in
            object([("hlc", .string(version.hlc.text)), ("value", value(version.value, &random)),
                    ("author", .string(version.author)), ("covers", hlcs(version.covers))], &random)
        }
        return object([("open", .bool(state.open)), ("conflict", object([
            ("id", .string(conflict.id)), ("collection", .string(conflict.collection)), ("record", .string(conflict.record)),
            ("field", .string(conflict.field)), ("versions", .array(versions)),
        ], &random))], &random)
    }
}
