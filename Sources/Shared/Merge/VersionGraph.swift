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
        self.init(hlc: change.hlc, value: change.value, parents: change.parents)
    }

    /// A node from its parts.
    package init(hlc: HLC, value: FieldValue, parents: [HLC]) {
        self.hlc = hlc
        self.value = value
        self.parents = parents
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
    /// The caller handed over every version it holds: any other is absent.
    package var isComplete = false

    /// An empty graph.
    package init() {}

    /// A graph of `changes` (all of one record and field); `complete`: they are all the caller holds.
    package init(_ changes: some Sequence<Change>, complete: Bool = false) {
        for change in changes { nodes[change.hlc] = HistoryNode(change) }
        isComplete = complete
    }

    /// A graph of `nodes` (all of one record and field); `complete`: they are all the caller holds.
    package init(nodes: some Sequence<HistoryNode>, complete: Bool = false) {
        for node in nodes { self.nodes[node.hlc] = node }
        isComplete = complete
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
    package func knows(_ hlc: HLC) -> Bool { isComplete || nodes[hlc] != nil || absent.contains(hlc) }

    /// Whether `hlc` is known not to be held.
    package func isAbsent(_ hlc: HLC) -> Bool { nodes[hlc] == nil && (isComplete || absent.contains(hlc)) }
}
