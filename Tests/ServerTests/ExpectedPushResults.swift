import Foundation
import Testing
@testable import Server
@testable import Shared

/// What a correct server answers to a push that decodes, change by change, given what it accepted before.
struct ExpectedPushResults {
    let policy: PushPolicy
    /// Every change the server has accepted, by identity.
    private(set) var known: [HLC: Change] = [:]
    private var collections: [String: String] = [:]
    private(set) var accepted = 0
    private(set) var refused = 0

    init(settings: ServerSettings) {
        policy = PushPolicy(now: settings.clock(), maxDriftMillis: settings.maxDriftMillis)
    }

    /// Checks the results of one push, in order, and takes note of what was accepted.
    mutating func check(_ changes: [Change], results: [Wire.ChangeResult], round: Int) {
        #expect(results.map(\.hlc) == changes.map(\.hlc), "round \(round)")
        for (change, result) in zip(changes, results) {
            let refusal = refusalCode(change)
            if let refusal {
                #expect(result.status == .rejected && result.code == refusal, "round \(round): \(result) for \(change)")
                #expect(result.reason?.isEmpty == false, "round \(round): a refusal without a reason")
                refused += 1
            } else if known[change.hlc] != nil {
                #expect(result.status == .duplicate, "round \(round): \(result) for \(change)")
            } else {
                #expect([.applied, .conflict].contains(result.status) && result.seq != nil, "round \(round): \(result) for \(change)")
                known[change.hlc] = change
                collections[change.record] = change.collection
                accepted += 1
            }
        }
    }

    /// Why the server must refuse a change (its result's code), nil when it must take it.
    private func refusalCode(_ change: Change) -> String? {
        guard RecordID.isValid(change.record), MergeRule.structuralProblem(change) == nil,
              (try? Schema.upr.validate(change)) != nil,
              collections[change.record].map({ $0 == change.collection }) ?? true else { return "invalid" }
        if change.hlc.millis > policy.now, change.hlc.millis - policy.now > policy.maxDriftMillis { return "clock_ahead" }
        if let known = known[change.hlc], !known.hasSameContent(as: change) { return "id_reused" }
        return nil
    }
}
