import Foundation
import GRDB
import Shared

/// Where this replica's sync stands: loaded once when a sync starts, changed by what the sync
/// receives, and saved in the same transaction as each page or acknowledgement it describes.
struct SyncState: Sendable, Equatable {
    /// The first sync's snapshot of current versions.
    enum Snapshot: Sendable, Equatable {
        /// Not started, or started and no page stored yet.
        case notStarted
        /// Pages stored up to `after`; the snapshot shows the log as of sequence number `since`,
        /// whose chain value the server gave as `chain` (nil from a server before the chain).
        case inProgress(since: Int64, after: HLC?, chain: LogChain?)
        /// Complete: the log is pulled from the cursor.
        case done
    }

    var snapshot: Snapshot = .notStarted
    /// The log cursor: the last server sequence number pulled.
    var cursor: Int64 = 0
    /// The log's chain value at `cursor`, verified page by page since it was adopted (from the
    /// snapshot, or from the first page a replica older than the chain pulled); nil: none yet.
    var chain: LogChain?
    /// The highest sequence number of this replica's own changes whose acknowledgement is recorded
    /// (it holds every own change up to there, so pulls can skip them).
    var ownAccepted: Int64 = 0
    /// When the last sync completed, milliseconds since the epoch.
    var lastSync: UInt64?

    /// Where the snapshot resumes: after this HLC (nil: from the start).
    var snapshotResumesAfter: HLC? {
        if case .inProgress(_, let after, _) = snapshot { return after }
        return nil
    }

    /// A snapshot page was received: the next one starts after its `next`; the last one completes
    /// the snapshot and starts the log at the sequence number the snapshot showed, with the chain
    /// value the first page gave for it (taken on trust, as the server's key is at `init`).
    mutating func received(_ page: Wire.SnapshotResponse) {
        var (since, chain) = (page.since, page.chain)
        if case .inProgress(let started, _, let adopted) = snapshot { (since, chain) = (started, adopted) }
        if page.next == nil {
            snapshot = .done
            cursor = since
            self.chain = chain
        } else {
            snapshot = .inProgress(since: since, after: page.next, chain: chain)
        }
    }

    /// A log page was received and its chain verified up to `chain` (nil: the server sends none):
    /// the cursor moves to its end; the last page completes the sync at `now`.
    mutating func received(_ page: Wire.PullResponse, chain: LogChain?, now: UInt64) {
        cursor = page.cursor
        self.chain = chain
        if !page.more { lastSync = now }
    }

    /// A push acknowledged own changes up to `seq`.
    mutating func accepted(upTo seq: Int64) {
        ownAccepted = max(ownAccepted, seq)
    }

    /// The state as the replica stored it.
    static func load(_ db: Database) throws -> SyncState {
        var state = SyncState()
        if try Setting.get(.snapshotDone, db) != nil {
            state.snapshot = .done
        } else if let since = try Setting.get(.snapshotSince, db).flatMap(Int64.init) {
            state.snapshot = .inProgress(since: since, after: try Setting.get(.snapshotAfter, db).flatMap(HLC.init(text:)),
                                         chain: try Setting.get(.snapshotChain, db).flatMap(LogChain.init(hex:)))
        }
        state.cursor = Int64(try Setting.get(.cursor, db) ?? "0") ?? 0
        state.ownAccepted = Int64(try Setting.get(.ownAccepted, db) ?? "0") ?? 0
        state.chain = try Setting.get(.chain, db).flatMap(LogChain.init(hex:))
        state.lastSync = try Setting.get(.lastSync, db).flatMap(UInt64.init)
        return state
    }

    /// Stores the state, in the caller's transaction.
    func save(_ db: Database) throws {
        switch snapshot {
        case .notStarted:
            for key in [Setting.snapshotDone, .snapshotSince, .snapshotAfter, .snapshotChain] { try Setting.set(key, nil, db) }
        case .inProgress(let since, let after, let chain):
            try Setting.set(.snapshotDone, nil, db)
            try Setting.set(.snapshotSince, String(since), db)
            try Setting.set(.snapshotAfter, after?.text, db)
            try Setting.set(.snapshotChain, chain?.hex, db)
        case .done:
            try Setting.set(.snapshotDone, "1", db)
            try Setting.set(.snapshotAfter, nil, db)
            try Setting.set(.snapshotChain, nil, db)
        }
        try Setting.set(.chain, chain?.hex, db)
        if let chain {
            // Every verified value is kept: a bundle names its maker's, and a different value at one number is a fork.
            try db.execute(sql: "INSERT OR IGNORE INTO verified_chain (seq, chain) VALUES (?, ?)", arguments: [cursor, chain.hex])
        }
        try Setting.set(.cursor, String(cursor), db)
        try Setting.set(.ownAccepted, String(ownAccepted), db)
        try Setting.set(.lastSync, lastSync.map(String.init), db)
    }
}
