import Foundation

/// One version of a field: a value with the change that wrote it.
package struct Version: Hashable, Sendable, Codable {
    /// The HLC of the change that wrote it (its identity).
    package var hlc: HLC
    /// The value it holds.
    package var value: FieldValue
    /// Who wrote it.
    package var author: String
    /// For a delete marker: the versions of the record's other fields its author saw.
    package var covers: [HLC]

    /// A version with an optional `covers` list.
    package init(hlc: HLC, value: FieldValue, author: String, covers: [HLC] = []) {
        self.hlc = hlc
        self.value = value
        self.author = author
        self.covers = covers
    }

    /// The version a change writes.
    package init(_ change: Change) {
        self.init(hlc: change.hlc, value: change.value, author: change.author, covers: change.covers)
    }
}

/// The state of one field on a replica: its heads, the versions no known change has superseded.
///
/// Invariant: `heads` is sorted by HLC, largest first, so `heads.first` is the provisional
/// winner that every replica shows. More than one distinct value among the heads is an open
/// conflict; several heads with one value are concurrent but equal edits, not a conflict.
package struct FieldState: Hashable, Sendable {
    /// The current versions, largest HLC first.
    package private(set) var heads: [Version]

    /// A state from heads in any order.
    package init(heads: [Version] = []) {
        self.heads = heads.sorted { $0.hlc > $1.hlc }
    }

    /// This state with the heads whose HLC is in `parents` removed and `version` (if any) added, in
    /// time linear in the number of heads: they stay sorted, so nothing is sorted again.
    package func replacing(_ parents: Set<HLC>, with version: Version?) -> FieldState {
        var next = FieldState()
        next.heads.reserveCapacity(heads.count + 1)
        var pending = version
        for head in heads where !parents.contains(head.hlc) {
            if let new = pending, new.hlc > head.hlc {
                next.heads.append(new)
                pending = nil
            }
            next.heads.append(head)
        }
        if let pending { next.heads.append(pending) }
        return next
    }

    /// The provisional winner: the head with the largest HLC.
    package var winner: Version? { heads.first }

    /// The value every replica shows (unset when the field was never written).
    package var value: FieldValue { winner?.value ?? .unset }

    /// Whether the heads hold more than one distinct value.
    package var isConflicted: Bool {
        guard let first = heads.first?.value else { return false }
        return heads.contains { $0.value != first }
    }

    /// The versions a new local edit builds on: the winner as base, and the other heads holding
    /// the same value (the author saw that value, whichever replica wrote it).
    package var editParents: (base: HLC?, supersedes: [HLC]) {
        guard let winner else { return (nil, []) }
        return (winner.hlc, heads.dropFirst().filter { $0.value == winner.value }.map(\.hlc))
    }

    /// The versions a new local edit builds on when the heads' different values combine
    /// automatically (`FieldMerge`): every head, since the author saw their merge. Otherwise `editParents`.
    package func editParents(merged: Bool) -> (base: HLC?, supersedes: [HLC]) {
        merged && isConflicted ? resolutionParents : editParents
    }

    /// The versions a resolution supersedes: the winner as base and every other head.
    package var resolutionParents: (base: HLC?, supersedes: [HLC]) {
        (winner?.hlc, heads.dropFirst().map(\.hlc))
    }
}
