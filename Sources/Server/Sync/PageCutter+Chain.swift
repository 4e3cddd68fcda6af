import Foundation
import Shared

extension PageCutter {
    /// A stored entry's digest and chain value, as the stores keep them (hex text).
    struct ChainRow {
        let seq: Int64
        let digest: String?
        let chain: String?

        init(seq: Int64, digest: String?, chain: String?) {
            self.seq = seq
            self.digest = digest
            self.chain = chain
        }
    }

    /// The chain a pull page carries: the values at `after` and at the page's cursor, and the
    /// digests of the entries between them that the page leaves out. `rows` must hold the entries
    /// numbered `after` and `cursor` (when above 0) and every entry between them the page leaves
    /// out, in sequence order; rows of entries the page holds are ignored.
    static func chain(_ rows: [ChainRow], for page: Wire.PullResponse, after: Int64) throws -> Wire.PageChain {
        let held = Set(page.changes.map(\.seq))
        var withheld: [ChangeDigest] = []
        for row in rows where row.seq > after && row.seq <= page.cursor && !held.contains(row.seq) {
            guard let text = row.digest, let digest = ChangeDigest(hex: text) else { throw damaged(row.seq) }
            withheld.append(digest)
        }
        return Wire.PageChain(after: try value(at: after, rows), cursor: try value(at: page.cursor, rows), withheld: withheld)
    }

    /// The chain value at `seq`, genesis for 0.
    static func value(at seq: Int64, _ rows: [ChainRow]) throws -> LogChain {
        guard seq > 0 else { return .genesis }
        guard let text = rows.first(where: { $0.seq == seq })?.chain, let value = LogChain(hex: text) else { throw damaged(seq) }
        return value
    }

    private static func damaged(_ seq: Int64) -> StoreDefect {
        StoreDefect(description: "the log's chain at sequence number \(seq) is missing or damaged: restore the store from a backup")
    }
}
