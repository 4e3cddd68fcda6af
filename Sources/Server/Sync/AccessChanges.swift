import Foundation
import Shared

/// What changed in what one user may read since their cursor: the records a pull page tells their
/// replica to remove, and those it tells it to fetch whole (`Wire.PullResponse.removed`, `granted`).
///
/// Pure: the store loads the access events after the cursor (`access_event`: a record's class
/// changed, or a user joined or left a group), the classes those records have now, and, when the
/// user's own groups changed, the records of the classes that flipped for them (by an index).
struct AccessChanges: Sendable, Equatable {
    /// One row of `access_event`.
    struct Event: Sendable {
        var seq: Int64
        var record: String?
        var userID: Int64?
        var before: String?
        var after: String?
    }

    var removed: [String] = []
    var granted: [String] = []

    /// The user's groups at the cursor: their groups now, with their joins and departures after it undone.
    static func groupsAtCursor(_ events: [Event], userID: Int64, now: Set<String>) -> Set<String> {
        var groups = now
        for event in events.reversed() where event.userID == userID && event.record == nil {
            if let joined = event.after { groups.remove(joined) }
            if let left = event.before { groups.insert(left) }
        }
        return groups
    }

    /// The classes a user's change of groups made readable or unreadable for them.
    static func flippedClasses(_ classes: [String], then: Set<String>, now: Set<String>) -> [String] {
        guard then != now else { return [] }
        return classes.filter { AccessRule.mayRead($0, groups: then) != AccessRule.mayRead($0, groups: now) }
    }

    /// Decides each candidate record: `classNow` for every record named by an event or of a flipped class.
    static func decide(_ events: [Event], classNow: [String: String], groupsThen: Set<String>, groupsNow: Set<String>) -> AccessChanges {
        // A record's class at the cursor: before its first change of class after it, else its class now.
        var classThen: [String: String] = [:]
        for event in events {
            if let record = event.record, classThen[record] == nil { classThen[record] = event.before ?? AccessRule.team }
        }
        var changes = AccessChanges()
        for (record, now) in classNow.sorted(by: { $0.key < $1.key }) {
            let before = AccessRule.mayRead(classThen[record] ?? now, groups: groupsThen)
            let after = AccessRule.mayRead(now, groups: groupsNow)
            if before && !after { changes.removed.append(record) }
            if !before && after { changes.granted.append(record) }
        }
        return changes
    }
}

extension Array {
    /// Nil when empty (a key left out of a page).
    var nonEmpty: Self? { isEmpty ? nil : self }
}
