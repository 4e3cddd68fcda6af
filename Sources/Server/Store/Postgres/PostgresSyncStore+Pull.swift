import Foundation
import Logging
import PostgresNIO
import Shared

// Pulls and snapshots: each reads its page and `last_seq` in one REPEATABLE READ transaction, so it
// sees a prefix of the commits. `PageCutter` turns the rows into the page.
extension PostgresSyncStore {
    func pull(project: String, after: Int64, limit: Int, maxBytes: Int, skip: Wire.OwnChanges?, reader: ReadAccess) async throws -> Wire.PullResponse {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, latest) = try await Self.project(db, name: project, logger: logger)
            try PageCutter.checkCursor(after: after, latest: latest)
            let fetch = Int64(PageCutter.fetchCount(limit: limit))
            // Without a node to skip, nothing is skipped: no HLC has an empty node.
            let (upTo, node) = (skip?.upTo ?? 0, skip?.node.rawValue ?? "")
            let allClasses = try await Self.accessClasses(db, projectID: projectID, logger: logger)
            let query = Self.pullPageQuery(projectID: projectID, after: after, fetch: fetch, skipping: (upTo, node),
                                           classes: reader.visibleClasses(among: allClasses))
            var page = PageCutter.Reader(limit: limit, maxBytes: maxBytes)
            try await Self.readPage(&page, query, db, logger: logger)
            let read = page
            var response = PageCutter.pull(page, after: after, latest: latest)
            response.custodySeq = try await Self.custodySeq(db, logger, projectID: projectID)
            response.schemaVersion = try await Self.schemaVersion(db, logger, projectID: projectID)
            let limit = PageCutter.chainRowLimit(maxBytes: maxBytes)
            let links = try await Self.chainRows(db, logger, projectID: projectID, after: after, cursor: response.cursor, skip: skip,
                                                 hidden: reader.hiddenClasses(among: allClasses), limit: limit)
            // The chain may end the page early: sign what is left.
            response = try PageCutter.chained(response, rows: links, limit: limit, after: after)
            (response.batches, response.unsignedUpTo) = try await Self.signatures(ofBatches: read.batchIDs(first: response.changes.count), db,
                                                                                 projectID: projectID, logger: logger)
            let access = try await Self.accessChanges(db, projectID: projectID, after: after, reader: reader, logger: logger)
            (response.removed, response.granted) = (access.removed.nonEmpty, access.granted.nonEmpty)
            return response
        }
    }

    func nodeOwner(project: String, node: NodeID) async throws -> String? {
        try await statement { db, logger in
            try await db.query("""
                SELECT node.author FROM node JOIN project ON project.id = node.project_id
                WHERE project.name = \(project) AND node.node = \(node.rawValue)
                """, logger: logger).decode(String.self).collect().first
        }
    }

    func snapshot(project: String, after: HLC?, limit: Int, maxBytes: Int, reader: ReadAccess) async throws -> Wire.SnapshotResponse {
        try await transaction(readOnly: true) { db, logger in
            let (projectID, since) = try await Self.project(db, name: project, logger: logger)
            var page = PageCutter.Reader(limit: limit, maxBytes: maxBytes)
            let fetch = Int64(PageCutter.fetchCount(limit: limit))
            let classes = reader.visibleClasses(among: try await Self.accessClasses(db, projectID: projectID, logger: logger))
            let query = Self.snapshotPageQuery(projectID: projectID, after: after?.text ?? "", fetch: fetch, classes: classes)
            try await Self.readPage(&page, query, db, logger: logger)
            var total: Int?
            if after == nil {
                let counted: PostgresQuery = if let classes {
                    "SELECT COUNT(*) FROM head WHERE project_id = \(projectID) AND access = ANY(\(classes)::text[])"
                } else {
                    "SELECT COUNT(*) FROM head WHERE project_id = \(projectID)"
                }
                total = try await db.query(counted, logger: logger).decode(Int64.self).collect().first.map(Int.init)
            }
            let batchIDs = page.batchIDs(first: page.rows.count)
            var response = PageCutter.snapshot(page, since: since, total: total)
            (response.batches, response.unsignedUpTo) = try await Self.signatures(ofBatches: batchIDs, db, projectID: projectID, logger: logger)
            let links = try await Self.chainRows(db, logger, projectID: projectID, after: since, cursor: since, skip: nil, hidden: [], limit: 2)
            response.chain = try PageCutter.value(at: since, links)
            response.schemaVersion = try await Self.schemaVersion(db, logger, projectID: projectID)
            return response
        }
    }

    /// The project's id and last sequence number.
    static func project(_ db: PostgresConnection, name: String, logger: Logger) async throws -> (Int64, Int64) {
        guard let row = try await db.query("SELECT id, last_seq FROM project WHERE name = \(name)", logger: logger)
            .decode((Int64, Int64).self).collect().first else {
            throw StoreError.notFound("there is no project named '\(name)'")
        }
        return row
    }

    // MARK: Rows

    /// The columns `loggedChange` reads, in its order, then the change's signed batch, which `readPage` keeps beside it.
    static let changeColumns = "change.seq, change.hlc, change.collection, change.record, change.field, change.value, change.author, change.base, change.supersedes, change.covers, change.received_at, change.batch"

    /// Every row of a result.
    static func rows(_ sequence: PostgresRowSequence) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in sequence { rows.append(row) }
        return rows
    }

    static func loggedChange(_ row: PostgresRow) throws -> Wire.LoggedChange {
        try loggedChangeAndBatch(row).change
    }

    /// A row of `changeColumns`: the change and the signed batch it was pushed in.
    static func loggedChangeAndBatch(_ row: PostgresRow) throws -> (change: Wire.LoggedChange, batch: String?) {
        let (seq, hlc, collection, record, field, value, author, base, supersedes, covers, received, batch) = try row.decode(
            (Int64, String, String, String, String, String, String, String?, String?, String?, Int64, String?).self)
        let stored = StoredChange(hlc: hlc, collection: collection, record: record, field: field, value: value, author: author,
                                  base: base, supersedes: supersedes, covers: covers)
        return (Wire.LoggedChange(seq: seq, change: try stored.change(), receivedAt: UInt64(max(received, 0))), batch)
    }
}
