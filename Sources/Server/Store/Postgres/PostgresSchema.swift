import Foundation
import Logging
import PostgresNIO
import Shared

/// The PostgreSQL store's tables, migrations, and the statements of a push and a pull.
///
/// The tables mirror the SQLite store's (see `SQLiteSchema`). Every text that is compared or
/// ordered as an HLC uses the "C" collation, so the database orders HLCs byte by byte exactly
/// as Swift and SQLite do, whatever the database's locale.
enum PostgresSchema {
    /// Migrations by version, applied in order. Never edit one once shipped; add a new one.
    static let migrations: [(version: Int, name: String, sql: String)] = [
        (1, "tables", """
            CREATE TABLE project (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                schema TEXT NOT NULL,
                last_seq BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE account (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            );
            CREATE TABLE token (
                hash BYTEA PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES account(id),
                created_at BIGINT NOT NULL
            );
            CREATE INDEX token_by_user ON token(user_id);
            CREATE TABLE member (
                user_id BIGINT NOT NULL REFERENCES account(id),
                project_id BIGINT NOT NULL REFERENCES project(id),
                role TEXT NOT NULL,
                PRIMARY KEY (user_id, project_id)
            );
            CREATE TABLE change (
                project_id BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                hlc TEXT COLLATE "C" NOT NULL,
                collection TEXT NOT NULL,
                record TEXT COLLATE "C" NOT NULL,
                field TEXT COLLATE "C" NOT NULL,
                value TEXT NOT NULL,
                author TEXT NOT NULL,
                base TEXT COLLATE "C",
                supersedes TEXT,
                covers TEXT,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, seq),
                UNIQUE (project_id, hlc)
            );
            CREATE INDEX change_by_base ON change(project_id, base) WHERE base IS NOT NULL;
            CREATE TABLE change_parent (
                project_id BIGINT NOT NULL,
                parent TEXT COLLATE "C" NOT NULL,
                child TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (project_id, parent, child)
            );
            CREATE TABLE head (
                project_id BIGINT NOT NULL,
                record TEXT COLLATE "C" NOT NULL,
                field TEXT COLLATE "C" NOT NULL,
                hlc TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (project_id, record, field, hlc)
            );
            CREATE INDEX head_by_hlc ON head(project_id, hlc);
            CREATE TABLE record (
                project_id BIGINT NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                collection TEXT NOT NULL,
                PRIMARY KEY (project_id, id)
            );
            CREATE TABLE conflict (
                project_id BIGINT NOT NULL,
                record TEXT COLLATE "C" NOT NULL,
                field TEXT COLLATE "C" NOT NULL,
                state TEXT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (project_id, record, field)
            );
            CREATE INDEX conflict_by_seq ON conflict(project_id, seq);
            """),
    ]

    /// The advisory lock that serialises migrations between server instances starting at once.
    static let migrationLock: Int64 = 0x6361_7365_626F_6F6B  // "casebook"

