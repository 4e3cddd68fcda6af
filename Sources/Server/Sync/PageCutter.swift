import Foundation
import Shared

/// How both stores turn the rows they read into a pull or snapshot page, the way `PushPlanner`
/// decides a push for both: the two cannot cut pages differently.
///
/// A store reads `fetchCount(limit:)` rows, one more than the page holds: the extra row tells
/// whether more follow without a second query. `serverTime` is left 0; the HTTP layer stamps
/// the page when it answers.
enum PageCutter {
    /// How many rows a store reads for a page of at most `limit` changes.
    static func fetchCount(limit: Int) -> Int { limit + 1 }

    /// Refuses a pull after a sequence number the log never reached (`StoreError.cursorAhead`).
    static func checkCursor(after: Int64, latest: Int64) throws(StoreError) {
        guard after <= latest else { throw .cursorAhead(after: after, latest: latest) }
    }

    /// A pull page from the rows with `seq > after` in `seq` order (the puller's own changes
    /// already left out), read in the same transaction as the project's `latest` sequence number.
    static func pull(_ rows: consuming [Wire.LoggedChange], after: Int64, limit: Int, latest: Int64) -> Wire.PullResponse {
        let more = rows.count > limit
        if more { rows.removeLast() }
        // A full page ends at its last change; otherwise everything up to `latest` was considered,
        // own changes included, so the cursor passes them.
        let cursor = more ? (rows.last?.seq ?? after) : max(after, latest)
        return Wire.PullResponse(changes: rows, cursor: cursor, more: more, latest: max(latest, cursor), serverTime: 0)
    }

    /// A snapshot page from the heads with HLC above the request's, in HLC order; `since` is the
    /// project's last sequence number and `total` the number of heads (first page only).
    static func snapshot(_ rows: consuming [Wire.LoggedChange], limit: Int, since: Int64, total: Int?) -> Wire.SnapshotResponse {
        let more = rows.count > limit
        if more { rows.removeLast() }
        return Wire.SnapshotResponse(changes: rows, since: since, next: more ? rows.last?.change.hlc : nil, total: total, serverTime: 0)
    }
}
