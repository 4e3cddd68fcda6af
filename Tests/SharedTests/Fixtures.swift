import Foundation
@testable import Shared

/// The seeded generator of the tests.
typealias SeededGenerator = SplitMix64

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
