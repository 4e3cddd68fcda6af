import Foundation
@testable import Shared

/// A small deterministic random number generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixture {
    static let nodeA = NodeID("aaaaaaaaaaaaaaaa")!
    static let nodeB = NodeID("bbbbbbbbbbbbbbbb")!
    static let nodeC = NodeID("cccccccccccccccc")!
    static let record = "0123456789abcdef0123456789abcdef"

    static func hlc(_ millis: UInt64, _ counter: UInt16 = 0, _ node: NodeID = nodeA) -> HLC {
        HLC(millis: millis, counter: counter, node: node)
    }

    static func change(_ value: FieldValue, at hlc: HLC, author: String = "ana", base: HLC? = nil,
                       supersedes: [HLC] = [], covers: [HLC] = []) -> Change {
        change("title", value, at: hlc, author: author, base: base, supersedes: supersedes, covers: covers)
    }

    static func change(_ field: String, _ value: FieldValue, at hlc: HLC, author: String = "ana",
                       base: HLC? = nil, supersedes: [HLC] = [], covers: [HLC] = [],
                       record: String = record, collection: String = "incidents") -> Change {
        Change(collection: collection, record: record, field: field, value: value, hlc: hlc, author: author,
               base: base, supersedes: supersedes, covers: covers)
    }
}
