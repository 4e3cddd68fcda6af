import Foundation
import Shared

/// Stored versions of fields, loaded for automatic merges (`FieldMerge`) as a merge asks for them:
/// by the push planner (`PushPlan.needs`) and by the history endpoint (`HistoryWalk`).
typealias FieldHistory = [FieldKey: VersionGraph]

extension FieldHistory {
    /// Records what a store found for the versions `asked`, by field: a change counts only for its
    /// own record and field (a version named across fields is absent there, as the merge rule says).
    mutating func loaded(_ asked: [FieldKey: Set<HLC>], found: [Change]) {
        var byField: [FieldKey: [Change]] = [:]
        for change in found { byField[FieldKey(record: change.record, field: change.field), default: []].append(change) }
        for (key, hlcs) in asked {
            let changes = (byField[key] ?? []).filter { hlcs.contains($0.hlc) }
            self[key, default: VersionGraph()].loaded(hlcs, found: changes)
        }
    }
}
