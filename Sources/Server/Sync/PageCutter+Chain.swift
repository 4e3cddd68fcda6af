import Foundation
import Shared

extension PageCutter {
    /// A stored entry's digest and chain value (nil when missing or not readable).
    struct ChainRow {
        let seq: Int64
        let digest: ChangeDigest?
        let chain: LogChain?

        init(seq: Int64, digest: ChangeDigest?, chain: LogChain?) {
            self.seq = seq
            self.digest = digest
            self.chain = chain
        }
    }

    /// The bytes a withheld digest takes in a page (32 bytes in base64).
    static let withheldSize = 43

    /// How many chain rows a store reads for a page (`chainRows`): the entries at both ends and at
    /// most as many withheld entries as the byte budget holds.
    static func chainRowLimit(maxBytes: Int) -> Int { max(1, maxBytes / withheldSize) + 2 }

    /// `page` with its chain: the values at `after` and at its cursor, and the digests of the
    /// entries between them that it leaves out. `rows` holds, in sequence order, the entries
    /// numbered `after` and `cursor` (when above 0) and every entry between them the page leaves
    /// out, but at most `limit` (`chainRowLimit`): when it holds that many and stops before the
    /// cursor, the page ends at its last row instead (and says `more`), so that the digests of a
    /// long run of left-out entries (the pull after a large push) are bounded like a page's changes.
    static func chained(_ page: Wire.PullResponse, rows: [ChainRow], limit: Int, after: Int64) throws -> Wire.PullResponse {
        var page = page
        if rows.count >= limit, let last = rows.last, last.seq < page.cursor, last.seq > after {
            page.changes.removeAll { $0.seq > last.seq }
            page.cursor = last.seq
            page.more = true
        }
        page.chain = try chain(rows, for: page, after: after)
        return page
    }

    /// The chain of a page whose `rows` reach its cursor (see `chained`).
    static func chain(_ rows: [ChainRow], for page: Wire.PullResponse, after: Int64) throws -> Wire.PageChain {
        let held = Set(page.changes.map(\.seq))
        var withheld: [ChangeDigest] = []
        for row in rows where row.seq > after && row.seq <= page.cursor && !held.contains(row.seq) {
            guard let digest = row.digest else { throw damaged(row.seq) }
            withheld.append(digest)
        }
        return Wire.PageChain(after: try value(at: after, rows), cursor: try value(at: page.cursor, rows), withheld: withheld)
    }

    /// The chain value at `seq`, genesis for 0.
    static func value(at seq: Int64, _ rows: [ChainRow]) throws -> LogChain {
        guard seq > 0 else { return .genesis }
        guard let value = rows.first(where: { $0.seq == seq })?.chain else { throw damaged(seq) }
        return value
    }

    private static func damaged(_ seq: Int64) -> StoreDefect {
        StoreDefect(description: "the log's chain at sequence number \(seq) is missing or damaged: restore the store from a backup")
    }
}
