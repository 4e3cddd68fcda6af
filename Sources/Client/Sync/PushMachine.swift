import Foundation
import Shared

/// The decisions of a push, without I/O: which batch to send next, when to wait for an answer,
/// when to re-stamp the outbox and when to give up on the clock. `Syncer` does what each action
/// says and reports back; tests drive it with made-up answers.
///
/// Batches are pipelined: while one batch's answer is recorded, the next is already on its way
/// (at most two travel at once, over one connection, so the server receives them in order).
/// When the server rejects changes because the device clock is far ahead, the batches still
/// travelling are answered first, then the outbox is re-stamped with the server's time and sent
/// again from its start, once; if that does not help either, the rejections stay on the entries.
struct PushMachine: Sendable {
    /// What the driver does next.
    enum Action: Sendable {
        /// Read the outbox after this place (nil: from its start), send a batch, report with `sent(upTo:)`.
        case send(after: OutboxEntry.Position?)
        /// Wait for the oldest batch travelling, record its answer, report with `recorded(_:clockAhead:)`.
        case record
        /// Re-stamp the outbox with the server's time, then report with `restamped()`.
        case restamp(serverTime: UInt64)
        /// Keep these answers' rejections (clock ones included) on their entries; then the push is over.
        case markRejected([Wire.PushResponse])
        /// The push is over.
        case finish
    }

    private var sentUpTo: OutboxEntry.Position?
    private var travelling = 0
    private var outboxSent = false
    private var didRestamp = false
    /// Answers that rejected changes for the clock, collected while the other batches land.
    private var clockAnswers: [Wire.PushResponse] = []

    /// Starts with the outbox's first batch.
    func start() -> Action { .send(after: nil) }

    /// A batch ending at `last` was sent (nil: the outbox had nothing more to send).
    mutating func sent(upTo last: OutboxEntry.Position?) -> Action {
        if let last {
            sentUpTo = last
            travelling += 1
        } else {
            outboxSent = true
        }
        if travelling == 0 { return .finish }
        // Keep a second batch on its way while the first is answered.
        if travelling == 1 && !outboxSent { return .send(after: sentUpTo) }
        return .record
    }

    /// The oldest batch was answered and its answer recorded.
    mutating func recorded(_ response: Wire.PushResponse, clockAhead: Bool) -> Action {
        travelling -= 1
        if clockAhead || !clockAnswers.isEmpty {
            clockAnswers.append(response)
            if travelling > 0 { return .record }
            let answers = clockAnswers
            clockAnswers = []
            if didRestamp { return .markRejected(answers) }
            // The first of them is the one that rejected changes for the clock.
            return .restamp(serverTime: answers[0].serverTime)
        }
        if outboxSent { return travelling > 0 ? .record : .finish }
        return .send(after: sentUpTo)
    }

    /// The outbox was re-stamped: send it again from its start.
    mutating func restamped() -> Action {
        didRestamp = true
        sentUpTo = nil
        outboxSent = false
        return .send(after: nil)
    }
}
