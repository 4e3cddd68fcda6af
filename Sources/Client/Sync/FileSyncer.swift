import Foundation
import Shared

/// What moving files did.
struct FileSyncReport: Sendable {
    var uploaded = 0
    var uploadedBytes: Int64 = 0
    var downloaded = 0
    var downloadedBytes: Int64 = 0
    var custodySent = 0
    var custodyReceived = 0
}

/// Moves what changes do not carry, after the changes themselves: the content of attached files (up
/// for every file the server lacks, down on request) and the files' custody logs (both ways). Every
/// step is resumable: an upload goes on from what the server holds, a download from what the replica
/// stored, and custody events are sent until the server has them (a resend is a no-op there).
///
/// A sync with nothing to move makes no request here at all: the server is asked about a file only
/// until it said it holds it whole, and the custody log is pulled only when the last pull page's
/// `custodySeq` is ahead of the replica's cursor (or after this replica sent events).
struct FileSyncer {
    let replica: Replica
    let transport: any FileTransport
    let settings: ReplicaSettings
    let progress: ProgressLine
    var custodyPage = 1_000

    /// The server's address, for messages.
    var server: String { settings.server.absoluteString }

    /// Uploads what the server lacks (unless `upload` is false: the server refused this user's pushes),
    /// downloads `download`, then exchanges custody events; `custodySeq` is the position the last pull
    /// page announced (nil: the server keeps no custody log, and none is exchanged).
    func run(custodySeq: Int64?, upload: Bool = true, download: [FileRef] = []) async throws -> FileSyncReport {
        var report = FileSyncReport()
        defer { progress.finish() }
        var damaged: [StoredFile.Damaged] = []
        if upload { (report.uploaded, report.uploadedBytes, damaged) = try await self.upload() }
        (report.downloaded, report.downloadedBytes) = try await self.download(download)
        if custodySeq != nil {
            report.custodySent = try await pushCustody()
            let cursor = try await replica.custodyCursor()
            if report.custodySent > 0 || (custodySeq ?? 0) > cursor {
                report.custodyReceived = try await pullCustody(after: cursor)
            }
        }
        if let first = damaged.first {
            let others = damaged.count > 1 ? " and \(damaged.count - 1) other\(damaged.count == 2 ? "" : "s")" : ""
            throw ClientError("\(first.description)\(others): not uploaded (everything else was synced); run 'casebook verify' to see every damaged file")
        }
        return report
    }

    // MARK: Custody

    /// Sends the events made here, a batch at a time, until none is pending.
    func pushCustody() async throws -> Int {
        var sent = 0
        while true {
            let events = try await replica.pendingCustody(limit: Wire.Files.maxCustodyBatch)
            guard !events.isEmpty else { return sent }
            _ = try await transport.pushCustody(events)
            try await replica.markCustodySent(events.map(\.id))
            sent += events.count
        }
    }

    /// Pulls the project's custody log after `after`, page by page, each page stored with its cursor.
    func pullCustody(after start: Int64) async throws -> Int {
        var after = start, received = 0
        while true {
            let page = try await transport.custody(after: after, limit: custodyPage)
            try check(page, after: after)
            try await replica.storePulledCustody(page)
            received += page.events.count
            guard page.more else { return received }
            after = page.cursor
        }
    }

    /// A custody page is held to the rules of a pull page: the cursor moves forward, every event lies
    /// within the page and names a file by a proper hash.
    private func check(_ page: Wire.CustodyPage, after: Int64) throws {
        let problem: String? =
            page.cursor < after ? "its cursor \(page.cursor) goes back before \(after)"
            : page.more && page.cursor == after ? "it says more follows but its cursor does not move"
            : page.events.contains { ($0.seq ?? -1) <= after || ($0.seq ?? .max) > page.cursor } ? "an event's position lies outside the page"
            : page.events.contains { !FileRef.isSHA256($0.sha256) } ? "an event names a file by something that is not a SHA-256"
            : nil
        if let problem {
            throw ClientError("the server at \(server) sent a custody page that cannot be right (\(problem)): nothing of it was kept; tell the server's admin")
        }
    }
}
