import Foundation
import Testing
@testable import Shared

@Suite struct WireTests {
    @Test func changesRoundTripThroughJSON() throws {
        let values: [FieldValue] = [.text("Қазақстан"), .integer(-4), .date("2025-01-23"), .bool(true), .list(["a", "b,c"]),
                                    .reference(Fixture.record), .references([Fixture.record]), .unset]
        for value in values {
            let change = Fixture.change(value: value)
            let data = try JSONEncoder().encode(Wire.PushRequest(changes: [change]))
            #expect(try JSONDecoder().decode(Wire.PushRequest.self, from: data).changes == [change])
        }
    }

    @Test func malformedValuesAreRefusedWithTheirField() {
        let bad = #"{"changes":[{"collection":"incidents","record":"x","field":"date","hlc":"000000000001-0000-aa","value":{"type":"date","value":"2025-13-01"}}]}"#
        do {
            _ = try JSONDecoder().decode(Wire.PushRequest.self, from: Data(bad.utf8))
            Issue.record("accepted a bad date")
        } catch let error as DecodingError {
            let text = DecodingErrorText.describe(error)
            #expect(text.contains("changes[0].value"))
            #expect(text.contains("YYYY-MM-DD"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        let wrongType = #"{"changes":[{"collection":5}]}"#
        do {
            _ = try JSONDecoder().decode(Wire.PushRequest.self, from: Data(wrongType.utf8))
        } catch let error as DecodingError {
            #expect(DecodingErrorText.describe(error) == "changes[0].collection: expected a string")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

extension Fixture {
    static func change(value: FieldValue) -> Change {
        change("title", value, at: hlc(1_000), base: hlc(500, 0, nodeB), supersedes: [hlc(400, 0, nodeC)])
    }
}

@Suite struct StorageTextTests {
    @Test func everyValueRoundTripsThroughItsStoredForm() throws {
        let values: [FieldValue] = [.text(""), .text("t:x, \"quoted\"\nҚазақстан"), .integer(Int64.min), .date("2025-01-23"), .bool(false), .bool(true),
                                    .list([]), .list(["a,b", "\"c\""]), .reference(Fixture.record), .references([Fixture.record, Fixture.record]), .unset]
        for value in values {
            #expect(try StorageText.decodeValue(StorageText.encode(value)) == value)
        }
        for damaged in ["", "x", "z:1", "i:one", "l:[1", "t"] {
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
}

@Suite struct WireCodecTests {
    static func randomText(_ random: inout SeededGenerator) -> String {
        let pieces = ["a", "Қазақстан", "\"", "\\", "\n", "\t", "\u{01}", "/", "😀", "é", " ", ",", "{", "]", "\u{2028}"]
        return (0..<Int.random(in: 0...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    static func randomChange(_ random: inout SeededGenerator, _ index: Int) -> Change {
        let values: [FieldValue] = [.text(randomText(&random)), .integer(Int64.random(in: Int64.min...Int64.max, using: &random)),
                                    .date("2025-01-23"), .bool(Bool.random(using: &random)), .list([randomText(&random), randomText(&random)]),
                                    .reference(Fixture.record), .references([Fixture.record]), .unset]
        return Fixture.change(randomText(&random), values.randomElement(using: &random)!, at: Fixture.hlc(UInt64(index), 1, Fixture.nodeB),
                              author: randomText(&random), base: Bool.random(using: &random) ? Fixture.hlc(1) : nil,
                              supersedes: Bool.random(using: &random) ? [Fixture.hlc(2)] : [], covers: [])
    }

    @Test func theFastCodecReadsAndWritesExactlyWhatCodableDoes() throws {
        var random = SeededGenerator(seed: 99)
        for round in 0..<300 {
            let changes = (0..<Int.random(in: 0...6, using: &random)).map { Self.randomChange(&random, round * 10 + $0) }
            let push = Wire.PushRequest(changes: changes)
            #expect(try JSONDecoder().decode(Wire.PushRequest.self, from: WireCodec.encode(push)).changes == changes)
            #expect(try WireCodec.decodePushRequest(JSONEncoder().encode(push)).changes == changes)

            let logged = changes.enumerated().map { Wire.LoggedChange(seq: Int64($0.offset), change: $0.element, receivedAt: 7) }
            let pull = Wire.PullResponse(changes: logged, cursor: 9, more: true, latest: 12, serverTime: 5)
            let viaFast = try JSONDecoder().decode(Wire.PullResponse.self, from: WireCodec.encode(pull))
            #expect(viaFast.changes == logged && viaFast.cursor == 9 && viaFast.more && viaFast.latest == 12 && viaFast.serverTime == 5)
            let viaCodable = try WireCodec.decodePullResponse(JSONEncoder().encode(pull))
            #expect(viaCodable.changes == logged && viaCodable.cursor == 9 && viaCodable.more && viaCodable.latest == 12 && viaCodable.serverTime == 5)

            let statuses: [Wire.ChangeStatus] = [.applied, .duplicate, .conflict, .rejected]
            let results = changes.enumerated().map { index, change in
                Wire.ChangeResult(hlc: change.hlc, status: statuses.randomElement(using: &random)!,
                                  seq: Bool.random(using: &random) ? Int64(index) : nil,
                                  conflict: Bool.random(using: &random) ? Self.randomText(&random) : nil,
                                  code: Bool.random(using: &random) ? "clock_ahead" : nil,
                                  reason: Bool.random(using: &random) ? Self.randomText(&random) : nil)
            }
            let answer = Wire.PushResponse(results: results, serverTime: UInt64(round))
            #expect(try JSONDecoder().decode(Wire.PushResponse.self, from: WireCodec.encode(answer)).results == results)
            #expect(try WireCodec.decodePushResponse(JSONEncoder().encode(answer)).results == results)

            let snapshot = Wire.SnapshotResponse(changes: logged, since: 3, next: round % 2 == 0 ? Fixture.hlc(4) : nil, total: nil, serverTime: 1)
            let decoded = try WireCodec.decodeSnapshotResponse(WireCodec.encode(snapshot))
            #expect(decoded.changes == logged && decoded.next == snapshot.next && decoded.since == 3)
        }
    }

    @Test func whatTheFastReaderRefusesStillGetsTheDetailedError() {
        let bad = #"{"changes":[{"collection":"incidents","record":"x","field":"date","hlc":"000000000001-0000-aa","value":{"type":"date","value":"2025-13-01"}}]}"#
        do {
            _ = try WireCodec.decodePushRequest(Data(bad.utf8))
            Issue.record("accepted a bad date")
        } catch let error as DecodingError {
            #expect(DecodingErrorText.describe(error).contains("changes[0].value"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        // Invalid UTF-8 inside a string is refused, not repaired.
        var bytes = Array(#"{"changes":[{"collection":"incidents","record":"x","field":"title","hlc":"000000000001-0000-aa","value":{"type":"text","value":"a"#.utf8)
        bytes += [0xFF, 0xFE] + Array(#""}}]}"#.utf8)
        #expect(throws: (any Error).self) { try WireCodec.decodePushRequest(Data(bytes)) }
    }
}
