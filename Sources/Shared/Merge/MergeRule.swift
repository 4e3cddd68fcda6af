import Foundation

/// What the merge rule decided about one incoming change.
package struct MergeOutcome: Equatable, Sendable {
    /// The kinds of outcome.
    package enum Kind: String, Equatable, Sendable, Codable {
        /// The change built on every current version: it simply becomes the value.
        case fastForward = "fast_forward"
        /// The change was already known: nothing happens.
        case duplicate
        /// An older change that arrived after a change built on it: kept in history only.
        case superseded
        /// Concurrent with the current version but holding the same value: no conflict.
        case sameValue = "same_value"
        /// Concurrent with a different value: every value is kept, the largest HLC provisionally wins.
        case conflict
    }

    /// What happened.
    package var kind: Kind
    /// The field's state after the change.
    package var state: FieldState
    /// Whether the field was in conflict before and is not any more (a resolution landed).
    package var resolvedConflict: Bool
}

/// The merge rule: a pure function from a field's state and an incoming change to an outcome.
///
/// The state of a field is the set of its heads: the known versions that no known change lists
/// as a parent (its base, or one of the versions it supersedes). Applying a change removes its
/// parents from the heads and adds the change itself unless a known change already builds on
/// it. The heads therefore depend only on the *set* of changes received, never on their order
/// or on redelivery, and so does everything derived from them: the winner (largest HLC), the
/// conflict (more than one distinct value) and its values. That is why every replica converges.
package enum MergeRule {
    /// What the caller knows from its store about the incoming change.
    package struct Knowledge: Sendable {
        /// The change's HLC is already stored (history included).
        package var isKnown: Bool
        /// Some stored change of the same record and field lists this change as a parent.
        package var isParentOfKnownChange: Bool

        /// Both facts; both default to false (a change never seen before).
        package init(isKnown: Bool = false, isParentOfKnownChange: Bool = false) {
            self.isKnown = isKnown
            self.isParentOfKnownChange = isParentOfKnownChange
        }
    }

    /// Merges `change` into `state`.
    package static func merge(_ state: FieldState, _ change: Change, knowledge: Knowledge = .init()) -> MergeOutcome {
        let wasConflicted = state.isConflicted
        if knowledge.isKnown || state.heads.contains(where: { $0.hlc == change.hlc }) {
            return MergeOutcome(kind: .duplicate, state: state, resolvedConflict: false)
        }
        let parents = Set(change.parents)
        if knowledge.isParentOfKnownChange {
            // Its descendant is already here; its own parents are superseded all the same.
            let next = state.replacing(parents, with: nil)
            return MergeOutcome(kind: .superseded, state: next, resolvedConflict: wasConflicted && !next.isConflicted)
        }
        // The heads stay sorted: the merge costs time linear in their number, never a sort.
        let next = state.replacing(parents, with: Version(change))
        let replacedAll = next.heads.count == 1
        let kind: MergeOutcome.Kind
        if next.isConflicted {
            kind = .conflict
        } else if replacedAll {
            kind = .fastForward
        } else {
            kind = .sameValue
        }
        return MergeOutcome(kind: kind, state: next, resolvedConflict: wasConflicted && !next.isConflicted)
    }

    /// Bounds on what one change and one field may carry, so that no request can make the merge
    /// (run under the server's write lock) slow: far above what people editing a record reach.
    package enum Limits {
        /// Most concurrent versions (heads) one field may hold; a change that would add one more is refused.
        package static let headsPerField = 256
        /// Most versions one change may supersede besides its base.
        package static let supersedes = 256
        /// Most versions one delete may list as covered.
        package static let covers = 512
    }

    /// What makes a change carry more versions than `Limits` allow; nil when it is within them.
    package static func sizeProblem(_ change: Change) -> String? {
        if change.supersedes.count > Limits.supersedes {
            return "the change supersedes \(change.supersedes.count) versions; at most \(Limits.supersedes) are accepted"
        }
        if change.covers.count > Limits.covers {
            return "the delete lists \(change.covers.count) covered versions; at most \(Limits.covers) are accepted"
        }
        return nil
    }

    /// Structural checks a change must pass before it is merged; nil when it is sound.
    ///
    /// A change must be later than every version it builds on (so parents can never form a
    /// cycle), may not list itself, and only a delete marker may carry `covers`.
    package static func structuralProblem(_ change: Change) -> String? {
        if change.parents.contains(change.hlc) {
            return "the change lists itself as its base"
        }
        if let parent = change.parents.first(where: { $0 >= change.hlc }) {
            return "the change (\(change.hlc.text)) is not later than the version it builds on (\(parent.text)): the device clock is probably wrong"
        }
        if !change.covers.isEmpty && !change.isDeletionMarker {
            return "only a delete may list the versions it covers"
        }
        if change.isDeletionMarker, !change.value.isBool {
            return "the field \(Change.deletedField) takes true (delete) or false (restore)"
        }
        return nil
    }
}
