import Foundation

/// A group of a project and its members' names, as `casebook-server group list` shows it.
struct GroupInfo: Sendable, Equatable, Codable {
    var name: String
    var members: [String]
}

/// The messages of group commands that both stores give.
enum GroupMessages {
    static func noGroup(_ group: String, project: String) -> String {
        "project '\(project)' has no group named '\(group)': make it with 'casebook-server group add \(group) --project \(project)'"
    }

    static func notMember(_ user: String, project: String) -> String {
        "'\(user)' is not a member of project '\(project)': add them first with 'casebook-server user add'"
    }
}
