import Foundation
import NIOCore
import Shared

/// The server's storage, whatever the backend.
///
/// Every method is one transaction. `push` assigns sequence numbers that are visible in commit
/// order: a puller that has seen sequence number N can never later find a change numbered
/// below N. The SQLite store gets this from its single writer; a PostgreSQL store must take a
/// per-project lock (the project's counter row) for the length of the push transaction.
///
/// Pages are returned as the wire types, cut by `PageCutter`; their `serverTime` is left 0 for
/// the HTTP layer to stamp when it answers.
protocol SyncStore: Sendable {
    /// Creates a project; throws `StoreError.conflict` when the name is taken.
    func createProject(name: String, schema: Schema, now: UInt64) async throws
    /// The project's schema, or nil when there is no such project.
    func schema(project: String) async throws -> Schema?
    /// Replaces the project's schema with a new version when `SchemaEvolution` and the stored
    /// records allow it, in one transaction (with `dryRun`, only says what it would do).
    func replaceSchema(project: String, with schema: Schema, dryRun: Bool) async throws -> SchemaReplacement
    /// Every project (or only `name`'s: `.notFound` when there is none), for `project list/show`.
    func projectSummaries(name: String?) async throws -> [ProjectSummary]
    /// Adds a user (or a membership of an existing user) with a new token; only the token's hash is stored.
    /// A revoked user's name is added again as that user with only this membership (their old tokens stay dead).
    func addUser(name: String, project: String, role: Role, tokenHash: Data, now: UInt64) async throws
    /// Revokes every token of a user; throws `StoreError.notFound` when there is no such user.
    func revokeUser(name: String, now: UInt64) async throws
    /// Revokes one token of a user, named by its id (`TokenHasher.id`, or a prefix of at least 8 hex digits);
    /// throws `StoreError.notFound` when no token of the user has that id, `.conflict` when several do.
    func revokeToken(user: String, tokenID: String) async throws
    /// Removes a user from one project (their tokens keep working for the others); throws
    /// `StoreError.notFound` when the user is not a member of it.
    func removeMember(user: String, project: String) async throws
    /// The user a token hash belongs to, if the token is valid and not revoked.
    func authenticate(tokenHash: Data) async throws -> AuthenticatedUser?
    /// The user's membership of a project, nil when not a member (or no such project).
    func membership(userID: Int64, project: String) async throws -> Membership?
    /// Validates and merges a batch of changes in one transaction, storing the signed batches that
    /// hold them (checked by the caller, `PushSignatures`) and which batch holds each.
    /// A change of a record `reader` may not read is refused as an unknown record (`PushPlanner.hiddenRecord`).
    func push(project: String, changes: [Change], author: String, reader: ReadAccess, policy: PushPolicy,
              signatures: PushSignatures) async throws -> [Wire.ChangeResult]
    /// Accepted changes after `after`, oldest first, at most `limit` and about `maxBytes` (a first change
    /// larger than that alone); the puller's own changes named by `skip` are left out (it already has them).
    /// Only changes of records `reader` may read are served (`ReadAccess.visibleClasses`).
    func pull(project: String, after: Int64, limit: Int, maxBytes: Int, skip: Wire.OwnChanges?, reader: ReadAccess) async throws -> Wire.PullResponse
    /// The user a node id belongs to in a project (the author of the first push that carried it), nil when none has.
    func nodeOwner(project: String, node: NodeID) async throws -> String?
    /// Current versions with HLC above `after`, ordered by HLC, at most `limit` and about `maxBytes`.
    /// Only records `reader` may read are served, and counted.
    func snapshot(project: String, after: HLC?, limit: Int, maxBytes: Int, reader: ReadAccess) async throws -> Wire.SnapshotResponse

    // MARK: Devices (docs/protocol.md, "Signatures")

    /// Registers a device of `owner` with its Ed25519 key and, when given, its X25519 agreement key
    /// with the signature binding it (checked by the caller). Registering the same keys again is a
    /// no-op, and a device registered without an agreement key gets it added; throws `.conflict`
    /// when the node belongs to another user or has another key of either kind.
    func registerDevice(project: String, node: NodeID, owner: String, signingKey: Data, agreement: DeviceAgreement?, now: UInt64) async throws
    /// The project's devices, oldest first.
    func devices(project: String) async throws -> [Wire.Device]
    /// The project's server agreement key (X25519, 32 private bytes), stored as `made` when it has none yet.
    func agreementKey(project: String, made: [UInt8], now: UInt64) async throws -> [UInt8]
    /// Revokes a device in every project it is registered in (or only `project`); returns how many
    /// registrations it revoked (0: none, or all revoked already).
    func revokeDevice(node: NodeID, project: String?, now: UInt64) async throws -> Int

    // MARK: Evidence files (docs/protocol.md, "Evidence files")

