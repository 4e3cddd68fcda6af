import Foundation
import GRDB
import Shared
import SQLiteSupport

// The log's hash chain in the embedded store. Its entries are the changes (`change`) and the
// membership events (`access_event` rows with a digest), one per sequence number. Digests and
// chain values are stored as their 32 bytes (v10; hex text before, twice the width of every row).
extension SQLiteSyncStore {
    /// The chain value stored at `seq`, from whichever table holds its entry (nil when none does, or
    /// when what is stored is not 32 bytes).
    static func chainValue(_ db: Database, projectID: Int64, seq: Int64) throws -> LogChain? {
        try DatabaseValue.fetchOne(db, sql: """
            SELECT chain FROM change WHERE project_id = ? AND seq = ?
            UNION ALL SELECT chain FROM access_event WHERE project_id = ? AND seq = ? AND digest IS NOT NULL
            """, arguments: [projectID, seq, projectID, seq]).flatMap(bytes).flatMap { LogChain(bytes: $0) }
    }

    /// A stored digest's or chain value's bytes: only a blob counts (text, a number or NULL is damage).
    static func bytes(_ value: DatabaseValue) -> [UInt8]? {
        guard case .blob(let data) = value.storage else { return nil }
        return Array(data)
    }

    /// The chain rows a page needs (`PageCutter.chain`), in sequence order and at most `limit`: the
    /// entries at `after` and `cursor`, and between them every entry the page leaves out: the
    /// puller's own changes (when it skips them), the changes of records of the `hidden` classes
    /// (`ReadAccess.hiddenClasses`), and the membership events. A page that holds every change
    /// reads two rows and the (few) membership events; one that leaves changes out reads the range.
    static func chainRows(_ db: Database, projectID: Int64, after: Int64, cursor: Int64, skip: Wire.OwnChanges?, hidden: [String],
                          limit: Int) throws -> [PageCutter.ChainRow] {
        // Read by column straight from SQLite: the pull that ends a push leaves all the pusher's changes out,
        // so this reads a row for each of them (through GRDB's `Row`, that pull took 35-70% longer).
        var changes = "SELECT seq, digest, chain FROM change WHERE project_id = ? AND seq IN (?, ?)"
        var arguments: StatementArguments = [projectID, after, cursor]
        if skip != nil || !hidden.isEmpty {
            var leftOut = ["seq = ?", "seq = ?"]
            arguments += [after, cursor]
            if let skip {
                // The node is the part of the HLC text after "MMMMMMMMMMMM-CCCC-" (character 19 on).
                leftOut.append("(seq <= ? AND substr(hlc, 19) = ?)")
                arguments += [skip.upTo, skip.node.rawValue]
            }
            if !hidden.isEmpty {
                leftOut.append("access IN (SELECT value FROM json_each(?))")
                arguments += [jsonArray(hidden)]
            }
            changes = """
                SELECT seq, digest, chain FROM change WHERE project_id = ? AND seq >= ? AND seq <= ?
                AND (\(leftOut.joined(separator: " OR "))) ORDER BY seq LIMIT ?
                """
            arguments += [limit]
        }
        let statement = try db.cachedStatement(sql: """
            SELECT * FROM (\(changes))
            UNION ALL
            SELECT * FROM (SELECT seq, digest, chain FROM access_event WHERE project_id = ? AND seq >= ? AND seq <= ? AND digest IS NOT NULL
                           ORDER BY seq LIMIT ?)
            ORDER BY seq LIMIT ?
            """)
        arguments += [projectID, after, cursor, limit, limit]
        // Bound once by GRDB; `fetchRaw` resets the statement without clearing them.
        try statement.setArguments(arguments)
        return try statement.fetchRaw(row: { row in
            PageCutter.ChainRow(seq: row.integer(0), digest: row.blob(1).flatMap { ChangeDigest(bytes: $0) },
                                chain: row.blob(2).flatMap { LogChain(bytes: $0) })
        })
    }
}
