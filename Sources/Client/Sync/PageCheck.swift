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

    /// How far beyond the page's `serverTime` a pulled change may be stamped. A server refuses
    /// pushes stamped more than its drift bound (5 minutes by default) ahead of its clock, so a
    /// change further ahead than a day was never accepted by an honest server; received, it would
    /// pin this replica's clock (the hybrid clock never goes back).
    static let maxAheadOfServerMillis: UInt64 = 24 * 60 * 60 * 1000

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
        guard page.cursor >= 0, page.latest >= 0, (page.custodySeq ?? 0) >= 0 else {
            throw refused(server, "a pull page has a negative cursor (\(page.cursor)), latest sequence number (\(page.latest)) or custody position (\(page.custodySeq ?? 0))")
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

    /// A log page's hash chain: it must extend `head`, the value this replica verified at `after`
    /// (`LogChain.verify`). Returns the value at the page's cursor; nil while the server sends no
    /// chain and this replica never had one (a server before it). A server that sent one before
    /// and stops is refused: dropping the chain would hide a rewritten log.
    static func chain(_ page: Wire.PullResponse, digests: [ChangeDigest], after: Int64, head: LogChain?, project: String,
                      from server: String) throws -> LogChain? {
        guard let chain = page.chain else {
            guard head == nil else { throw rewritten(server, "it no longer sends its log's hash chain, which it sent before") }
            return nil
        }
        do {
            return try LogChain.verify(page.changes, digests: digests, after: after, cursor: page.cursor, chain: chain, head: head, project: project)
        } catch {
            throw rewritten(server, error.problem)
        }
    }

    /// The error for a log that does not extend what this replica verified: exit 1.
    static func rewritten(_ server: String, _ problem: String) -> ClientError {
        ClientError("""
            the server at \(server) sent history that does not extend what this replica already verified: \(problem). \
            Nothing of it was applied. The server's log was changed after this replica received it (a seized or compromised \
            server, or one restored without its latest changes): tell the project's admin, and keep this replica as it is
            """)
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

    /// The changes of a page, held to what a server holds a push to: a known collection, a field
    /// of it, a value of the field's type within its limits, a valid record id, and a timestamp
    /// not far beyond the server's time. The server's time is checked here too: the page's changes
    /// are checked on the task that fetched it, before the page's own numbers (`FetchedPage`), and a
    /// time near 2^64 must be refused there, not overflow.
    static func changes(_ changes: [Wire.LoggedChange], serverTime: UInt64, schema: Schema, from server: String) throws {
        let latest = try Self.serverTime(serverTime, from: server) + maxAheadOfServerMillis
        for (index, logged) in changes.enumerated() {
            if let problem = problem(with: logged.change, schema: schema, latest: latest, clock: "the server's time") {
                throw refused(server, "change \(index + 1) of a page \(problem)")
            }
        }
    }

    /// What is wrong with a change received from elsewhere (a page, a bundle), or nil: a record id,
    /// the schema, and a stamp at most `latest`, a day beyond `clock`.
    static func problem(with change: Change, schema: Schema, latest: UInt64, clock: String) -> String? {
        guard RecordID.isValid(change.record) else {
            return "names the record '\(TerminalText.visible(String(change.record.prefix(60))))', which is not a record id"
        }
        do {
            // Reordering characters stored before the server refused them must not stop every
            // replica's sync for good: they are shown visibly on a terminal instead.
            try schema.validate(change, refusingBidi: false)
        } catch {
            return "(record \(change.record.prefix(12))): \(TerminalText.visible(error.message))"
        }
        guard change.hlc.millis <= latest else { return "is stamped \(change.hlc.text), more than a day beyond \(clock)" }
        return nil
    }

    /// The error for a refused answer: exit 1, since syncing again would get the same answer.
    static func refused(_ server: String, _ problem: String) -> ClientError {
        ClientError("the server at \(server) sent an answer this client refuses: \(problem). Nothing of it was applied; tell the server's admin")
    }
}
