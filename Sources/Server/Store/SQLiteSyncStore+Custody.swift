import Foundation
import GRDB
import Shared

// Custody logs on the embedded store: appended only, numbered per project in commit order (the
// single writer numbers them inside its transaction).
extension SQLiteSyncStore {
    func appendCustody(project: String, events: [Wire.CustodyEvent], user: String, now: UInt64) async throws -> Int {
        try await write(fullIsStorage: true) { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Self.appendCustody(db, projectID: projectID, events: events.map { $0.by(user) }, now: now)
        }
    }

    func custody(project: String, after: Int64, limit: Int, reader: ReadAccess) async throws -> Wire.CustodyPage {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let rows = try Row.fetchAll(db, sql: """
                SELECT custody.seq, custody.id, custody.sha256, custody.event, custody.author, custody.at, custody.record, custody.name,
                       custody.size, custody.replica, custody.received_at, record.access FROM custody
                LEFT JOIN record ON record.project_id = custody.project_id AND record.id = custody.record
                WHERE custody.project_id = ? AND custody.seq > ? ORDER BY custody.seq LIMIT ?
                """, arguments: [projectID, after, limit + 1])
            let page = try rows.prefix(limit).map { (try Self.custodyEvent($0), $0[11] as String?) }
            // An event of a record the reader may not read is left out; the cursor passes it.
            let events = page.filter { $0.1.map(reader.mayRead) ?? true }.map(\.0)
            return Wire.CustodyPage(events: events, cursor: page.last?.0.seq ?? after, more: rows.count > limit)
        }
    }

    /// Appends the events whose id the project does not hold yet, numbered after its last; returns how many.
    static func appendCustody(_ db: Database, projectID: Int64, events: [Wire.CustodyEvent], now: UInt64) throws -> Int {
        var seq = try custodySeq(db, projectID: projectID)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO custody (project_id, seq, id, sha256, event, author, at, record, name, size, replica, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, id) DO NOTHING
            """)
        var stored = 0
        for event in events {
            try insert.execute(arguments: [projectID, seq + 1, event.id, event.sha256, event.event.rawValue, event.by, Int64(clamping: event.at),
                                           event.record, event.name, event.size, event.replica, Int64(clamping: now)])
            if db.changesCount == 1 {
                seq += 1
                stored += 1
            }
        }
        return stored
    }

    /// The project's last custody position, 0 when it has none.
    static func custodySeq(_ db: Database, projectID: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM custody WHERE project_id = ?", arguments: [projectID]) ?? 0
    }

    private static func custodyEvent(_ row: Row) throws -> Wire.CustodyEvent {
        guard let kind = Wire.CustodyKind(rawValue: row["event"]) else {
            throw StoreDefect(description: "a custody event of kind '\(row["event"] as String)' is stored, which this version does not know")
        }
        return Wire.CustodyEvent(id: row["id"], sha256: row["sha256"], event: kind, by: row["author"], at: UInt64(max(row["at"] as Int64, 0)),
                                 record: row["record"], name: row["name"], size: row["size"], replica: row["replica"],
                                 seq: row["seq"], receivedAt: UInt64(max(row["received_at"] as Int64, 0)))
    }
}

extension Wire.CustodyEvent {
    /// The event as the server stores it: by the authenticated user, whatever the replica sent.
    func by(_ user: String) -> Wire.CustodyEvent {
        var event = self
        event.by = user
        event.seq = nil
        event.receivedAt = nil
        return event
    }
}
