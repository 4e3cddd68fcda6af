import Foundation
import Shared

/// A user's role in a project.
enum Role: String, Codable, Sendable, CaseIterable {
    case admin, researcher, viewer

    /// Whether the role may push changes.
    var canPush: Bool { self != .viewer }
}

/// Who a valid token belongs to.
struct AuthenticatedUser: Sendable, Equatable {
    var id: Int64
    var name: String
}

/// What a token's user may do in one project.
struct Membership: Sendable, Equatable {
    var project: String
    var role: Role
    /// The project's groups the user is a member of (need-to-know, `AccessRule`).
    var groups: Set<String> = []
    /// The user's id (0 when not loaded from a store).
    var userID: Int64 = 0

    /// What the user may read.
    var access: ReadAccess { role == .admin ? .everything : ReadAccess(groups: groups, userID: userID) }
}