    /// What the project holds of each file, in the order asked (`received` 0 for none).
    func fileStatus(project: String, hashes: [String]) async throws -> [Wire.FileStatus]
    /// What the project holds of one file, nil when nothing (read before a chunk's body, to answer
    /// without reading it when the state alone decides).
    func storedFile(project: String, sha256: String) async throws -> StoredFile?
    /// Checks a chunk in the protocol's order (`ChunkRules`) and stores it durably. The last chunk
    /// completes the file when the whole hashes to its name, with a `received` custody event by
    /// `user`; otherwise everything held of the upload is dropped (`.hashMismatch`). Two uploads of
    /// the same file racing end with one copy. A full disk or database throws `.insufficientStorage`.
    func putChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer
    /// Chunk `index` of a complete file, with the file's size and the chunk's SHA-256 as checked when it
    /// arrived (nil when the store did not keep it: the caller hashes the bytes); nil when the project
    /// has no complete file of that hash or the file no such chunk.
    func chunk(project: String, sha256: String, index: Int64) async throws -> ServedChunk?
    /// Whether `reader` may download the file: some record they may read names it, or no record does.
    func mayReadFile(project: String, sha256: String, reader: ReadAccess) async throws -> Bool
    /// Appends the events whose id is not stored yet, with `by` set to `user`, in order; returns how many were new.
    func appendCustody(project: String, events: [Wire.CustodyEvent], user: String, now: UInt64) async throws -> Int
    /// The project's custody events with `seq > after`, oldest first, at most `limit`.
    /// Events naming a record `reader` may not read are left out (the cursor still passes them).
    func custody(project: String, after: Int64, limit: Int, reader: ReadAccess) async throws -> Wire.CustodyPage
    /// The project's file quota and what its files take.
    func fileUsage(project: String) async throws -> FileUsage
    /// Sets the project's file quota (nil: back to the default); throws `.notFound` without such a project.
    func setFileQuota(project: String, bytes: Int64?) async throws
    /// Removes (with `dryRun`, only lists) the complete and partial files no live record of the
    /// project references (`FileReferences`); custody logs stay.
    func purgeFiles(project: String, dryRun: Bool) async throws -> FilePurge
    /// The stored versions the automatic merge of each field's heads reads (`HistoryWalk`), field by
    /// field until about `maxBytes` (at least one field).
    /// Fields of records `reader` may not read get the answer of a record that does not exist.
    func history(project: String, fields: [Wire.HistoryRequest.Field], maxBytes: Int, reader: ReadAccess) async throws -> Wire.HistoryResponse

    // MARK: Need-to-know (docs/security.md)

    /// Makes a group; throws `.notFound` without the project, `.conflict` when it has the group.
    func addGroup(project: String, name: String, now: UInt64) async throws
    /// Adds (or removes) a member of the project to a group; `.notFound` for a group or member the project lacks.
    func changeGroupMember(project: String, group: String, user: String, add: Bool) async throws
    /// The project's groups and their members, by name.
    func groups(project: String) async throws -> [GroupInfo]
    /// Every stored change of each record `reader` may read, oldest first (records they may not read,
    /// like records that do not exist, give none): what a replica fetches of a record granted to it.
    func records(project: String, ids: [String], reader: ReadAccess) async throws -> Wire.RecordsResponse

    // MARK: Project keys (docs/protocol.md, "Sensitive fields"): only wrapped copies, never a key.
    /// The project's keys (oldest first), the wraps made for `owner`'s devices, and the project's members.
    func projectKeys(project: String, owner: String) async throws -> Wire.ProjectKeys
    /// Makes `creation` the project's current key, with its wraps, if `previous` is still the current key
    /// (nil: the project has none); false (and nothing stored) when another key came first.
    func createProjectKey(project: String, creation: Wire.KeyCreation, creator: String, now: UInt64) async throws -> Bool
    /// Stores wraps of an existing key; a wrap for a device that has one of that key already is kept as it was.
    func addKeyWraps(project: String, keyID: String, wraps: [Wire.KeyWrap], now: UInt64) async throws
}

extension SyncStore {
    /// Merges changes without signatures, as a user who may read every record: for tests of the merge
    /// and for tools that write the store directly; the HTTP layer always passes the checked signatures.
    func push(project: String, changes: [Change], author: String, policy: PushPolicy) async throws -> [Wire.ChangeResult] {
        try await push(project: project, changes: changes, author: author, reader: .everything, policy: policy, signatures: PushSignatures())
    }

    /// Merges changes without signatures as `reader` (tests of need-to-know).
    func push(project: String, changes: [Change], author: String, reader: ReadAccess, policy: PushPolicy) async throws -> [Wire.ChangeResult] {
        try await push(project: project, changes: changes, author: author, reader: reader, policy: policy, signatures: PushSignatures())
    }

    /// Accepted changes of every record.
    func pull(project: String, after: Int64, limit: Int, maxBytes: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        try await pull(project: project, after: after, limit: limit, maxBytes: maxBytes, skip: skip, reader: .everything)
    }

    /// Current versions of every record.
    func snapshot(project: String, after: HLC?, limit: Int, maxBytes: Int) async throws -> Wire.SnapshotResponse {
        try await snapshot(project: project, after: after, limit: limit, maxBytes: maxBytes, reader: .everything)
    }

    /// Stored versions of any record.
    func history(project: String, fields: [Wire.HistoryRequest.Field], maxBytes: Int) async throws -> Wire.HistoryResponse {
        try await history(project: project, fields: fields, maxBytes: maxBytes, reader: .everything)
    }

    /// Every custody event after `after`.
    func custody(project: String, after: Int64, limit: Int) async throws -> Wire.CustodyPage {
        try await custody(project: project, after: after, limit: limit, reader: .everything)
    }

    /// Every accepted change after `after`.
    func pull(project: String, after: Int64, limit: Int) async throws -> Wire.PullResponse {
        try await pull(project: project, after: after, limit: limit, maxBytes: PageCutter.defaultMaxBytes, skip: nil)
    }

    /// Accepted changes after `after`, in pages of the default byte budget.
    func pull(project: String, after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        try await pull(project: project, after: after, limit: limit, maxBytes: PageCutter.defaultMaxBytes, skip: skip)
    }

    /// Current versions, in pages of the default byte budget.
    func snapshot(project: String, after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try await snapshot(project: project, after: after, limit: limit, maxBytes: PageCutter.defaultMaxBytes)
    }
}
