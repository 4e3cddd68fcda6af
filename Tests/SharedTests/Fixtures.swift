import Foundation
@testable import Shared

/// The seeded generator of the tests.
typealias SeededGenerator = SplitMix64

enum Fixture {
    static let nodeA = NodeID("aaaaaaaaaaaaaaaa")!
    static let nodeB = NodeID("bbbbbbbbbbbbbbbb")!
    static let nodeC = NodeID("cccccccccccccccc")!
    static let record = "0123456789abcdef0123456789abcdef"
    /// An attached file: a name with a space, a slash-free path and a non-Latin letter.
    static let file = FileRef(sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", name: "court order №2.pdf",
                              size: 4, mime: "application/pdf")

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
