import Foundation
import Testing
@testable import Client
@testable import Shared

/// The push's decisions, driven with made-up answers: no HTTP, no database.
@Suite struct PushMachineTests {
    static let node = NodeID("aaaaaaaaaaaaaaaa")!
    static func hlc(_ millis: UInt64) -> HLC { HLC(millis: millis, counter: 0, node: node) }
    /// A batch that ended at record `key` (its last field).
    static func place(_ key: Int64) -> OutboxEntry.Position { OutboxEntry.Position(recordKey: key, field: "title") }
    static func answer(_ status: Wire.ChangeStatus = .applied, code: String? = nil, serverTime: UInt64 = 1_000) -> Wire.PushResponse {
        Wire.PushResponse(results: [Wire.ChangeResult(hlc: hlc(1), status: status, code: code)], serverTime: serverTime)
    }

    /// The actions as short words, so a sequence reads as a story.
    static func word(_ action: PushMachine.Action) -> String {
        switch action {
        case .send(let after): "send after \(after.map { String($0.recordKey) } ?? "start")"
        case .record: "record"
        case .restamp(let serverTime): "restamp \(serverTime)"
        case .markRejected(let answers): "mark rejected \(answers.count)"
        case .finish: "finish"
        }
    }

    @Test func anEmptyOutboxFinishesAtOnce() {
        var machine = PushMachine()
        #expect(Self.word(machine.start()) == "send after start")
        #expect(Self.word(machine.sent(upTo: nil)) == "finish")
    }

    @Test func batchesArePipelinedTwoAtATimeAndEveryOneIsRecorded() {
        var machine = PushMachine()
        var words = [Self.word(machine.start())]
        words.append(Self.word(machine.sent(upTo: Self.place(10))))    // batch 1 travels: send the next
        words.append(Self.word(machine.sent(upTo: Self.place(20))))    // two travel: record the first
        words.append(Self.word(machine.recorded(Self.answer(), clockAhead: false)))
        words.append(Self.word(machine.sent(upTo: nil)))             // nothing more: record what travels
        words.append(Self.word(machine.recorded(Self.answer(), clockAhead: false)))
        #expect(words == ["send after start", "send after 10", "record", "send after 20", "record", "finish"])
    }

    @Test func aClockRejectionLandsWhatTravelsThenRestampsAndResendsFromTheStart() {
        var machine = PushMachine()
        _ = machine.start()
        _ = machine.sent(upTo: Self.place(10))
        _ = machine.sent(upTo: Self.place(20))
        let clockAnswer = Self.answer(.rejected, code: "clock_ahead", serverTime: 777)
        #expect(Self.word(machine.recorded(clockAnswer, clockAhead: true)) == "record")   // the second batch still travels
        #expect(Self.word(machine.recorded(Self.answer(serverTime: 778), clockAhead: false)) == "restamp 777")
        #expect(Self.word(machine.restamped()) == "send after start")
        #expect(Self.word(machine.sent(upTo: Self.place(30))) == "send after 30")
        #expect(Self.word(machine.sent(upTo: nil)) == "record")
        #expect(Self.word(machine.recorded(Self.answer(), clockAhead: false)) == "finish")
    }

    @Test func aSecondClockRejectionAfterARestampKeepsTheRejectionsAndStops() {
        var machine = PushMachine()
        _ = machine.start()
        _ = machine.sent(upTo: Self.place(10))
        _ = machine.sent(upTo: nil)
        #expect(Self.word(machine.recorded(Self.answer(.rejected, code: "clock_ahead"), clockAhead: true)) == "restamp 1000")
        _ = machine.restamped()
        _ = machine.sent(upTo: Self.place(10))
        _ = machine.sent(upTo: nil)
        let action = machine.recorded(Self.answer(.rejected, code: "clock_ahead"), clockAhead: true)
        guard case .markRejected(let answers) = action else {
            Issue.record("expected the rejections to be kept, got \(Self.word(action))")
            return
        }
        #expect(answers.count == 1)
        #expect(answers[0].results.first?.code == "clock_ahead")
    }

    @Test func anOrdinaryRejectionIsRecordedLikeAnyAnswerAndThePushGoesOn() {
        var machine = PushMachine()
        _ = machine.start()
        _ = machine.sent(upTo: Self.place(10))
        _ = machine.sent(upTo: Self.place(20))
        // "invalid" is recorded on its entry by the replica; it is no reason to stop or re-stamp.
        #expect(Self.word(machine.recorded(Self.answer(.rejected, code: "invalid"), clockAhead: false)) == "send after 20")
    }
}
