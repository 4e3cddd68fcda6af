import Foundation
import Testing
@testable import Shared

@Suite struct WireCodecTests {
    static func randomText(_ random: inout SeededGenerator) -> String {
        let pieces = ["a", "Қазақстан", "\"", "\\", "\n", "\t", "\u{01}", "/", "😀", "é", " ", ",", "{", "]", "\u{2028}"]
        return (0..<Int.random(in: 0...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    static func randomChange(_ random: inout SeededGenerator, _ index: Int) -> Change {
        let values: [FieldValue] = [.text(randomText(&random)), .integer(Int64.random(in: Int64.min...Int64.max, using: &random)),
                                    .date("2025-01-23"), .bool(Bool.random(using: &random)), .list([randomText(&random), randomText(&random)]),
                                    .reference(Fixture.record), .references([Fixture.record]), .files([Fixture.file]), .unset]
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
        let error = #expect(throws: DecodingError.self) { try WireCodec.decodePushRequest(Data(bad.utf8)) }
        #expect(error.map(DecodingErrorText.describe)?.contains("changes[0].value") == true)
        // Invalid UTF-8 inside a string is refused, not repaired.
        var bytes = Array(#"{"changes":[{"collection":"incidents","record":"x","field":"title","hlc":"000000000001-0000-aa","value":{"type":"text","value":"a"#.utf8)
        bytes += [0xFF, 0xFE] + Array(#""}}]}"#.utf8)
        #expect(throws: DecodingError.self) { try WireCodec.decodePushRequest(Data(bytes)) }
    }
}
