import Foundation
import Testing
@testable import Shared

/// Hand-written JSON at the edges (escapes, surrogates, literals, numbers, structure), read by the
/// fast reader with the fallback off and by `JSONDecoder`: both read it the same or both refuse it,
/// except where a case names why only `JSONDecoder` reads it (then the fallback does).
@Suite struct FastJSONEdgeCaseTests {
    typealias Kind = FastJSONDifferentialTests.Kind

    enum Expected {
        /// Both read it, to the same value.
        case same
        /// Both refuse it.
        case refused
        /// Only `JSONDecoder` reads it, for the reason given; the fast reader leaves it to the fallback.
        case onlyJSONDecoder(String)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var kind: Kind
        var bytes: [UInt8]
        var expected: Expected
        var testDescription: String { String(String(decoding: bytes, as: UTF8.self).prefix(300)) }
    }

    static func pushTexts(_ list: [(String, Expected)]) -> [Case] {
        list.map { Case(kind: .pushRequest, bytes: push(text: $0.0), expected: $0.1) }
    }

    static func pulls(_ list: [([UInt8], Expected)]) -> [Case] {
        list.map { Case(kind: .pull, bytes: $0.0, expected: $0.1) }
    }

    static func documents(_ list: [(Kind, String, Expected)]) -> [Case] {
        list.map { Case(kind: $0.0, bytes: Array($0.1.utf8), expected: $0.2) }
    }

