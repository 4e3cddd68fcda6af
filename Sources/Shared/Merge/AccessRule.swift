import Foundation

/// Who may read a record: the whole team, or the members of one or more groups (and admins).
///
/// A record's access is the reserved field `_access` (`Change.accessField`), a list of group names
/// (an empty list or `unset`: the whole team), so it travels, merges and keeps its history like any
/// field. Concurrent access values (more than one head) are not merged into a new value: the record
/// may be read only by whoever *every* head lets read it, so two researchers restricting a record at
/// once, or one restricting while another widens it, never make it visible to someone that either
/// of them meant to keep out. The conflict stays open until someone resolves it.
///
/// The server keeps each record's *access class*, a canonical text of its heads' groups, so that
/// deciding whether a user may read it needs only the class and the user's groups.
package enum AccessRule {
    /// The class of a record everyone in the project may read.
    package static let team = ""

    /// The class of a record whose `_access` heads hold these values: each head that restricts
    /// gives one clause (its groups, sorted, joined by `,`), clauses sorted and joined by `|`.
    /// A head that leaves the record to the team adds no clause.
    package static func accessClass(_ heads: [FieldValue]) -> String {
        var clauses = Set<String>()
        for value in heads {
            let groups = groups(value)
            if !groups.isEmpty { clauses.insert(groups.sorted().joined(separator: ",")) }
        }
        return clauses.sorted().joined(separator: "|")
    }

    /// The groups one `_access` value names (empty: the whole team).
    package static func groups(_ value: FieldValue) -> [String] {
        if case .list(let names) = value { return Array(Set(names)).sorted() }
        return []
    }

    /// Whether a member of `groups` may read a record of class `accessClass`: the team class, or a
    /// group of every clause. Admins read everything and do not ask.
    package static func mayRead(_ accessClass: String, groups: Set<String>) -> Bool {
        guard accessClass != team else { return true }
        return accessClass.split(separator: "|").allSatisfy { clause in
            clause.split(separator: ",").contains { groups.contains(String($0)) }
        }
    }

    /// Every group a class names.
    package static func groupsNamed(by accessClass: String) -> Set<String> {
        Set(accessClass.split(whereSeparator: { $0 == "|" || $0 == "," }).map(String.init))
    }

    /// The rule for group names, for messages.
    package static let groupNameRule = ProjectName.rule

    /// Whether `name` may name a group (the project naming rule).
    package static func isValidGroupName(_ name: String) -> Bool { ProjectName.isValid(name) }
}
