import Foundation
import Logging
import PostgresNIO
import Shared

// The log's hash chain in PostgreSQL. Its entries are the changes (`change`) and the membership
// events (`access_event` rows with a digest), one per sequence number.
extension PostgresSyncStore {
    /// The chain value stored at `seq`, from whichever table holds its entry (nil when none does).
    static func chainValue(_ db: PostgresConnection, _ logger: Logger, projectID: Int64, seq: Int64) async throws -> String? {
        try await db.query("""
            SELECT chain FROM change WHERE project_id = \(projectID) AND seq = \(seq)
            UNION ALL SELECT chain FROM access_event WHERE project_id = \(projectID) AND seq = \(seq) AND digest IS NOT NULL
            """, logger: logger).decode(String?.self).collect().first ?? nil
    }

    /// The chain rows a page needs (`PageCutter.chain`), in sequence order and at most `limit`: the
    /// entries at `after` and `cursor`, and between them every entry the page leaves out: the
    /// puller's own changes (when it skips them), the changes of records of the `hidden` classes
    /// (`ReadAccess.hiddenClasses`), and the membership events. A page that holds every change
    /// reads two rows and the (few) membership events; one that leaves changes out reads the range.
    static func chainRows(_ db: PostgresConnection, _ logger: Logger, projectID: Int64, after: Int64, cursor: Int64,
                          skip: Wire.OwnChanges?, hidden: [String], limit: Int) async throws -> [PageCutter.ChainRow] {
        let limit = Int64(limit)
        // Without a node to skip, nothing is skipped: no HLC has an empty node.
        let (upTo, node) = (skip?.upTo ?? 0, skip?.node.rawValue ?? "")
        // Both read the range's membership events too: an index range of a small table.
        let query: PostgresQuery = if skip == nil && hidden.isEmpty {
            """
            (SELECT seq, digest, chain FROM change WHERE project_id = \(projectID) AND seq IN (\(after), \(cursor)))
            UNION ALL
            (SELECT seq, digest, chain FROM access_event WHERE project_id = \(projectID) AND seq >= \(after) AND seq <= \(cursor)
             AND digest IS NOT NULL ORDER BY seq LIMIT \(limit))
            ORDER BY seq LIMIT \(limit)
            """
        } else {
            """
            (SELECT seq, digest, chain FROM change WHERE project_id = \(projectID) AND seq >= \(after) AND seq <= \(cursor)
             AND (seq = \(after) OR seq = \(cursor) OR (seq <= \(upTo) AND substr(hlc, 19) = \(node)) OR access = ANY(\(hidden)::text[]))
             ORDER BY seq LIMIT \(limit))
            UNION ALL
            (SELECT seq, digest, chain FROM access_event WHERE project_id = \(projectID) AND seq >= \(after) AND seq <= \(cursor)
             AND digest IS NOT NULL ORDER BY seq LIMIT \(limit))
            ORDER BY seq LIMIT \(limit)
            """
        }
        var rows: [PageCutter.ChainRow] = []
        for try await (seq, digest, chain) in try await db.query(query, logger: logger).decode((Int64, String?, String?).self) {
            rows.append(PageCutter.ChainRow(seq: seq, digest: digest.flatMap { ChangeDigest(hex: $0) }, chain: chain.flatMap { LogChain(hex: $0) }))
        }
        return rows
    }
}
