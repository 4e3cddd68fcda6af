import Foundation
import Testing
@testable import Shared

/// The fast JSON reader against `JSONDecoder`, with the fallback to `JSONDecoder` turned off: on
/// JSON written in every way a client may write it, the fast reader reads what `JSONDecoder`
/// reads, and it never accepts a document `JSONDecoder` refuses.
@Suite struct FastJSONDifferentialTests {
    /// The hot-path types the fast reader decodes.
    enum Kind: CaseIterable { case pushRequest, pushResponse, pull, snapshot }

    /// What each reader made of a document: the value written out again in one canonical form, or nil when refused.
    struct Outcome: CustomStringConvertible {
        var fast: String?
        var decoder: String?
        var description: String { "fast reader: \(fast ?? "refused")\nJSONDecoder: \(decoder ?? "refused")" }
    }

    static func outcome(_ data: Data, as kind: Kind) -> Outcome {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func canonical<T: Encodable>(_ read: () throws -> T) -> String? {
            guard let value = try? read(), let data = try? encoder.encode(value) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let decoder = JSONDecoder()
        switch kind {
        case .pushRequest:
            return Outcome(fast: canonical { try WireCodec.decodePushRequest(data, fallback: false) },
                           decoder: canonical { try decoder.decode(Wire.PushRequest.self, from: data) })
        case .pushResponse:
            return Outcome(fast: canonical { try WireCodec.decodePushResponse(data, fallback: false) },
                           decoder: canonical { try decoder.decode(Wire.PushResponse.self, from: data) })
        case .pull:
            return Outcome(fast: canonical { try WireCodec.decodePullResponse(data, fallback: false) },
                           decoder: canonical { try decoder.decode(Wire.PullResponse.self, from: data) })
        case .snapshot:
            return Outcome(fast: canonical { try WireCodec.decodeSnapshotResponse(data, fallback: false) },
                           decoder: canonical { try decoder.decode(Wire.SnapshotResponse.self, from: data) })
        }
    }

    // MARK: Generated documents

    static func randomTree(_ kind: Kind, _ random: inout SeededGenerator, round: Int) -> JSONText {
        let edges: [Int64] = [0, 1, -1, Int64.max, Int64.min, Int64.random(in: Int64.min...Int64.max, using: &random)]
        let changes = (0..<Int.random(in: 0...4, using: &random)).map { WireCodecTests.randomChange(&random, round * 10 + $0) }
        let logged = changes.map { Wire.LoggedChange(seq: edges.randomElement(using: &random)!, change: $0,
                                                     receivedAt: UInt64.random(in: 0...UInt64.max, using: &random)) }
        let time = JSONText.integer([0, UInt64.max, UInt64.random(in: 0...UInt64.max, using: &random)].randomElement(using: &random)!)
        switch kind {
        case .pushRequest:
            return JSONText.object([("changes", .array(changes.map { JSONText.change($0, &random) }))], &random)
        case .pushResponse:
            let statuses: [Wire.ChangeStatus] = [.applied, .duplicate, .conflict, .rejected]
            let results: [JSONText] = changes.map { change in
                JSONText.object([
                    ("hlc", .string(change.hlc.text)), ("status", .string(statuses.randomElement(using: &random)!.rawValue)),
                    ("seq", Bool.random(using: &random) ? .integer(edges.randomElement(using: &random)!) : nil),
                    ("conflict", Bool.random(using: &random) ? .string(WireCodecTests.randomText(&random)) : nil),
                    ("code", Bool.random(using: &random) ? .string("invalid") : nil),
                    ("reason", Bool.random(using: &random) ? .string(WireCodecTests.randomText(&random)) : nil),
                ], &random)
            }
            return JSONText.object([("results", .array(results)), ("serverTime", time)], &random)
        case .pull:
            let states = changes.count < 2 ? [] : [Wire.ConflictState(
                conflict: Conflict(collection: "incidents", record: Fixture.record, field: "title", versions: changes.map { Version($0) }),
                open: Bool.random(using: &random))]
            return JSONText.object([
                ("changes", .array(logged.map { JSONText.logged($0, &random) })),
                ("conflicts", .array(states.map { JSONText.conflictState($0, &random) })),
                ("cursor", .integer(edges.randomElement(using: &random)!)), ("more", .bool(Bool.random(using: &random))),
                ("latest", .integer(edges.randomElement(using: &random)!)), ("serverTime", time),
            ], &random)
        case .snapshot:
            return JSONText.object([
                ("changes", .array(logged.map { JSONText.logged($0, &random) })),
                ("since", .integer(edges.randomElement(using: &random)!)),
                ("next", Bool.random(using: &random) ? .string(Fixture.hlc(UInt64(round), 3).text) : nil),
                ("total", Bool.random(using: &random) ? .integer(edges.randomElement(using: &random)!) : nil),
                ("serverTime", time),
            ], &random)
        }
    }

    @Test func onGeneratedJSONTheFastReaderReadsWhatJSONDecoderReads() {
        var random = SeededGenerator(seed: 2_025)
        for round in 0..<400 {
            for kind in Kind.allCases {
                let data = Self.randomTree(kind, &random, round: round).render(&random)
                let outcome = Self.outcome(data, as: kind)
                let text = String(decoding: data, as: UTF8.self)
                #expect(outcome.decoder != nil, "JSONDecoder refused a valid document: \(text)")
                #expect(outcome.fast == outcome.decoder, "\(kind): \(text)\n\(outcome)")
            }
        }
    }

    @Test func onDamagedJSONTheFastReaderNeverAcceptsWhatJSONDecoderRefusesOrReadsItDifferently() {
        var random = SeededGenerator(seed: 77)
        let insertions = Array("{}[],:\"\\-+.0123456789eEtfnu ".utf8) + [0x00, 0x01, 0x7F, 0xC0, 0xED, 0xFF]
        var bothAccepted = 0
        for round in 0..<300 {
            for kind in Kind.allCases {
                var bytes = Array(Self.randomTree(kind, &random, round: round).render(&random))
                for _ in 0...Int.random(in: 0...2, using: &random) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(insertions.randomElement(using: &random)!, at: at)
                    case 2: bytes[at] = insertions.randomElement(using: &random)!
                    default: bytes.removeSubrange(at...)
                    }
                }
                let outcome = Self.outcome(Data(bytes), as: kind)
                if outcome.fast != nil {
                    #expect(outcome.fast == outcome.decoder, "\(kind): \(String(decoding: bytes, as: UTF8.self))\n\(outcome)")
                    bothAccepted += 1
                }
            }
        }
        // Some damage leaves a valid document (a digit changed, a space added): those are compared too.
        #expect(bothAccepted > 50)
    }
}
