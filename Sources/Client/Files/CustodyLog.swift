import Foundation
import GRDB
import Shared

/// The replica's copy of the files' custody logs (`custody` table): the events this replica made, kept
/// pending until the server has stored them, and the project's events pulled from the server. Events
/// are only ever added; nothing here edits or removes one.
enum CustodyLog {
    /// Appends an event made on this replica now, by its user, with a new id (the node id and a counter).
    @discardableResult
    static func append(_ kind: Wire.CustodyKind, sha256: String, settings: ReplicaSettings, record: String? = nil,
                       name: String? = nil, size: Int64? = nil, _ db: Database) throws -> Wire.CustodyEvent {
        let counter = (Int64(try Setting.get(.custodyCounter, db) ?? "0") ?? 0) + 1
        try Setting.set(.custodyCounter, String(counter), db)
        let event = Wire.CustodyEvent(id: "\(settings.node)-\(counter)", sha256: sha256, event: kind, by: settings.user,
                                      at: try ReplicaClock.load(db).now, record: record, name: name, size: size,
                                      replica: settings.node.description)
        try store(event, pending: true, db)
        return event
    }

    /// Stores events pulled from the server; one this replica made and sent is completed with what the
    /// server assigned (its position, its time, the user it authenticated) and is no longer pending.
    static func storePulled(_ events: [Wire.CustodyEvent], _ db: Database) throws {
        for event in events { try store(event, pending: false, db) }
    }

    /// A file's events, oldest first (by when they happened; at the same millisecond, in the order
    /// custody runs: added, received, uploaded (the server receives before the uploader hears so),
    /// downloaded, extracted).
    static func events(of sha256: String, _ db: Database) throws -> [Wire.CustodyEvent] {
        try fetch("WHERE sha256 = ?", [sha256], db).sorted { a, b in
            if a.at != b.at { return a.at < b.at }
            let (rankA, rankB) = (rank(a.event), rank(b.event))
            if rankA != rankB { return rankA < rankB }
            return (a.seq ?? .max, a.id) < (b.seq ?? .max, b.id)
        }
    }

    /// Events made here that the server has not stored yet, oldest first.
    static func pending(limit: Int, _ db: Database) throws -> [Wire.CustodyEvent] {
        try fetch("WHERE pending ORDER BY at, id LIMIT ?", [limit], db)
    }

    /// The server stored these events (a later pull brings back their position).
    static func markSent(_ ids: [String], _ db: Database) throws {
        for id in ids { try db.execute(sql: "UPDATE custody SET pending = 0 WHERE id = ?", arguments: [id]) }
    }

    /// How many events are waiting to be sent.
    /// Every event the replica holds, oldest first.
    static func all(_ db: Database) throws -> [Wire.CustodyEvent] {
        try fetch("ORDER BY at, id", [], db)
    }

    /// Stores events received in a bundle as the server will give them (not pending here: their maker sends them).
    static func storeReceived(_ events: [Wire.CustodyEvent], _ db: Database) throws {
        for event in events { try store(event, pending: false, db) }
    }

    static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM custody WHERE pending") ?? 0
    }

    /// The SHA-256s the log names that start with `prefix` (at most `limit`).
    static func hashes(startingWith prefix: String, limit: Int, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM custody WHERE sha256 >= ? AND sha256 < ? ORDER BY sha256 LIMIT ?",
                            arguments: [prefix, prefix + "g", limit])
    }

    private static func rank(_ kind: Wire.CustodyKind) -> Int {
        switch kind {
        case .added: 0
        case .received: 1
        case .uploaded: 2
        case .downloaded: 3
        case .extracted: 4
        }
    }

    private static func store(_ event: Wire.CustodyEvent, pending: Bool, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO custody (id, sha256, event, actor, at, record, name, size, replica, seq, received_at, pending)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET actor = excluded.actor, seq = COALESCE(excluded.seq, custody.seq),
                received_at = COALESCE(excluded.received_at, custody.received_at), pending = custody.pending AND excluded.pending
            """, arguments: [event.id, event.sha256, event.event.rawValue, event.by, Int64(clamping: event.at), event.record, event.name,
                             event.size, event.replica, event.seq, event.receivedAt.map { Int64(clamping: $0) }, pending])
    }

    private static func fetch(_ clause: String, _ arguments: StatementArguments, _ db: Database) throws -> [Wire.CustodyEvent] {
        try Row.fetchAll(db, sql: "SELECT * FROM custody " + clause, arguments: arguments).map { row in
            guard let kind = Wire.CustodyKind(rawValue: row["event"]) else {
                throw ClientError("the replica holds a custody event of an unknown kind ('\(row["event"] as String? ?? "")'): it was written by a newer casebook; use that version")
            }
            return Wire.CustodyEvent(id: row["id"], sha256: row["sha256"], event: kind, by: row["actor"],
                                     at: UInt64(max(0, row["at"] as Int64)), record: row["record"], name: row["name"],
                                     size: row["size"], replica: row["replica"], seq: row["seq"],
                                     receivedAt: (row["received_at"] as Int64?).map { UInt64(max(0, $0)) })
        }
    }
}
