import Foundation

/// One version of a field with what it builds on: the part of a change a merge reads.
package struct HistoryNode: Hashable, Sendable {
    /// The change's HLC.
    package var hlc: HLC
    /// The value it wrote.
    package var value: FieldValue
    /// The versions it builds on (base and supersedes).
    package var parents: [HLC]

    /// The node of a change.
    package init(_ change: Change) {
        hlc = change.hlc
        value = change.value
        parents = change.parents
    }
}

/// The versions of one record's field that a caller has handed to a merge, by HLC, and the
/// versions it looked for and does not hold (`absent`).
///
/// A merge reads versions from the heads backwards, as it needs them. What it asks for and the
/// caller has not looked up yet comes back as `FieldMerge.Outcome.needs`; the caller loads those
/// (only versions of the same record and field count) and runs the merge again. A version the
/// caller marked absent ends the walk: the merge is then a conflict (`Failure.missing`).
package struct VersionGraph: Sendable {
    /// The versions held, by HLC.
    package private(set) var nodes: [HLC: HistoryNode] = [:]
    /// Versions looked for and not held.
    package private(set) var absent: Set<HLC> = []

    /// An empty graph.
    package init() {}

    /// A graph of `changes` (all of one record and field).
    package init(_ changes: some Sequence<Change>) {
        for change in changes { nodes[change.hlc] = HistoryNode(change) }
    }

    /// Adds a version.
    package mutating func add(_ change: Change) {
        nodes[change.hlc] = HistoryNode(change)
        absent.remove(change.hlc)
    }

    /// Records the answer to a lookup of `asked`: `found` (of this record and field) are added,
    /// the others are absent.
    package mutating func loaded(_ asked: some Sequence<HLC>, found: some Sequence<Change>) {
        for change in found { add(change) }
        for hlc in asked where nodes[hlc] == nil { absent.insert(hlc) }
    }

    /// Whether the graph can answer for `hlc` (held, or known to be absent).
    package func knows(_ hlc: HLC) -> Bool { nodes[hlc] != nil || absent.contains(hlc) }
}
