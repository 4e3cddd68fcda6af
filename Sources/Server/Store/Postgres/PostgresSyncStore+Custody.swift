import Foundation
import Logging
import PostgresNIO
import Shared

// Custody logs in PostgreSQL: appended only, numbered per project under the project's custody lock,
// so numbers become visible in commit order (a reader that saw N never later finds one below N).
extension PostgresSyncStore {
    func appendCustody(project: String, events: [Wire.CustodyEvent], user: String, now: UInt64) async throws -> Int {
        try await transaction(fullIsStorage: true) { db, logger in
            let projectID = try await Self.projectID(db, project, logger)
            return try await Self.appendCustody(db, logger, projectID: projectID, events: events.map { $0.by(user) }, now: now)
        }
    }

    func custody(project: String, after: Int64, limit: Int, reader: ReadAccess) async throws -> Wire.CustodyPage {
        try await transaction(readOnly: true) { db, logger in
            let projectID = try await Self.projectID(db, project, logger)
            var events: [(Wire.CustodyEvent, String?)] = []
            for try await row in try await db.query("""
                SELECT custody.seq, custody.id, custody.sha256, custody.event, custody.author, custody.at, custody.record, custody.name,
                       custody.size, custody.replica, custody.received_at, record.access FROM custody
                LEFT JOIN record ON record.project_id = custody.project_id AND record.id = custody.record
                WHERE custody.project_id = \(projectID) AND custody.seq > \(after) ORDER BY custody.seq LIMIT \(Int64(limit) + 1)
                """, logger: logger) {
                events.append(try Self.custodyEvent(row))
            }
            let more = events.count > limit
            let page = Array(events.prefix(limit))
            // An event of a record the reader may not read is left out; the cursor passes it.
            return Wire.CustodyPage(events: page.filter { $0.1.map(reader.mayRead) ?? true }.map(\.0), cursor: page.last?.0.seq ?? after, more: more)
        }
    }

    /// Appends the events whose id the project does not hold yet (a batch naming one twice keeps the
    /// first), numbered after its last, in the caller's transaction; returns how many.
    static func appendCustody(_ db: PostgresConnection, _ logger: Logger, projectID: Int64, events: [Wire.CustodyEvent], now: UInt64) async throws -> Int {
        try await lock(db, logger, PostgresMigrations.custodyLock, projectID: projectID)
        var known = Set<String>()
        for try await id in try await db.query("SELECT id FROM custody WHERE project_id = \(projectID) AND id = ANY(\(events.map(\.id))::text[])", logger: logger)
            .decode(String.self) {
            known.insert(id)
        }
        var seq = try await custodySeq(db, logger, projectID: projectID)
        var stored = 0
        for event in events where known.insert(event.id).inserted {
            seq += 1
            stored += 1
            try await db.query("""
                INSERT INTO custody (project_id, seq, id, sha256, event, author, at, record, name, size, replica, received_at)
                VALUES (\(projectID), \(seq), \(event.id), \(event.sha256), \(event.event.rawValue), \(event.by), \(Int64(clamping: event.at)),
                        \(event.record), \(event.name), \(event.size), \(event.replica), \(Int64(clamping: now)))
                """, logger: logger)
        }
        return stored
    }

    /// The project's last custody position, 0 when it has none.
    static func custodySeq(_ db: PostgresConnection, _ logger: Logger, projectID: Int64) async throws -> Int64 {
        try await db.query("SELECT COALESCE(MAX(seq), 0)::bigint FROM custody WHERE project_id = \(projectID)", logger: logger)
            .decode(Int64.self).collect().first ?? 0
    }

    /// An event, and the access class of its record (nil: it names none, or one the project lacks).
    private static func custodyEvent(_ row: PostgresRow) throws -> (Wire.CustodyEvent, String?) {
        let (seq, id, sha256, kind, author, at, record, name, size, replica, receivedAt, access) = try row.decode(
            (Int64, String, String, String, String, Int64, String?, String?, Int64?, String?, Int64, String?).self)
        guard let event = Wire.CustodyKind(rawValue: kind) else {
            throw StoreDefect(description: "a custody event of kind '\(kind)' is stored, which this version does not know")
        }
        return (Wire.CustodyEvent(id: id, sha256: sha256, event: event, by: author, at: UInt64(max(at, 0)), record: record, name: name,
                                  size: size, replica: replica, seq: seq, receivedAt: UInt64(max(receivedAt, 0))), access)
    }
}
