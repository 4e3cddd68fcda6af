import Foundation
import Testing
@testable import Shared

@Suite struct StorageTextTests {
    @Test func everyValueRoundTripsThroughItsStoredForm() throws {
        let values: [FieldValue] = [.text(""), .text("t:x, \"quoted\"\nҚазақстан"), .integer(Int64.min), .date("2025-01-23"), .bool(false), .bool(true),
                                    .list([]), .list(["a,b", "\"c\""]), .reference(Fixture.record), .references([Fixture.record, Fixture.record]),
                                    .files([]), .files([Fixture.file, FileRef(sha256: String(repeating: "0", count: 64), name: "свидетель \"1\".m4a", size: 0, mime: "audio/mp4")]),
                                    .unset]
        for value in values {
            #expect(try StorageText.decodeValue(StorageText.encode(value)) == value)
        }
        for damaged in ["", "x", "z:1", "i:one", "l:[1", "t", "f:[1]", "f:[{\"sha256\":\"a\"}]"] {
            #expect(throws: StorageText.DamagedData.self) { try StorageText.decodeValue(damaged) }
        }
    }

    @Test func listsAreStoredExactlyAsJSONEncoderWritesThem() throws {
        // Stored text is compared as text (an import skips unchanged cells): it must not depend
        // on whether the fast path or JSONEncoder wrote it, nor change from earlier versions.
        var random = SeededGenerator(seed: 11)
        for _ in 0..<500 {
            let items = (0..<Int.random(in: 0...4, using: &random)).map { _ in WireCodecTests.randomText(&random) }
            let expected = "l:" + String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
            #expect(StorageText.encode(.list(items)) == expected, "\(items)")
        }
    }

    @Test func storedListsReadBackExactlyAsJSONDecoderReadsThem() throws {
        // Lists are read by the fast JSON reader first; whatever JSON a store holds, the answer (the
        // items, or damaged data) must be `JSONDecoder`'s.
        var random = SeededGenerator(seed: 12)
        var payloads = [#"[]"#, #"[ "a" , "b" ]"#, #"["\u0416\ud83d\ude00","a\/b"]"#, #"["\ud83d"]"#, #"["a",]"#, #"["a" "b"]"#,
                        #"[1]"#, #"["a"] x"#, #"["\x"]"#, "[\"tab\there\"]", #"[null]"#, #"{"a":1}"#]
        for _ in 0..<300 {
            let items = (0..<Int.random(in: 0...4, using: &random)).map { _ in WireCodecTests.randomText(&random) }
            payloads.append(String(decoding: try JSONEncoder().encode(items), as: UTF8.self))
        }
        for payload in payloads {
            let expected = try? JSONDecoder().decode([String].self, from: Data(payload.utf8))
            let read = try? StorageText.decodeValue("l:" + payload)
            #expect(read == expected.map { FieldValue.list($0) }, "\(payload)")
        }
    }
}
