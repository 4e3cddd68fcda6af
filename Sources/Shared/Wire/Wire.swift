import Foundation

/// The wire protocol's types, shared by server and client. Every path starts with `/v1`.
package enum Wire {
    /// The protocol version in paths.
    package static let version = "v1"
    /// The response header that carries the server's clock (milliseconds since the epoch).
    package static let serverTimeHeader = "X-Casebook-Server-Time"
    /// The response header, sent over TLS only, that lists the server's key and the keys it will
    /// switch to (`ServerKey.list`): a replica that checked the first learns the others.
    package static let serverKeysHeader = "Casebook-Server-Keys"

    /// `POST /v1/projects/{p}/push`: a batch of changes, applied in order in one transaction.
    package struct PushRequest: Codable, Sendable {
        package var changes: [Change]
        /// The signed batches that hold the changes' digests (docs/protocol.md, "Signatures").
        package var batches: [SignedBatch]
        /// The oldest schema version the changes were made with (a replica that fetched a new schema
        /// while changes were pending names the one before): the server refuses retired fields and
        /// terms only to changes made with its current version. Nil from replicas before versions.
        package var schemaVersion: Int?
        package init(changes: [Change], batches: [SignedBatch] = [], schemaVersion: Int? = nil) {
            self.changes = changes
            self.batches = batches
            self.schemaVersion = schemaVersion
        }

        private enum CodingKeys: String, CodingKey { case changes, batches, schemaVersion }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            changes = try container.decode([Change].self, forKey: .changes)
            batches = try container.decodeIfPresent([SignedBatch].self, forKey: .batches) ?? []
            schemaVersion = try container.decodeIfPresent(Int.self, forKey: .schemaVersion)
        }
    }

    /// What happened to one pushed change.
    package enum ChangeStatus: String, Codable, Sendable {
        /// Accepted and stored: it is the field's value now, a same-value concurrent edit, or an older
        /// version that arrived after a change built on it (kept in history).
        case applied
        /// Already known: a retry of something accepted before.
        case duplicate
        /// Accepted and it conflicts with a concurrent value; `conflict` names the conflict.
        case conflict
        /// Refused; `reason` says why. The rest of the batch is unaffected.
        case rejected
    }

    /// The result for one change of a push, in the order of the request.
    package struct ChangeResult: Codable, Sendable, Equatable {
        package var hlc: HLC
        package var status: ChangeStatus
        /// The server's sequence number when the change is stored (applied or conflict).
        package var seq: Int64?
        /// The conflict id for `conflict`.
        package var conflict: String?
        /// A machine-readable code for `rejected`: `invalid`, `clock_ahead` or `id_reused`.
        package var code: String?
        /// A sentence for people for `rejected`.
        package var reason: String?

        package init(hlc: HLC, status: ChangeStatus, seq: Int64? = nil, conflict: String? = nil, code: String? = nil, reason: String? = nil) {
            self.hlc = hlc
            self.status = status
            self.seq = seq
            self.conflict = conflict
            self.code = code
            self.reason = reason
        }
    }

    /// The response to a push.
    package struct PushResponse: Codable, Sendable {
        package var results: [ChangeResult]
        /// The server's clock when it answered, milliseconds since the epoch.
        package var serverTime: UInt64
        package init(results: [ChangeResult], serverTime: UInt64) {
            self.results = results
            self.serverTime = serverTime
        }
    }

    /// One accepted change as the server keeps it: the change, its sequence number and when it arrived.
    package struct LoggedChange: Codable, Sendable, Equatable {
        package var seq: Int64
        package var change: Change
        /// The server's clock when the change was accepted, milliseconds since the epoch.
        package var receivedAt: UInt64
        package init(seq: Int64, change: Change, receivedAt: UInt64) {
            self.seq = seq
            self.change = change
            self.receivedAt = receivedAt
        }
    }

    /// A conflict as the server's `conflict` table keeps it: open, or closed by a resolution.
    ///
    /// Pulls used to carry these; no client read them (a replica derives its conflicts from the
    /// heads), so pages now carry an empty `conflicts` list (see `PullResponse`).
    package struct ConflictState: Codable, Sendable, Equatable {
        package var conflict: Conflict
        package var open: Bool
        package init(conflict: Conflict, open: Bool) {
            self.conflict = conflict
            self.open = open
        }
    }

    /// `GET /v1/projects/{p}/pull?after=SEQ&limit=N`: accepted changes after a cursor, oldest first.
    ///
    /// The JSON also holds `"conflicts": []`: clients before this version require the key (see
    /// `Wire+PullResponse.swift` and docs/protocol.md).
    package struct PullResponse: Sendable {
        package var changes: [LoggedChange]
        /// The cursor for the next page: the last sequence number in this page (or the request's).
        package var cursor: Int64
        /// Whether more changes follow.
        package var more: Bool
        /// The project's latest sequence number, so a client can show progress.
        package var latest: Int64
        /// The server's clock, milliseconds since the epoch.
        package var serverTime: UInt64
        /// The project's latest custody position (`CustodyEvent.seq`, 0 for none), so a replica asks for
        /// the custody log only when it grew; nil from servers before evidence files.
        package var custodySeq: Int64?
        /// The signed batches that hold the page's changes.
        package var batches: [SignedBatch] = []
        /// The last sequence number stored before the server signed changes: only changes up to it
        /// may come without a signature. Nil from servers before signatures.
        package var unsignedUpTo: Int64?
        /// The log's hash chain over `(after, cursor]`; nil from servers before it.
        package var chain: PageChain?
        /// Records the puller could read at the request's cursor and may not read now: the replica
        /// removes them, their history, conflicts and files (need-to-know). Absent when none.
        package var removed: [String]?
        /// Records the puller could not read at the request's cursor and may read now: the replica
        /// fetches their whole history (`POST /records`), since the cursor passed it. Absent when none.
        package var granted: [String]?
        /// The version of the project's schema now: a replica with an older one fetches the schema
        /// before applying the page. Nil from servers before schema versions.
        package var schemaVersion: Int?

        package init(changes: [LoggedChange], cursor: Int64, more: Bool, latest: Int64, serverTime: UInt64, custodySeq: Int64? = nil,
                     batches: [SignedBatch] = [], unsignedUpTo: Int64? = nil, chain: PageChain? = nil,
                     removed: [String]? = nil, granted: [String]? = nil, schemaVersion: Int? = nil) {
            self.schemaVersion = schemaVersion
            self.batches = batches
            self.unsignedUpTo = unsignedUpTo
            self.changes = changes
            self.cursor = cursor
            self.more = more
            self.latest = latest
            self.serverTime = serverTime
            self.custodySeq = custodySeq
            self.chain = chain
            self.removed = removed
            self.granted = granted
        }
    }

    /// `GET /v1/projects/{p}/snapshot?after=HLC&limit=N`: the current versions of every field,
    /// for a replica's first sync, without the superseded history.
    package struct SnapshotResponse: Codable, Sendable {
        /// Current versions (field heads) ordered by HLC.
        package var changes: [LoggedChange]
        /// The project's sequence number when this page was read. A client keeps the value of the
        /// first page and pulls the log from there once the snapshot is complete.
        package var since: Int64
        /// The key of the next page, nil when the snapshot is complete.
        package var next: HLC?
        /// On the first page only: how many versions the whole snapshot holds (for progress).
        package var total: Int?
        package var serverTime: UInt64
        /// The signed batches that hold the page's changes.
        package var batches: [SignedBatch]
        /// As `PullResponse.unsignedUpTo`.
        package var unsignedUpTo: Int64?
        /// The log's chain value at `since` (`LogChain`), which a new replica adopts; nil from servers before it.
        package var chain: LogChain?
        /// As `PullResponse.schemaVersion`.
        package var schemaVersion: Int?

        package init(changes: [LoggedChange], since: Int64, next: HLC?, total: Int?, serverTime: UInt64,
                     batches: [SignedBatch] = [], unsignedUpTo: Int64? = nil, chain: LogChain? = nil, schemaVersion: Int? = nil) {
            self.schemaVersion = schemaVersion
            self.batches = batches
            self.unsignedUpTo = unsignedUpTo
            self.changes = changes
            self.since = since
            self.next = next
            self.total = total
            self.serverTime = serverTime
            self.chain = chain
        }

        private enum CodingKeys: String, CodingKey { case changes, since, next, total, serverTime, batches, unsignedUpTo, chain, schemaVersion }

        // Servers before signatures send neither `batches` nor `unsignedUpTo`; servers before the chain no `chain`.
        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                changes: try container.decode([LoggedChange].self, forKey: .changes),
                since: try container.decode(Int64.self, forKey: .since),
                next: try container.decodeIfPresent(HLC.self, forKey: .next),
                total: try container.decodeIfPresent(Int.self, forKey: .total),
                serverTime: try container.decode(UInt64.self, forKey: .serverTime),
                batches: try container.decodeIfPresent([SignedBatch].self, forKey: .batches) ?? [],
                unsignedUpTo: try container.decodeIfPresent(Int64.self, forKey: .unsignedUpTo),
                chain: try container.decodeIfPresent(LogChain.self, forKey: .chain),
                schemaVersion: try container.decodeIfPresent(Int.self, forKey: .schemaVersion))
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(changes, forKey: .changes)
            try container.encode(since, forKey: .since)
            try container.encodeIfPresent(next, forKey: .next)
            try container.encodeIfPresent(total, forKey: .total)
            try container.encode(serverTime, forKey: .serverTime)
            if !batches.isEmpty { try container.encode(batches, forKey: .batches) }
            try container.encodeIfPresent(unsignedUpTo, forKey: .unsignedUpTo)
            try container.encodeIfPresent(chain, forKey: .chain)
            try container.encodeIfPresent(schemaVersion, forKey: .schemaVersion)
        }
    }

    /// `GET /v1/projects/{p}/schema`.
    package struct SchemaResponse: Codable, Sendable {
        package var project: String
        package var schema: Schema
        /// The name the token belongs to.
        package var user: String
        /// The user's role in the project: admin, researcher or viewer.
        package var role: String
        package var serverTime: UInt64
        package init(project: String, schema: Schema, user: String, role: String, serverTime: UInt64) {
            self.project = project
            self.schema = schema
            self.user = user
            self.role = role
            self.serverTime = serverTime
        }
    }

    /// `GET /v1/health`.
    package struct HealthResponse: Codable, Sendable {
        package var status: String
        package var serverTime: UInt64
        package init(status: String, serverTime: UInt64) {
            self.status = status
            self.serverTime = serverTime
        }
    }

    /// Every error: `{"error": {"code": ..., "message": ...}}`.
    package struct ErrorResponse: Codable, Sendable {
        package struct Body: Codable, Sendable {
            package var code: String
            package var message: String
        }
        package var error: Body
        package init(code: String, message: String) { error = Body(code: code, message: message) }
    }
}
