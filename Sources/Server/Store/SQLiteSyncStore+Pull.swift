import Foundation
import GRDB
import Shared
import SQLiteSupport

// Pulls and snapshots: one read transaction each, so a page and the sequence number it is read
// against come from the same commits. `PageCutter` turns the rows into the page.
extension SQLiteSyncStore {
    func pull(project: String, after: Int64, limit: Int, maxBytes: Int, skip: Wire.OwnChanges?, reader: ReadAccess) async throws -> Wire.PullResponse {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            // Read in the same transaction as the page, so the cursor never passes an unseen change.
            let latest = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
            try PageCutter.checkCursor(after: after, latest: latest)
            let fetch = PageCutter.fetchCount(limit: limit)
            var page = PageCutter.Reader(limit: limit, maxBytes: maxBytes)
            // The node is the part of the HLC text after "MMMMMMMMMMMM-CCCC-" (character 19 on).
            let own = skip == nil ? "" : " AND NOT (seq <= ? AND substr(hlc, 19) = ?)"
            let ownArguments: StatementArguments = skip.map { [$0.upTo, $0.node.rawValue] } ?? []
            let allClasses = try Self.accessClasses(db, projectID: projectID)
            if let classes = reader.visibleClasses(among: allClasses) {
                // One range of the class index per visible class, merged by seq: the cost follows what the reader may see.
                let part = "SELECT * FROM (SELECT \(Self.changeColumns) FROM change WHERE project_id = ? AND access = ? AND seq > ?\(own) ORDER BY seq LIMIT ?)"
                var arguments: StatementArguments = []
                for accessClass in classes { arguments += [projectID, accessClass, after] + ownArguments + [fetch] }
                try Self.readPage(&page, db, sql: Array(repeating: part, count: classes.count).joined(separator: " UNION ALL ") + " ORDER BY 1 LIMIT ?",
                                  arguments: arguments + [fetch])
            } else {
                try Self.readPage(&page, db, sql: "SELECT \(Self.changeColumns) FROM change WHERE project_id = ? AND seq > ?\(own) ORDER BY seq LIMIT ?",
                                  arguments: [projectID, after] + ownArguments + [fetch])
            }
            let read = page
            var response = PageCutter.pull(page, after: after, latest: latest)
            response.custodySeq = try Self.custodySeq(db, projectID: projectID)
            response.schemaVersion = try Self.schemaVersion(db, projectID: projectID)
            let limit = PageCutter.chainRowLimit(maxBytes: maxBytes)
            let links = try Self.chainRows(db, projectID: projectID, after: after, cursor: response.cursor, skip: skip,
                                           hidden: reader.hiddenClasses(among: allClasses), limit: limit)
            // The chain may end the page early: sign what is left.
            response = try PageCutter.chained(response, rows: links, limit: limit, after: after)
            (response.batches, response.unsignedUpTo) = try Self.signatures(ofBatches: read.batchIDs(first: response.changes.count), db, projectID: projectID)
            let access = try Self.accessChanges(db, projectID: projectID, after: after, reader: reader)
            (response.removed, response.granted) = (access.removed.nonEmpty, access.granted.nonEmpty)
            return response
        }
    }

    func nodeOwner(project: String, node: NodeID) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT node.author FROM node JOIN project ON project.id = node.project_id WHERE project.name = ? AND node.node = ?",
                                arguments: [project, node.rawValue])
        }
    }

    func snapshot(project: String, after: HLC?, limit: Int, maxBytes: Int, reader: ReadAccess) async throws -> Wire.SnapshotResponse {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let since = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
            var page = PageCutter.Reader(limit: limit, maxBytes: maxBytes)
            let fetch = PageCutter.fetchCount(limit: limit)
            let heads = "FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc WHERE head.project_id = ?"
            var total: Int?
            if let classes = reader.visibleClasses(among: try Self.accessClasses(db, projectID: projectID)) {
                let part = "SELECT * FROM (SELECT \(Self.changeColumns) \(heads) AND head.access = ? AND head.hlc > ? ORDER BY head.hlc LIMIT ?)"
                var arguments: StatementArguments = []
                for accessClass in classes { arguments += [projectID, accessClass, after?.text ?? "", fetch] }
                try Self.readPage(&page, db, sql: Array(repeating: part, count: classes.count).joined(separator: " UNION ALL ") + " ORDER BY 2 LIMIT ?",
                                  arguments: arguments + [fetch])
                if after == nil {
                    total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM head WHERE project_id = ? AND access IN (SELECT value FROM json_each(?))",
                                             arguments: [projectID, Self.jsonArray(classes)])
                }
            } else {
                try Self.readPage(&page, db, sql: "SELECT \(Self.changeColumns) \(heads) AND head.hlc > ? ORDER BY head.hlc LIMIT ?",
                                  arguments: [projectID, after?.text ?? "", fetch])
                if after == nil { total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM head WHERE project_id = ?", arguments: [projectID]) }
            }
            let batchIDs = page.batchIDs(first: page.rows.count)
            var response = PageCutter.snapshot(page, since: since, total: total)
            (response.batches, response.unsignedUpTo) = try Self.signatures(ofBatches: batchIDs, db, projectID: projectID)
            response.chain = try PageCutter.value(at: since, Self.chainRows(db, projectID: projectID, after: since, cursor: since, skip: nil, hidden: [],
                                                                                limit: 2))
            response.schemaVersion = try Self.schemaVersion(db, projectID: projectID)
            return response
        }
    }

    // MARK: Rows

    /// Thrown by a row reader to stop reading: the page is full.
    private struct PageFull: Error {}

    /// Feeds the rows of a query to `page` until it is full: rows past it are never decoded, so a
    /// page of large changes costs no more memory than its byte budget and one change.
    static func readPage(_ page: inout PageCutter.Reader, _ db: Database, sql: String, arguments: StatementArguments) throws {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        do {
            _ = try statement.fetchRaw { row in
                guard page.take(try loggedChange(row), batch: row.optionalText(11)) else { throw PageFull() }
            }
        } catch is PageFull {}
    }

    /// Logged changes from rows of the `change` table.
    static func loggedChanges(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Wire.LoggedChange] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        // Columns read straight from SQLite: GRDB's rows would copy every value first.
        return try statement.fetchRaw(row: loggedChange)
    }

    /// The columns `loggedChange` reads, in its order (positional access is much cheaper than by name),
    /// then the change's signed batch, which `readPage` keeps beside it.
    static let changeColumns = "change.seq, change.hlc, change.collection, change.record, change.field, change.value, change.author, change.base, change.supersedes, change.covers, change.received_at, change.batch"

    static func loggedChange(_ row: RawRow) throws -> Wire.LoggedChange {
        let stored = StoredChange(hlc: row.text(1), collection: row.text(2), record: row.text(3), field: row.text(4), value: row.text(5),
                                  author: row.text(6), base: row.optionalText(7), supersedes: row.optionalText(8), covers: row.optionalText(9))
        return Wire.LoggedChange(seq: row.integer(0), change: try stored.change(), receivedAt: UInt64(bitPattern: row.integer(10)))
    }

    static func version(_ row: Row) throws -> Version {
        Version(hlc: try StorageText.decodeHLC(row["hlc"]), value: try StorageText.decodeValue(row["value"]),
                author: row["author"], covers: try StorageText.decodeHLCs(row["covers"]))
    }
}
