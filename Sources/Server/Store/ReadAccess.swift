import Foundation
import Shared

/// What one user may read of a project: everything (admins, and the stores' own callers), or the
/// team's records and those of the groups they belong to (`AccessRule`).
///
/// `visibleClasses(among:)` is the one place where a pull, a snapshot or any read of records
/// decides which stored entries a user may see: every store read that serves record data filters
/// through it (or through `mayRead`, which it is built on).
struct ReadAccess: Sendable, Equatable {
    /// Nil: everything.
    var groups: Set<String>?
    /// The user (to find their own changes of groups since a cursor); nil for the stores' own callers.
    var userID: Int64?

    init(groups: Set<String>?, userID: Int64? = nil) {
        self.groups = groups
        self.userID = userID
    }

    /// Reads every record.
    static let everything = ReadAccess(groups: nil)

    /// Whether a record of this access class may be read.
    func mayRead(_ accessClass: String) -> Bool {
        guard let groups else { return true }
        return AccessRule.mayRead(accessClass, groups: groups)
    }

    /// Which of the project's access classes the user may not read (none for a reader of everything):
    /// a pull withholds their entries, giving only their digests (docs/protocol.md, "The log's hash chain").
    func hiddenClasses(among classes: [String]) -> [String] {
        guard groups != nil else { return [] }
        return classes.filter { !mayRead($0) }.sorted()
    }

    /// Which of the project's access classes the user may read, the team's always among them;
    /// nil when they may read every class there is (the reads then need no filter at all).
    func visibleClasses(among classes: [String]) -> [String]? {
        guard groups != nil else { return nil }
        let visible = classes.filter(mayRead)
        guard visible.count < classes.count else { return nil }
        return Array(Set(visible + [AccessRule.team])).sorted()
    }
}