    /// Applies the migrations this build knows and the database lacks, in one transaction under
    /// an advisory lock: a second instance starting at the same moment waits, then finds them done.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            // Read the result: a failure here must surface here, not as an aborted transaction later.
            for try await _ in try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger) {}
            // Only create the bookkeeping table when it is missing: a role without CREATE rights can
            // run a server on a database that is already migrated.
            let present = try await connection.query("SELECT to_regclass('casebook_migration') IS NOT NULL", logger: logger)
                .decode(Bool.self).collect().first ?? false
            if !present {
                try await connection.query("""
                    CREATE TABLE casebook_migration (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                    """, logger: logger)
            }
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM casebook_migration", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            let known = migrations.map(\.version).max() ?? 0
            if let newest = applied.max(), newest > known {
                throw StoreError.unavailable(
                    "the database was set up by a newer casebook-server (schema version \(newest), this one knows \(known)): run the newer version")
            }
            for migration in migrations where !applied.contains(migration.version) {
                logger.notice("applying database migration \(migration.version) (\(migration.name))")
                // One statement at a time: the extended protocol takes a single command.
                for statement in migration.sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO casebook_migration (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(Int64(currentMillis())))",
                    logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    // MARK: Push

    /// Loads what the planner needs for `changes`, with one statement per kind of fact.
    static func loadContext(_ db: PostgresConnection, projectID: Int64, lastSeq: Int64, changes: [Change], logger: Logger) async throws -> PushContext {
        var context = PushContext()
        context.lastSeq = lastSeq
        // Only well-formed ids can be stored (the planner refuses the rest), and PostgreSQL would
        // refuse some malformed ones (a NUL byte) with an error instead of finding nothing.
        let records = Array(Set(changes.map(\.record).filter(RecordID.isValid)))
        for try await (id, collection) in try await db.query(
            "SELECT id, collection FROM record WHERE project_id = \(projectID) AND id = ANY(\(records)::text[])", logger: logger
        ).decode((String, String).self) {
            context.collections[id] = collection
        }
        // An HLC is unique in the project, whatever the record: a replica that lost its clock state
        // may reuse one for a new record, which must be refused (`id_reused`), not fail the batch.
        let allHLCs = changes.filter { RecordID.isValid($0.record) }.map(\.hlc.text)
        for row in try await rows(db.query(
            "SELECT \(unescaped: changeColumns) FROM change WHERE project_id = \(projectID) AND hlc = ANY(\(allHLCs)::text[])", logger: logger)) {
            let logged = try loggedChange(row)
            context.existing[logged.change.hlc] = logged.change
        }
        // A change can only be a parent of a stored change if its record is stored: records new
        // to the store (an import, a first sync) skip these lookups.
        let stored = changes.filter { context.collections[$0.record] != nil }
        guard !stored.isEmpty else { return context }
        let hlcs = stored.map(\.hlc.text)
        // Parents named by stored changes of the same record and field.
        var named = Set<FieldParent>()
        for try await (parent, record, field) in try await db.query("""
            SELECT base, record, field FROM change WHERE project_id = \(projectID) AND base = ANY(\(hlcs)::text[])
            UNION ALL
            SELECT change_parent.parent, change.record, change.field
            FROM change_parent JOIN change ON change.project_id = change_parent.project_id AND change.hlc = change_parent.child
            WHERE change_parent.project_id = \(projectID) AND change_parent.parent = ANY(\(hlcs)::text[])
            """, logger: logger).decode((String, String, String).self) {
            named.insert(FieldParent(record: record, field: field, parent: parent))
        }
        for change in stored where named.contains(FieldParent(record: change.record, field: change.field, parent: change.hlc.text)) {
            context.parentsOfStored.insert(change.hlc)
        }
        let storedRecords = Array(context.collections.keys)
        for record in storedRecords { context.heads[record] = [:] }
        for try await (record, field, hlc, value, author, covers) in try await db.query("""
            SELECT head.record, head.field, change.hlc, change.value, change.author, change.covers
            FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
            WHERE head.project_id = \(projectID) AND head.record = ANY(\(storedRecords)::text[])
            """, logger: logger).decode((String, String, String, String, String, String?).self) {
            let version = Version(hlc: try StorageText.decodeHLC(hlc), value: try StorageText.decodeValue(value),
                                  author: author, covers: try StorageText.decodeHLCs(covers))
            context.heads[record, default: [:]][field, default: []].append(version)
        }
        return context
    }

    /// Writes a plan with one statement per table (arrays unnested server-side, not a statement per row).
    static func write(_ plan: PushPlan, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        guard !plan.inserts.isEmpty else { return }
        var seqs: [Int64] = [], hlcs: [String] = [], collections: [String] = [], records: [String] = [], fields: [String] = []
        var values: [String] = [], authors: [String] = [], bases: [String] = [], supersedes: [String] = [], covers: [String] = []
        var received: [Int64] = []
        var parents: [String] = [], children: [String] = []
        for logged in plan.inserts {
            let change = logged.change, stored = StoredChange(change)
            seqs.append(logged.seq)
            hlcs.append(stored.hlc)
            collections.append(stored.collection)
            records.append(stored.record)
            fields.append(stored.field)
            values.append(stored.value)
            authors.append(stored.author)
            // Arrays of optionals cannot be bound: an empty string stands for NULL (never a valid HLC).
            bases.append(stored.base ?? "")
            supersedes.append(stored.supersedes ?? "")
            covers.append(stored.covers ?? "")
            received.append(Int64(logged.receivedAt))
            for parent in change.supersedes {
                parents.append(parent.text)
                children.append(change.hlc.text)
            }
        }
        try await db.query("""
            INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at)
            SELECT \(projectID), s, h, c, r, f, v, a, NULLIF(b, ''), NULLIF(sp, ''), NULLIF(cv, ''), ra
            FROM unnest(\(seqs)::bigint[], \(hlcs)::text[], \(collections)::text[], \(records)::text[], \(fields)::text[],
                        \(values)::text[], \(authors)::text[], \(bases)::text[], \(supersedes)::text[], \(covers)::text[],
                        \(received)::bigint[]) AS t(s, h, c, r, f, v, a, b, sp, cv, ra)
            """, logger: logger)
        if !parents.isEmpty {
            try await db.query("""
                INSERT INTO change_parent (project_id, parent, child)
                SELECT \(projectID), p, c FROM unnest(\(parents)::text[], \(children)::text[]) AS t(p, c)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        let replaced = Array(plan.replacedHeads)
        if !replaced.isEmpty {
            try await db.query("""
                DELETE FROM head WHERE project_id = \(projectID)
                AND (record, field) IN (SELECT r, f FROM unnest(\(replaced.map(\.record))::text[], \(replaced.map(\.field))::text[]) AS t(r, f))
                """, logger: logger)
        }
        var headRecords: [String] = [], headFields: [String] = [], headHLCs: [String] = []
        for (key, versions) in plan.heads {
            for version in versions {
                headRecords.append(key.record)
                headFields.append(key.field)
                headHLCs.append(version.hlc.text)
            }
        }
        if !headRecords.isEmpty {
            try await db.query("""
                INSERT INTO head (project_id, record, field, hlc)
                SELECT \(projectID), r, f, h FROM unnest(\(headRecords)::text[], \(headFields)::text[], \(headHLCs)::text[]) AS t(r, f, h)
                """, logger: logger)
        }
        if !plan.newRecords.isEmpty {
            try await db.query("""
                INSERT INTO record (project_id, id, collection)
                SELECT \(projectID), i, c FROM unnest(\(Array(plan.newRecords.keys))::text[], \(Array(plan.newRecords.values))::text[]) AS t(i, c)
                """, logger: logger)
        }
        if !plan.conflicts.isEmpty {
            let encoder = JSONEncoder()
            var conflictRecords: [String] = [], conflictFields: [String] = [], states: [String] = [], conflictSeqs: [Int64] = []
            for (key, state) in plan.conflicts {
                conflictRecords.append(key.record)
                conflictFields.append(key.field)
                states.append(String(decoding: try encoder.encode(state), as: UTF8.self))
                conflictSeqs.append(plan.conflictSeqs[key] ?? plan.lastSeq)
            }
            try await db.query("""
                INSERT INTO conflict (project_id, record, field, state, seq)
                SELECT \(projectID), r, f, s, q FROM unnest(\(conflictRecords)::text[], \(conflictFields)::text[], \(states)::text[], \(conflictSeqs)::bigint[]) AS t(r, f, s, q)
                ON CONFLICT (project_id, record, field) DO UPDATE SET state = excluded.state, seq = excluded.seq
                """, logger: logger)
        }
        try await db.query("UPDATE project SET last_seq = \(plan.lastSeq) WHERE id = \(projectID)", logger: logger)
    }

    // MARK: Reading

    /// The columns `loggedChange` reads, in its order.
    static let changeColumns = "change.seq, change.hlc, change.collection, change.record, change.field, change.value, change.author, change.base, change.supersedes, change.covers, change.received_at"

    /// Every row of a result.
    static func rows(_ sequence: PostgresRowSequence) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in sequence { rows.append(row) }
        return rows
    }

    static func loggedChange(_ row: PostgresRow) throws -> Wire.LoggedChange {
        let (seq, hlc, collection, record, field, value, author, base, supersedes, covers, received) = try row.decode(
            (Int64, String, String, String, String, String, String, String?, String?, String?, Int64).self)
        let stored = StoredChange(hlc: hlc, collection: collection, record: record, field: field, value: value, author: author,
                                  base: base, supersedes: supersedes, covers: covers)
        return Wire.LoggedChange(seq: seq, change: try stored.change(), receivedAt: UInt64(max(received, 0)))
    }

    /// Conflict rows changed by sequence numbers in (after, upTo].
    static func conflictStates(_ db: PostgresConnection, projectID: Int64, after: Int64, upTo: Int64, logger: Logger) async throws -> [Wire.ConflictState] {
        let decoder = JSONDecoder()
        var states: [Wire.ConflictState] = []
        for try await state in try await db.query(
            "SELECT state FROM conflict WHERE project_id = \(projectID) AND seq > \(after) AND seq <= \(upTo) ORDER BY seq", logger: logger
        ).decode(String.self) {
            states.append(try decoder.decode(Wire.ConflictState.self, from: Data(state.utf8)))
        }
        return states
    }
}

extension AsyncSequence {
    /// Every element, in order.
    func collect() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}

/// A version named as a parent by some change of one record's field.
private struct FieldParent: Hashable {
    var record: String
    var field: String
    var parent: String
}
