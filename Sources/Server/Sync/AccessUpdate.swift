import Foundation
import Shared

/// A record whose access class a push sets: a new record that is not the team's, or a stored
/// record whose `_access` heads the batch changed. The store writes the class on the record, its
/// heads and every change of its history, so that reads filter by an index (`ReadAccess`).
struct AccessUpdate: Sendable, Equatable {
    var record: String
    /// The class before the batch; nil for a record the batch made.
    var before: String?
    var after: String

    /// The updates a final plan makes, given the classes stored before it.
    static func updates(_ plan: PushPlan, stored: [String: String]) -> [AccessUpdate] {
        var updates: [AccessUpdate] = []
        for (key, versions) in plan.heads where key.field == Change.accessField {
            let after = AccessRule.accessClass(versions.map(\.value))
            let before = stored[key.record]
            if before != after && !(before == nil && after == AccessRule.team) {
                updates.append(AccessUpdate(record: key.record, before: plan.newRecords[key.record] == nil ? before ?? AccessRule.team : nil, after: after))
            }
        }
        return updates.sorted { $0.record < $1.record }
    }
}
