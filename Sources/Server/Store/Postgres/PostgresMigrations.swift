import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL store's tables: its migrations, and how a server applies the ones it lacks.
///
/// The tables mirror the SQLite store's (see `SQLiteMigrations`). Every text that is compared or
/// ordered as an HLC uses the "C" collation, so the database orders HLCs byte by byte exactly
/// as Swift and SQLite do, whatever the database's locale.
enum PostgresMigrations {
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
        // Each node id belongs to the user whose push first carried it; the nodes already in the log
        // go to the author of their first change.
        (2, "node owners", """
            CREATE TABLE node (
                project_id BIGINT NOT NULL,
                node TEXT COLLATE "C" NOT NULL,
                author TEXT NOT NULL,
                PRIMARY KEY (project_id, node)
            );
            INSERT INTO node (project_id, node, author)
                SELECT DISTINCT ON (project_id, substr(hlc, 19)) project_id, substr(hlc, 19), author
                FROM change ORDER BY project_id, substr(hlc, 19), seq;
            """),
        // Evidence files: their content in chunks (bytea, so every instance serves every file), their
        // custody logs (appended only), and a file quota per project (NULL: the default). The chunks
        // are stored uncompressed: evidence is mostly photos, audio and video, compressed already.
        (3, "evidence files", """
            CREATE TABLE file (
                project_id BIGINT NOT NULL REFERENCES project(id),
                sha256 TEXT COLLATE "C" NOT NULL,
                size BIGINT NOT NULL,
                received BIGINT NOT NULL,
                complete BOOLEAN NOT NULL DEFAULT false,
                upload TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                completed_at BIGINT,
                PRIMARY KEY (project_id, sha256)
            );
            CREATE TABLE file_chunk (
                project_id BIGINT NOT NULL,
                sha256 TEXT COLLATE "C" NOT NULL,
                chunk BIGINT NOT NULL,
                data BYTEA NOT NULL,
                PRIMARY KEY (project_id, sha256, chunk)
            );
            ALTER TABLE file_chunk ALTER COLUMN data SET STORAGE EXTERNAL;
            CREATE TABLE custody (
                project_id BIGINT NOT NULL REFERENCES project(id),
                seq BIGINT NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                sha256 TEXT COLLATE "C" NOT NULL,
                event TEXT NOT NULL,
                author TEXT NOT NULL,
                at BIGINT NOT NULL,
                record TEXT,
                name TEXT,
                size BIGINT,
                replica TEXT,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, seq),
                UNIQUE (project_id, id)
            );
            CREATE INDEX custody_by_file ON custody(project_id, sha256);
            ALTER TABLE project ADD COLUMN file_quota BIGINT;
            """),
        // Device keys and signed batches (docs/protocol.md, "Signatures"); the changes already in the
        // log were accepted unsigned, and `unsigned_up_to` keeps where they end.
        (4, "signatures", """
            CREATE TABLE device (
                project_id BIGINT NOT NULL REFERENCES project(id),
                node TEXT COLLATE "C" NOT NULL,
                owner TEXT NOT NULL,
                signing_key BYTEA NOT NULL,
                registered_at BIGINT NOT NULL,
                revoked_at BIGINT,
                PRIMARY KEY (project_id, node)
            );
            CREATE TABLE batch (
                project_id BIGINT NOT NULL REFERENCES project(id),
                id TEXT COLLATE "C" NOT NULL,
                node TEXT COLLATE "C" NOT NULL,
                digests BYTEA NOT NULL,
                signature BYTEA NOT NULL,
                PRIMARY KEY (project_id, id)
            );
            ALTER TABLE change ADD COLUMN batch TEXT COLLATE "C";
            ALTER TABLE project ADD COLUMN unsigned_up_to BIGINT NOT NULL DEFAULT 0;
            UPDATE project SET unsigned_up_to = last_seq;
            """),
        // The log is hash-chained (`LogChain`): each change keeps its digest and the chain value at
        // its sequence number; `chainStoredChanges` computes them for the changes already stored.
        (chainMigration, "hash-chained log", """
            ALTER TABLE change ADD COLUMN digest TEXT;
            ALTER TABLE change ADD COLUMN chain TEXT;
            """),
        // Need-to-know: groups and their members; every record, head and change carries its record's
        // access class, indexed so a read filters by class without a scan; the classes in use; the
        // files each record's history names; the events that change what someone may read.
        (6, "need-to-know", """
            CREATE TABLE team_group (
                project_id BIGINT NOT NULL REFERENCES project(id),
                name TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, name)
            );
            CREATE TABLE group_member (
                project_id BIGINT NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                user_id BIGINT NOT NULL REFERENCES account(id),
                PRIMARY KEY (project_id, name, user_id)
            );
            CREATE INDEX group_member_by_user ON group_member(user_id, project_id);
            ALTER TABLE record ADD COLUMN access TEXT COLLATE "C" NOT NULL DEFAULT '';
            CREATE INDEX record_by_access ON record(project_id, access) WHERE access <> '';
            ALTER TABLE change ADD COLUMN access TEXT COLLATE "C" NOT NULL DEFAULT '';
            CREATE INDEX change_by_access ON change(project_id, access, seq);
            CREATE INDEX change_by_record ON change(project_id, record);
            ALTER TABLE head ADD COLUMN access TEXT COLLATE "C" NOT NULL DEFAULT '';
            CREATE INDEX head_by_access ON head(project_id, access, hlc);
            CREATE TABLE access_class (
                project_id BIGINT NOT NULL,
                class TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (project_id, class)
            );
            CREATE TABLE file_record (
                project_id BIGINT NOT NULL,
                sha256 TEXT COLLATE "C" NOT NULL,
                record TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (project_id, sha256, record)
            );
            CREATE TABLE access_event (
                project_id BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                record TEXT COLLATE "C",
                user_id BIGINT,
                before TEXT COLLATE "C",
                after TEXT COLLATE "C",
                nonce TEXT,
                digest TEXT,
                chain TEXT
            );
            CREATE INDEX access_event_by_seq ON access_event(project_id, seq);
            """),
        // Each device's X25519 agreement key and the signature of its signing key over it.
        (7, "device-agreement-key", """
            ALTER TABLE device ADD COLUMN agreement_key BYTEA;
            ALTER TABLE device ADD COLUMN agreement_signature BYTEA;
            """),
        // Sensitive fields: the project's keys (ids and order only: the store never holds a key) and
        // their copies wrapped for each device (docs/security.md, "Sensitive fields").
        (8, "project keys", """
            CREATE TABLE project_key (
                project_id BIGINT NOT NULL REFERENCES project(id),
                id TEXT COLLATE "C" NOT NULL,
                position BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, id),
                UNIQUE (project_id, position)
            );
            CREATE TABLE key_wrap (
                project_id BIGINT NOT NULL,
                key_id TEXT COLLATE "C" NOT NULL,
                node TEXT COLLATE "C" NOT NULL,
                wrapped BYTEA NOT NULL,
                granter TEXT COLLATE "C" NOT NULL,
                signature BYTEA NOT NULL,
                granted_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, key_id, node)
            );
            """),
        // Each project's server agreement key (X25519, private half), made at first need, for bundles.
        (9, "project-agreement-key", """
            CREATE TABLE server_agreement_key (project_id BIGINT PRIMARY KEY, agreement_key BYTEA NOT NULL, created_at BIGINT NOT NULL);
            """),
        // Each chunk keeps its SHA-256 (32 bytes), as checked when it arrived, so that a download is
        // answered without hashing the chunk again. NULL for chunks stored before: hashed as served.
        (10, "chunk-hashes", """
            ALTER TABLE file_chunk ADD COLUMN hash BYTEA;
            """),
    ]

    /// The migration that adds the log's chain; the changes stored before it are chained in Swift.
    static let chainMigration = 5

    /// The advisory lock classes (first key; the second is the project's id) that order new files
    /// of a project (their quota) and its custody numbers.
    static let newFileLock: Int32 = 0x6669_6C65  // "file"
    static let custodyLock: Int32 = 0x6375_7374  // "cust"

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
                if migration.version == chainMigration { try await chainStoredChanges(connection, logger: logger) }
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
}