    /// A push body whose one change has `value` as its text value.
    static func push(text value: [UInt8]) -> [UInt8] {
        Array(#"{"changes":[{"collection":"incidents","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"text","value":"#.utf8)
            + value + Array("}}]}".utf8)
    }

    static func push(text value: String) -> [UInt8] { push(text: Array(value.utf8)) }

    /// A pull page with its fields replaced by `fields` (raw JSON text).
    static func pull(_ fields: [String: String] = [:], extra: String = "") -> [UInt8] {
        let defaults = ["changes": "[]", "conflicts": "[]", "cursor": "5", "more": "false", "latest": "9", "serverTime": "12"]
        let merged = defaults.merging(fields) { $1 }
        let body = ["changes", "conflicts", "cursor", "more", "latest", "serverTime"].map { "\"\($0)\":\(merged[$0]!)" }
        return Array(("{" + body.joined(separator: ",") + extra + "}").utf8)
    }

    static let change = #"{"collection":"incidents","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"unset"}}"#
    static let version = #"{"hlc":"000000000001-0000-aa","value":{"type":"text","value":"a"},"author":"ana","covers":[]}"#
    static let later = #"{"hlc":"000000000002-0000-bb","value":{"type":"text","value":"b"},"author":"bek","covers":[]}"#

    static let strings = pushTexts([
        (#""x\ud83d\ude00""#, .same), (#""\uD83D\uDE00""#, .same), (#""\uDBFF\uDFFF""#, .same), (#""\u00e9\u00C9\u2028""#, .same),
        (#""\"\\\/\b\f\n\r\t""#, .same), (#""\u0000\u001f""#, .same), ("\"Қазақстан 😀 \u{7F}\"", .same), (#""Қ\u0430\n😀""#, .same),
        (#""\ud83d""#, .refused), (#""\ud83dx""#, .refused), (#""\ud83d\u0041""#, .refused), (#""\ude00""#, .refused),
        (#""\ude00\ud83d""#, .refused), (#""\ud83d\ud83d""#, .refused), (#""\ud83d\\""#, .refused), (#""\x""#, .refused),
        (#""\U0041""#, .refused), (#""\'""#, .refused), (#""\u12""#, .refused), (#""\uZZZZ""#, .refused),
        ("\"a\u{01}\"", .refused), ("\"a\tb\"", .refused), ("\"a\nb\"", .refused), (#""unterminated"#, .refused),
    ])

    static let badBytes: [Case] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80]].map { bad in
        Case(kind: .pushRequest, bytes: push(text: Array("\"a".utf8) + bad + Array("\"".utf8)), expected: .refused)
    }

    static let literals = pulls([
        (pull(["more": "true"]), .same), (pull(["more": "false"]), .same),
        (pull(["more": "tr__"]), .refused), (pull(["more": "truex"]), .refused), (pull(["more": "True"]), .refused),
        (pull(["more": "t"]), .refused), (pull(["more": "fals"]), .refused), (pull(["more": "falsey"]), .refused),
        (pull(["more": "null"]), .refused), (pull(["more": "nul"]), .refused),
        (pull(extra: #","x":tr__"#), .refused), (pull(extra: #","x":nul"#), .refused), (pull(extra: #","x":nulll"#), .refused),
        (pull(extra: #","x":[true,false,null]"#), .same),
    ])

    static let numbers = pulls([
        (pull(["cursor": "9223372036854775807"]), .same), (pull(["cursor": "-9223372036854775808"]), .same),
        (pull(["cursor": "0"]), .same), (pull(["cursor": "-0"]), .same), (pull(["serverTime": "18446744073709551615"]), .same),
        (pull(["serverTime": "-0"]), .same),
        (pull(["cursor": "9223372036854775808"]), .refused), (pull(["cursor": "-9223372036854775809"]), .refused),
        (pull(["serverTime": "18446744073709551616"]), .refused), (pull(["serverTime": "-1"]), .refused),
        (pull(["cursor": "01"]), .refused), (pull(["cursor": "-01"]), .refused), (pull(["cursor": "00"]), .refused),
        (pull(["cursor": "+1"]), .refused), (pull(["cursor": "-"]), .refused), (pull(["cursor": ".5"]), .refused),
        (pull(["cursor": "0x1"]), .refused), (pull(["cursor": "1.5"]), .refused), (pull(["cursor": "\"5\""]), .refused),
        (pull(["cursor": "1.0"]), .onlyJSONDecoder("an integer written with a fraction")),
        (pull(["cursor": "1e2"]), .onlyJSONDecoder("an integer written with an exponent")),
        (pull(["cursor": "1E+2"]), .onlyJSONDecoder("an integer written with an exponent")),
        (pull(extra: #","x":[0,-0,1.5e-7,6.02E+23,-3.25,18446744073709551616,1E+400]"#), .same),
        (pull(extra: #","x":+1"#), .refused), (pull(extra: #","x":.5"#), .refused),
        (pull(extra: #","x":01"#), .onlyJSONDecoder("JSONDecoder does not check a number it skips")),
        (pull(extra: #","x":--1"#), .onlyJSONDecoder("JSONDecoder does not check a number it skips")),
        (pull(extra: #","x":1."#), .onlyJSONDecoder("JSONDecoder does not check a number it skips")),
        (pull(extra: #","x":1e+"#), .onlyJSONDecoder("JSONDecoder does not check a number it skips")),
    ])

    static let structure = pulls([
        (pull(), .same), (Array(" \n\t\r".utf8) + pull() + Array(" \n".utf8), .same), (pull() + Array("x".utf8), .refused),
        (pull() + Array("{}".utf8), .refused), ([], .refused), (Array("[]".utf8), .refused), (Array("{".utf8), .refused),
        (Array(#"{"changes":[],"conflicts":[],"cursor":5,"more":false,"latest":9}"#.utf8), .refused),
        (Array(#"{"changes":[] "conflicts":[],"cursor":5,"more":false,"latest":9,"serverTime":1}"#.utf8), .refused),
        (Array(#"{changes:[],"conflicts":[],"cursor":5,"more":false,"latest":9,"serverTime":1}"#.utf8), .refused),
        (pull(["changes": "[,]"]), .refused), (pull(extra: ",,\"x\":1"), .refused),
        (pull(extra: ","), .onlyJSONDecoder("JSONDecoder accepts a trailing comma")),
        ([0xEF, 0xBB, 0xBF] + pull(), .onlyJSONDecoder("JSONDecoder skips a byte order mark")),
        (pull(extra: #","cursor":6"#), .onlyJSONDecoder("a repeated key")),
        (pull(extra: #","\u0063ursor":6"#), .onlyJSONDecoder("a repeated key, written with an escape")),
        (pull(extra: #","x\u00e9":6"#), .onlyJSONDecoder("a key written with an escape")),
        (pull(extra: #","é":6"#), .same),
        (pull(extra: (0..<40).map { ",\"x\($0)\":\($0)" }.joined()), .onlyJSONDecoder("more keys than the fast reader remembers")),
        (pull(extra: ",\"x\":" + String(repeating: "[", count: 511) + String(repeating: "]", count: 511)), .same),
        (pull(extra: ",\"x\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512)), .refused),
        (pull(extra: ",\"x\":" + String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)), .refused),
        (pull(extra: ",\"x\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)), .refused),
    ])

    static let wireTypes = documents([
        (.pushRequest, #"{"changes":[{"value":{"value":"b","type":"text"},"hlc":"000000000001-0000-aa","field":"title","record":"r","collection":"c","author":null,"base":null,"supersedes":null}]}"#, .same),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"text"}}]}"#, .refused),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"date","hlc":"000000000001-0000-aa","value":{"type":"date","value":"2025-13-01"}}]}"#, .refused),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"colour","value":"red"}}]}"#, .refused),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"title","hlc":"1-0-aa","value":{"type":"unset"}}]}"#, .refused),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"text","value":5}}]}"#, .refused),
        (.pushRequest, #"{"changes":[{"collection":"c","record":"r","field":"title","hlc":"000000000001-0000-aa","value":{"type":"unset","value":null}}]}"#,
         .onlyJSONDecoder("a value the type does not use")),
        (.pushResponse, #"{"results":[{"hlc":"000000000001-0000-aa","status":"lost"}],"serverTime":1}"#, .refused),
        (.pushResponse, #"{"results":[{"hlc":"000000000001-0000-aa","status":"rejected","seq":null,"code":"invalid","reason":"bad"}],"serverTime":1}"#, .same),
        (.snapshot, #"{"changes":[],"since":3,"next":null,"total":null,"serverTime":1}"#, .same),
        (.snapshot, #"{"changes":[],"since":3,"next":"nope","serverTime":1}"#, .refused),
        (.pull, String(decoding: pull(["changes": "[{\"seq\":1,\"receivedAt\":2,\"change\":\(change)}]"]), as: UTF8.self), .same),
        (.pull, String(decoding: pull(["changes": "[{\"seq\":1,\"change\":\(change)}]"]), as: UTF8.self), .refused),
        (.pull, String(decoding: pull(["conflicts": "[{\"open\":true,\"conflict\":{\"id\":\"i\",\"collection\":\"c\",\"record\":\"r\",\"field\":\"f\",\"versions\":[\(version),\(later)]}}]"]), as: UTF8.self), .same),
        // `conflicts` is no longer read by either reader (always sent empty): whatever it holds is skipped.
        (.pull, String(decoding: pull(["conflicts": "[{\"open\":true,\"conflict\":{\"id\":\"i\",\"collection\":\"c\",\"record\":\"r\",\"field\":\"f\"}}]"]), as: UTF8.self), .same),
        (.pull, String(decoding: pull(["conflicts": "[{\"open\":true,\"conflict\":{\"id\":\"i\",\"collection\":\"c\",\"record\":\"r\",\"field\":\"f\",\"versions\":[{\"hlc\":\"000000000001-0000-aa\",\"value\":{\"type\":\"unset\"},\"author\":\"a\"}]}}]"]), as: UTF8.self), .same),
    ])

    @Test(arguments: strings + badBytes + literals + numbers + structure + wireTypes)
    func bothReadersAgree(_ example: Case) {
        let outcome = FastJSONDifferentialTests.outcome(Data(example.bytes), as: example.kind)
        switch example.expected {
        case .same:
            #expect(outcome.fast != nil && outcome.fast == outcome.decoder, "\(outcome)")
        case .refused:
            #expect(outcome.fast == nil && outcome.decoder == nil, "\(outcome)")
        case .onlyJSONDecoder(let reason):
            #expect(outcome.fast == nil && outcome.decoder != nil, "\(reason)\n\(outcome)")
            // The codec still reads it, through the fallback.
            #expect(Self.decodedWithFallback(Data(example.bytes), as: example.kind) == outcome.decoder)
        }
    }

    static func decodedWithFallback(_ data: Data, as kind: Kind) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value: (any Encodable)? = switch kind {
        case .pushRequest: try? WireCodec.decodePushRequest(data)
        case .pushResponse: try? WireCodec.decodePushResponse(data)
        case .pull: try? WireCodec.decodePullResponse(data)
        case .snapshot: try? WireCodec.decodeSnapshotResponse(data)
        }
        return value.flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func surrogatePairsDecodeToTheCharacterTheyEncode() throws {
        let cases = [#""x\ud83d\ude00""#: "x😀", #""\uD83D\uDE00!""#: "😀!", #""\udbff\udfff""#: "\u{10FFFF}", #""\ud800\udc00""#: "\u{10000}"]
        for (json, text) in cases {
            let push = try WireCodec.decodePushRequest(Data(Self.push(text: json)), fallback: false)
            #expect(push.changes.first?.value == .text(text), "\(json)")
        }
        for lone in [#""x\ud83d""#, #""\ude00x""#, #""\ud83d\u0041""#] {
            #expect(throws: FastJSONReader.Failure.self, "\(lone)") {
                try WireCodec.decodePushRequest(Data(Self.push(text: lone)), fallback: false)
            }
            #expect(throws: DecodingError.self, "\(lone)") { try WireCodec.decodePushRequest(Data(Self.push(text: lone))) }
        }
    }
}
