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
}

/// A page of the change log.
struct PullPage: Sendable {
    var changes: [Wire.LoggedChange]
    var conflicts: [Wire.ConflictState]
    var cursor: Int64
    var more: Bool
    var latest: Int64
}

/// A puller's own changes it already holds: those made by `node` up to sequence number `upTo`.
struct OwnChanges: Sendable {
    var node: NodeID
    var upTo: Int64
}

/// A page of the current-versions snapshot.
struct SnapshotPage: Sendable {
    var changes: [Wire.LoggedChange]
    var since: Int64
    var next: HLC?
    var total: Int?
}

/// The server's storage, whatever the backend.
///
/// Every method is one transaction. `push` assigns sequence numbers that are visible in commit
/// order: a puller that has seen sequence number N can never later find a change numbered
/// below N. The SQLite store gets this from its single writer; a PostgreSQL store must take a
/// per-project lock (the project's counter row) for the length of the push transaction.
protocol SyncStore: Sendable {
    /// Creates a project; throws `StoreError.conflict` when the name is taken.
    func createProject(name: String, schema: Schema, now: UInt64) async throws
    /// The project's schema, or nil when there is no such project.
    func schema(project: String) async throws -> Schema?
    /// Adds a user (or a membership of an existing user) with a new token; only the token's hash is stored.
    func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws
    /// Revokes every token of a user; throws `StoreError.notFound` when there is no such user.
    func revokeUser(name: String, now: UInt64) async throws
    /// The user a token hash belongs to, if the token is valid and not revoked.
    func authenticate(tokenHash: Data) async throws -> AuthenticatedUser?
    /// The user's membership of a project, nil when not a member (or no such project).
    func membership(userID: Int64, project: String) async throws -> Membership?
    /// Validates and merges a batch of changes in one transaction.
    func push(project: String, changes: [Change], author: String, policy: PushPolicy) async throws -> [Wire.ChangeResult]
    /// Accepted changes after `after`, oldest first, at most `limit`; changes made by `skip`'s node
    /// with sequence numbers up to its bound are left out (the puller already has them).
    func pull(project: String, after: Int64, limit: Int, skip: OwnChanges?) async throws -> PullPage
    /// Current versions with HLC above `after`, ordered by HLC.
    func snapshot(project: String, after: HLC?, limit: Int) async throws -> SnapshotPage
}

extension SyncStore {
    /// Every accepted change after `after`.
    func pull(project: String, after: Int64, limit: Int) async throws -> PullPage {
        try await pull(project: project, after: after, limit: limit, skip: nil)
    }
}

extension StoreError {
    /// A pull after a sequence number the log never reached: the server lost history (restored
    /// from an older backup, or replaced). Answering with an empty page would hide every change
    /// numbered up to the replica's cursor from it forever, so the pull is refused instead.
    static func cursorAhead(after: Int64, latest: Int64) -> StoreError {
        .conflict("this replica has pulled the change log up to \(after), but the server's log ends at \(latest): "
                  + "the server was restored from an older backup or replaced. Nothing is lost on this replica: "
                  + "export what it holds, then start a new replica with 'casebook init' (see docs/deployment.md, Backups)")
    }
}

/// A storage failure, translated into an HTTP status at the boundary.
enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case unavailable(String)

    var description: String {
        switch self {
        case .notFound(let message), .conflict(let message), .unavailable(let message): message
        }
    }
}

/// A store found its own data inconsistent (a defect, not the client's fault): the transaction is
/// rolled back and the request answered 500, with this in the log.
struct StoreDefect: Error, CustomStringConvertible {
    let description: String
}
