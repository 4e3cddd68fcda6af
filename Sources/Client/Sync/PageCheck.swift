import Foundation
import Shared

/// Checks what the server sent before anything of it is applied: every number in range, and
/// paging that makes progress. A page that fails is refused whole (the replica applies a page
/// in one transaction, so nothing of it is kept) with a `ClientError` that says what was wrong.
/// A hostile or broken server can then stop a sync, never crash the client, pin its clock or
/// keep it looping.
enum PageCheck {
    /// The earliest server time believed: 2020-01-01 (before it, the server's clock is wrong).
    static let earliestServerTime: UInt64 = 1_577_836_800_000
    /// The latest server time believed: 2200-01-01 (after it, the server's clock is wrong, and
    /// learning it would stamp every later edit of this replica near the end of time).
    static let latestServerTime: UInt64 = 7_258_118_400_000

    /// The server's time, when it is one this client can believe.
    static func serverTime(_ millis: UInt64, from server: String) throws -> UInt64 {
        guard (earliestServerTime...latestServerTime).contains(millis) else {
            throw refused(server, "its time (\(millis) ms since 1970) is not between the years 2020 and 2200")
        }
        return millis
    }

    /// A log page answering `pull(after:)`.
    static func log(_ page: Wire.PullResponse, after: Int64, from server: String) throws {
        _ = try serverTime(page.serverTime, from: server)
        guard page.cursor >= 0, page.latest >= 0 else {
            throw refused(server, "a pull page has a negative cursor (\(page.cursor)) or latest sequence number (\(page.latest))")
        }
        guard page.cursor >= after else {
            throw refused(server, "a pull page after \(after) ends at \(page.cursor), before it started")
        }
        if page.more && page.cursor == after {
            throw refused(server, "a pull page after \(after) says there is more but does not move the cursor, so the sync would never end")
        }
        if let bad = page.changes.first(where: { $0.seq <= after || $0.seq > page.cursor }) {
            throw refused(server, "a pull page after \(after) ending at \(page.cursor) holds a change numbered \(bad.seq)")
        }
    }

    /// A snapshot page answering `snapshot(after:)`.
    static func snapshot(_ page: Wire.SnapshotResponse, after: HLC?, from server: String) throws {
        _ = try serverTime(page.serverTime, from: server)
        guard page.since >= 0, (page.total ?? 0) >= 0 else {
            throw refused(server, "a snapshot page has a negative sequence number (\(page.since)) or total (\(page.total ?? 0))")
        }
        if let next = page.next, let after, next <= after {
            throw refused(server, "a snapshot page after \(after.text) names \(next.text) as the next one, so the sync would never end")
        }
    }

    /// The error for a refused answer: exit 1, since syncing again would get the same answer.
    static func refused(_ server: String, _ problem: String) -> ClientError {
        ClientError("the server at \(server) sent an answer this client refuses: \(problem). Nothing of it was applied; tell the server's admin")
    }
}
