import Foundation
import GRDB
import Shared
import SQLiteSupport

/// The SQLite store's tables, migrations, and the statements of a push and a pull.
enum SQLiteSchema {
    /// Migrations are never edited once shipped; add a new one instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE project (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    schema TEXT NOT NULL,
                    last_seq INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE user (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                CREATE TABLE token (
                    hash BLOB PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES user(id),
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX token_by_user ON token(user_id);
                CREATE TABLE member (
                    user_id INTEGER NOT NULL REFERENCES user(id),
                    project_id INTEGER NOT NULL REFERENCES project(id),
                    role TEXT NOT NULL,
                    PRIMARY KEY (user_id, project_id)
                ) WITHOUT ROWID;
                -- Every accepted change, forever: the history, and the pull feed by seq.
                CREATE TABLE change (
                    project_id INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    hlc TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    author TEXT NOT NULL,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    received_at INTEGER NOT NULL,
                    UNIQUE (project_id, seq),
                    UNIQUE (project_id, hlc)
                );
                CREATE INDEX change_by_base ON change(project_id, base) WHERE base IS NOT NULL;
                -- The versions a change supersedes besides its base (resolutions).
                CREATE TABLE change_parent (
                    project_id INTEGER NOT NULL,
                    parent TEXT NOT NULL,
                    child TEXT NOT NULL,
                    PRIMARY KEY (project_id, parent, child)
                ) WITHOUT ROWID;
                -- The current versions of every field (more than one value: a conflict).
                CREATE TABLE head (
                    project_id INTEGER NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    PRIMARY KEY (project_id, record, field, hlc)
                ) WITHOUT ROWID;
                CREATE INDEX head_by_hlc ON head(project_id, hlc);
                CREATE TABLE record (
                    project_id INTEGER NOT NULL,
                    id TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    PRIMARY KEY (project_id, id)
                ) WITHOUT ROWID;
                -- The last state of every conflict (open or closed) and the seq that changed it.
                CREATE TABLE conflict (
                    project_id INTEGER NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    state TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (project_id, record, field)
                ) WITHOUT ROWID;
                CREATE INDEX conflict_by_seq ON conflict(project_id, seq);
                """)
        }
        // v2: records get an integer `key`, and the heads are keyed by it, so a push appends to the
        // `head` table instead of inserting at random pages (the text form of a record id starts
        // with random digits, which made every insert a cache miss once the store outgrew its cache).
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE record_v2 (
                    key INTEGER PRIMARY KEY,
                    project_id INTEGER NOT NULL,
                    id TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    UNIQUE (project_id, id)
                );
                INSERT INTO record_v2 (project_id, id, collection)
                    SELECT project_id, id, collection FROM record ORDER BY project_id, substr(id, 17), id;  -- creation order
                -- The key's columns first: SQLite 3.40's integrity_check misreads NOT NULL columns
                -- placed before them in a WITHOUT ROWID table.
                CREATE TABLE head_v2 (
                    record_key INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    project_id INTEGER NOT NULL,
                    PRIMARY KEY (record_key, field, hlc)
                ) WITHOUT ROWID;
                INSERT INTO head_v2 (record_key, field, hlc, project_id)
                    SELECT record_v2.key, head.field, head.hlc, head.project_id
                    FROM head JOIN record_v2 ON record_v2.project_id = head.project_id AND record_v2.id = head.record;
                DROP TABLE head;
                DROP TABLE record;
                ALTER TABLE record_v2 RENAME TO record;
                ALTER TABLE head_v2 RENAME TO head;
                CREATE INDEX head_by_hlc ON head(project_id, hlc);
                """)
        }
        return migrator
    }

    // MARK: Push

    /// Loads what the planner needs for `changes`.
    static func loadContext(_ db: Database, projectID: Int64, changes: [Change]) throws -> PushContext {
        var context = PushContext()
        context.lastSeq = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
        // Every batch HLC already stored, in one statement: SQLite probes the index for each
        // (a JSON array of the HLCs), without a round trip through Swift per change.
        let byHLC = try db.cachedStatement(sql: """
            SELECT \(changeColumns) FROM change WHERE project_id = ? AND hlc IN (SELECT value FROM json_each(?))
            """)
        let childByBase = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE project_id = ? AND base = ? AND record = ? AND field = ? LIMIT 1")
        let childByParent = try db.cachedStatement(sql: """
            SELECT 1 FROM change_parent JOIN change ON change.project_id = change_parent.project_id AND change.hlc = change_parent.child
            WHERE change_parent.project_id = ? AND change_parent.parent = ? AND change.record = ? AND change.field = ? LIMIT 1
            """)
        let collections = try db.cachedStatement(sql: """
            SELECT id, collection FROM record WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))
            """)
        for row in try Row.fetchAll(collections, arguments: [projectID, jsonArray(Array(Set(changes.map(\.record))))]) {
            context.collections[row[0]] = row[1] as String
        }
        // An HLC is unique in the project, whatever the record: a replica that lost its clock
        // state may reuse one for a new record, which must be refused (`id_reused`), not crash
        // the batch on the unique index.
        let stored = try byHLC.fetchRaw({ row in
            row.integer(projectID)
            row.text(jsonArray(changes.map(\.hlc.text)))
        }, row: { try loggedChange($0).change })
        for change in stored { context.existing[change.hlc] = change }
        for change in changes {
            let hlc = change.hlc.text
            // A change can only be a parent of a stored change if its record is stored: records
            // new to the store (an import, a first sync) skip these lookups.
            guard context.collections[change.record] != nil else { continue }
            let key: StatementArguments = [projectID, hlc, change.record, change.field]
            if try Bool.fetchOne(childByBase, arguments: key) == true || Bool.fetchOne(childByParent, arguments: key) == true {
                context.parentsOfStored.insert(change.hlc)
            }
        }
        let heads = try db.cachedStatement(sql: """
            SELECT head.field, change.hlc, change.value, change.author, change.covers
            FROM record JOIN head ON head.record_key = record.key
            JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
            WHERE record.project_id = ? AND record.id = ?
            """)
        for record in context.collections.keys {
            var fields: [String: [Version]] = [:]
            for row in try Row.fetchAll(heads, arguments: [projectID, record]) {
                fields[row["field"], default: []].append(try version(row))
            }
            context.heads[record] = fields
        }
        return context
    }

    /// A JSON array of strings, for `json_each`.
    static func jsonArray(_ items: [String]) -> String {
        var writer = FastJSONWriter(capacity: items.count * 40 + 2)
        writer.stringArray(items)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes a plan: appends to the log, replaces heads, records new records and conflicts.
    static func write(_ plan: PushPlan, _ db: Database, projectID: Int64) throws {
        guard !plan.inserts.isEmpty else { return }
        let encoder = JSONEncoder()
        let insertChange = try db.cachedStatement(sql: """
            INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertParent = try db.cachedStatement(sql: "INSERT OR IGNORE INTO change_parent (project_id, parent, child) VALUES (?, ?, ?)")
        for logged in plan.inserts {
            let change = logged.change
            try insertChange.executeRaw { row in
                row.integer(projectID)
                row.integer(logged.seq)
                row.change(StoredChange(change))
                row.integer(Int64(bitPattern: logged.receivedAt))
            }
            for parent in change.supersedes {
                try insertParent.execute(arguments: [projectID, parent.text, change.hlc.text])
            }
        }
        // New records first, in the order they arrived (their keys follow it), then every key the heads need.
        let insertRecord = try db.cachedStatement(sql: "INSERT INTO record (project_id, id, collection) VALUES (?, ?, ?)")
        var recordKeys: [String: Int64] = [:]
        for logged in plan.inserts {
            let record = logged.change.record
            guard recordKeys[record] == nil, let collection = plan.newRecords[record] else { continue }
            try insertRecord.executeRaw { row in
                row.integer(projectID)
                row.text(record)
                row.text(collection)
            }
            recordKeys[record] = db.lastInsertedRowID
        }
        let stored = Set(plan.heads.keys.map(\.record)).subtracting(recordKeys.keys)
        if !stored.isEmpty {
            let keys = try db.cachedStatement(sql: "SELECT id, key FROM record WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))")
            for (id, key) in try keys.fetchRaw({ row in
                row.integer(projectID)
                row.text(jsonArray(Array(stored)))
            }, row: { ($0.text(0), $0.integer(1)) }) {
                recordKeys[id] = key
            }
        }
        let deleteHeads = try db.cachedStatement(sql: "DELETE FROM head WHERE record_key = ? AND field = ?")
        let insertHead = try db.cachedStatement(sql: "INSERT INTO head (project_id, record_key, field, hlc) VALUES (?, ?, ?, ?)")
        for (key, versions) in plan.heads {
            guard let recordKey = recordKeys[key.record] else { throw StoreDefect(description: "record \(key.record) has field versions but no record row") }
            if plan.replacedHeads.contains(key) {
                try deleteHeads.executeRaw { row in
                    row.integer(recordKey)
                    row.text(key.field)
                }
            }
            for version in versions {
                try insertHead.executeRaw { row in
                    row.integer(projectID)
                    row.integer(recordKey)
                    row.text(key.field)
                    row.text(version.hlc.text)
                }
            }
        }
        let upsertConflict = try db.cachedStatement(sql: """
            INSERT INTO conflict (project_id, record, field, state, seq) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (project_id, record, field) DO UPDATE SET state = excluded.state, seq = excluded.seq
            """)
        for (key, state) in plan.conflicts {
            try upsertConflict.execute(arguments: [
                projectID, key.record, key.field, String(decoding: try encoder.encode(state), as: UTF8.self), plan.conflictSeqs[key] ?? plan.lastSeq,
            ])
        }
        try db.execute(sql: "UPDATE project SET last_seq = ? WHERE id = ?", arguments: [plan.lastSeq, projectID])
    }

    // MARK: Reading

    /// Logged changes from rows of the `change` table.
    static func loggedChanges(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Wire.LoggedChange] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        // Columns read straight from SQLite: GRDB's rows would copy every value first.
        return try statement.fetchRaw(row: loggedChange)
    }

    /// Conflict rows changed by sequence numbers in (after, upTo].
    static func conflictStates(_ db: Database, projectID: Int64, after: Int64, upTo: Int64) throws -> [Wire.ConflictState] {
        let decoder = JSONDecoder()
        return try String.fetchAll(
            db, sql: "SELECT state FROM conflict WHERE project_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
            arguments: [projectID, after, upTo]
        ).map { try decoder.decode(Wire.ConflictState.self, from: Data($0.utf8)) }
    }

    /// The columns `loggedChange` reads, in its order (positional access is much cheaper than by name).
    static let changeColumns = "change.seq, change.hlc, change.collection, change.record, change.field, change.value, change.author, change.base, change.supersedes, change.covers, change.received_at"

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
