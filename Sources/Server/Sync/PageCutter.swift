import Foundation
import Shared

/// How both stores turn the rows they read into a pull or snapshot page, the way `PushPlanner`
/// decides a push for both: the two cannot cut pages differently.
///
/// A page is bounded by count and by bytes. A store feeds the rows it reads, in page order, to a
/// `PageCutter.Reader` until it says the page is full: at most `limit` changes, and no more than
/// `maxBytes` of them as estimated for the wire (`estimatedSize`), except that a page always takes
/// its first change, so a single change larger than the budget travels alone and paging always
/// moves on. The store reads `fetchCount(limit:)` rows at most, one more than a page holds: the row
/// that does not fit tells whether more follow without a second query. `serverTime` is left 0; the
/// HTTP layer stamps the page when it answers.
enum PageCutter {
    /// The byte budget of a page when a caller names none.
    static let defaultMaxBytes = 8 * 1024 * 1024

    /// The rows of one page, taken one at a time until it is full.
    struct Reader {
        let limit: Int
        let maxBytes: Int
        private(set) var rows: [Wire.LoggedChange] = []
        /// The signed batch each row was pushed in (nil for changes from before signatures), row by row.
        private(set) var batches: [String?] = []
        private(set) var bytes = 0
        /// Whether a row was left for the next page.
        private(set) var more = false

        init(limit: Int, maxBytes: Int = PageCutter.defaultMaxBytes) {
            self.limit = limit
            self.maxBytes = maxBytes
        }

        /// Takes the next row; false when the page is full and the row is left for the next page.
        mutating func take(_ row: Wire.LoggedChange, batch: String? = nil) -> Bool {
            let size = PageCutter.estimatedSize(row)
            guard rows.count < limit, rows.isEmpty || bytes + size <= maxBytes else {
                more = true
                return false
            }
            rows.append(row)
            batches.append(batch)
            bytes += size
            return true
        }

        /// The batches of the first `count` rows, each once, in the order first met: a page that
        /// is cut short (`PageCutter.chained`) keeps a prefix of its rows.
        func batchIDs(first count: Int) -> [String] {
            var seen = Set<String>()
            return batches.prefix(count).compactMap { $0 }.filter { seen.insert($0).inserted }
        }
    }

    /// How many rows a store reads for a page of at most `limit` changes.
    static func fetchCount(limit: Int) -> Int { limit + 1 }

    /// An upper bound of the bytes a change takes in a page: its texts as JSON escapes them (a
    /// value's text at most doubles: the control characters a value may hold are `\t`, `\n`, `\r`),
    /// its versions, and the keys around them.
    static func estimatedSize(_ logged: Wire.LoggedChange) -> Int {
        let change = logged.change
        var size = 192 + change.collection.utf8.count + change.record.utf8.count + 2 * (change.field.utf8.count + change.author.utf8.count)
        size += 48 * (change.supersedes.count + change.covers.count + 1)
        switch change.value {
        case .text(let text), .date(let text), .reference(let text): size += 2 * text.utf8.count
        case .list(let items), .references(let items): size += items.reduce(0) { $0 + 2 * $1.utf8.count + 3 }
        case .files(let files): size += files.reduce(0) { $0 + 200 + 2 * ($1.name.utf8.count + $1.mime.utf8.count) }
        default: size += 24
        }
        return size
    }

    /// Refuses a pull after a sequence number the log never reached (`StoreError.cursorAhead`).
    static func checkCursor(after: Int64, latest: Int64) throws(StoreError) {
        guard after <= latest else { throw .cursorAhead(after: after, latest: latest) }
    }

    /// A pull page from the rows with `seq > after` in `seq` order (the puller's own changes
    /// already left out), read in the same transaction as the project's `latest` sequence number.
    static func pull(_ page: consuming Reader, after: Int64, latest: Int64) -> Wire.PullResponse {
        let more = page.more
        let rows = page.rows
        // A full page ends at its last change; otherwise everything up to `latest` was considered,
        // own changes included, so the cursor passes them.
        let cursor = more ? (rows.last?.seq ?? after) : max(after, latest)
        return Wire.PullResponse(changes: rows, cursor: cursor, more: more, latest: max(latest, cursor), serverTime: 0)
    }

    /// A pull page from rows already read (at most `fetchCount(limit:)`), bounded by count only.
    static func pull(_ rows: [Wire.LoggedChange], after: Int64, limit: Int, latest: Int64) -> Wire.PullResponse {
        pull(reading(rows, limit: limit, maxBytes: .max), after: after, latest: latest)
    }

    /// A snapshot page from the heads with HLC above the request's, in HLC order; `since` is the
    /// project's last sequence number and `total` the number of heads (first page only).
    static func snapshot(_ page: consuming Reader, since: Int64, total: Int?) -> Wire.SnapshotResponse {
        let more = page.more
        let rows = page.rows
        return Wire.SnapshotResponse(changes: rows, since: since, next: more ? rows.last?.change.hlc : nil, total: total, serverTime: 0)
    }

    /// A snapshot page from rows already read, bounded by count only.
    static func snapshot(_ rows: [Wire.LoggedChange], limit: Int, since: Int64, total: Int?) -> Wire.SnapshotResponse {
        snapshot(reading(rows, limit: limit, maxBytes: .max), since: since, total: total)
    }

    /// A reader fed `rows` until it is full.
    static func reading(_ rows: [Wire.LoggedChange], limit: Int, maxBytes: Int) -> Reader {
        var reader = Reader(limit: limit, maxBytes: maxBytes)
        for row in rows where !reader.take(row) { break }
        return reader
    }
}
