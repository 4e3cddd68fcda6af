import Foundation

/// The automatic merge of a field whose heads hold different values: the value that combines
/// them, computed from the heads and the history they build on, or a conflict.
///
/// The rule: the heads' values are merged by the field type's `MergeHook` from the value of their
/// merge base. The merge base is their best common ancestor (`MergeBase`); when there are several
/// (people who each edited the merged text of the same versions), it is their own merge, found the
/// same way (as git's recursive merge does). The result is a conflict when the hook refuses, when
/// the heads share no ancestor (unless the hook gives a base for that: files merge from none), when a version the walk must read is not held, or when the walks of
/// one merge read more than `budget` versions.
///
/// Every input is a version named by the heads or by what they build on, and each version's
/// content is fixed by its HLC, so any replica holding those versions gets the same result: the
/// value shown is a function of the set of changes held. A replica that lacks one (it joined from a
/// snapshot, which carries heads only) sees a conflict until it has fetched them; `read` lists what
/// a merge read, which is what the server sends for that (`/history`).
package struct FieldMerge: Sendable {
    /// How many versions the walks of one merge may read.
    package static let defaultBudget = 4_096

    /// What the merge decided.
    package enum Outcome: Equatable, Sendable {
        /// The heads combine into this value.
        case merged(FieldValue)
        /// They do not: the field is in conflict.
        case conflict(Failure)
        /// The graph does not answer for these versions yet: load them and merge again.
        case needs(Set<HLC>)
    }

    /// Why a merge gave a conflict.
    package enum Failure: Equatable, Sendable {
        /// The hook refused: the versions change the same part differently.
        case overlapping
        /// The versions share no ancestor.
        case noCommonBase
        /// A version the merge must read is not held (on a replica: fetch it from the server).
        case missing(HLC)
        /// The history between the versions and their base is longer than the budget.
        case tooLong
    }

    /// The versions read so far.
    package private(set) var read: Set<HLC> = []
    private var budget: Int
    private let hook: MergeHook

    /// A merge with `hook`, reading at most `budget` versions.
    package init(hook: MergeHook, budget: Int = FieldMerge.defaultBudget) {
        self.hook = hook
        self.budget = budget
    }

    /// The merge of a field's heads, nil when there is nothing to merge (one value, or no hook).
    package static func resolve(_ state: FieldState, hook: MergeHook?, graph: VersionGraph) -> Outcome? {
        guard let hook, state.isConflicted else { return nil }
        var merge = FieldMerge(hook: hook)
        return merge.merge(state.heads.map(\.hlc), graph: graph)
    }

    /// The value of versions `heads` taken together: the one value they hold, or their merge.
    package mutating func merge(_ heads: [HLC], graph: VersionGraph) -> Outcome {
        let sorted = heads.sorted(by: >)
        var values: [FieldValue] = []
        var unknown = Set<HLC>()
        for hlc in sorted {
            guard let node = graph.nodes[hlc] else {
                if graph.isAbsent(hlc) { return .conflict(.missing(hlc)) }
                unknown.insert(hlc)
                continue
            }
            read.insert(hlc)
            if !values.contains(node.value) { values.append(node.value) }
        }
        if !unknown.isEmpty { return .needs(unknown) }
        if values.count <= 1 { return .merged(values.first ?? .unset) }
        let base: FieldValue
        switch baseValue(of: sorted, graph: graph) {
        case .merged(let value): base = value
        case .conflict(.noCommonBase) where hook.baseWhenUnrelated != nil: base = hook.baseWhenUnrelated ?? .unset
        case let other: return other
        }
        guard let merged = hook.merge(base, values) else { return .conflict(.overlapping) }
        return .merged(merged)
    }

    /// The value versions `heads` diverged from (their merge base), as `merge` uses it: what a
    /// person resolving their conflict is shown as the base.
    package mutating func base(of heads: [HLC], graph: VersionGraph) -> Outcome {
        baseValue(of: heads.sorted(by: >), graph: graph)
    }

    /// The value `heads` diverged from: their best common ancestor's, or the merge of several.
    private mutating func baseValue(of heads: [HLC], graph: VersionGraph) -> Outcome {
        switch MergeBase.walk(heads, in: graph, budget: &budget, read: &read) {
        case .found(let ancestors) where ancestors.count == 1:
            return .merged(graph.nodes[ancestors[0]]?.value ?? .unset)
        case .found(let ancestors):
            return merge(ancestors, graph: graph)
        case .none:
            return .conflict(.noCommonBase)
        case .needs(let hlcs):
            return .needs(hlcs)
        case .missing(let hlc):
            return .conflict(.missing(hlc))
        case .tooLong:
            return .conflict(.tooLong)
        }
    }
}
