import Foundation
import Testing
@testable import Shared

@Suite struct WireTests {
    @Test func changesRoundTripThroughJSON() throws {
        let values: [FieldValue] = [.text("Қазақстан"), .integer(-4), .date("2025-01-23"), .bool(true), .list(["a", "b,c"]),
                                    .reference(Fixture.record), .references([Fixture.record]), .files([Fixture.file]), .unset]
        for value in values {
            let change = Fixture.change(value: value)
            let data = try JSONEncoder().encode(Wire.PushRequest(changes: [change]))
            #expect(try JSONDecoder().decode(Wire.PushRequest.self, from: data).changes == [change])
        }
    }

    @Test func malformedValuesAreRefusedWithTheirField() {
        let bad = #"{"changes":[{"collection":"incidents","record":"x","field":"date","hlc":"000000000001-0000-aa","value":{"type":"date","value":"2025-13-01"}}]}"#
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Wire.PushRequest.self, from: Data(bad.utf8)) }
        let text = error.map(DecodingErrorText.describe) ?? ""
        #expect(text.contains("changes[0].value"), "\(text)")
        #expect(text.contains("YYYY-MM-DD"), "\(text)")
        let wrongType = #"{"changes":[{"collection":5}]}"#
        let wrong = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Wire.PushRequest.self, from: Data(wrongType.utf8)) }
        #expect(wrong.map(DecodingErrorText.describe) == "changes[0].collection: expected a string")
    }
}

extension Fixture {
    static func change(value: FieldValue) -> Change {
        change("title", value, at: hlc(1_000), base: hlc(500, 0, nodeB), supersedes: [hlc(400, 0, nodeC)])
    }
}
