import Foundation
import GRDB

/// The SQLite store's tables: its migrations, applied in order when the store opens.
enum SQLiteMigrations {
    /// Migrations are never edited once shipped; add a new one instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: v1) }
        // v2: records get an integer `key`, and the heads are keyed by it, so a push appends to the
        // `head` table instead of inserting at random pages (the text form of a record id starts
        // with random digits, which made every insert a cache miss once the store outgrew its cache).
        migrator.registerMigration("v2") { db in try db.execute(sql: v2) }
        // v3: each node id belongs to the user whose push first carried it, so nobody can stamp changes
        // as another's replica; the nodes already in the log go to the author of their first change.
        migrator.registerMigration("v3") { db in try db.execute(sql: v3) }
        // v4: evidence files (their content is in DATA/files, see `FileFolder`), their custody logs,
        // and a file quota per project (NULL: the default).
        migrator.registerMigration("v4") { db in try db.execute(sql: v4) }
        // Device keys and signed batches (docs/protocol.md, "Signatures"). The changes already in the
        // log were accepted unsigned: `unsigned_up_to` keeps where they end, so that no unsigned change
        // is ever accepted after it.
        migrator.registerMigration("signatures") { db in try db.execute(sql: signatures) }
        // v5: the log is hash-chained (`LogChain`): each change keeps its digest and the chain value
        // at its sequence number, computed here for the changes already stored.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "ALTER TABLE change ADD COLUMN digest TEXT; ALTER TABLE change ADD COLUMN chain TEXT")
            try chainStoredChanges(db)
        }
        // v6: need-to-know. Groups and their members; every record, head and change carries its
        // record's access class (`AccessRule`), indexed so a read filters by class without a scan;
        // the classes in use; the files each record's history names; and the events that change
        // what someone may read, which a pull turns into records to remove or bring back.
        migrator.registerMigration("v6") { db in try db.execute(sql: v6) }
        // v7: each device's X25519 agreement key and the signature of its signing key over it
        // (`DeviceBinding`): what bundles and the project key of sensitive fields are wrapped for.
        migrator.registerMigration("v7") { db in
            try db.execute(sql: "ALTER TABLE device ADD COLUMN agreement_key BLOB; ALTER TABLE device ADD COLUMN agreement_signature BLOB")
        }
        // v8: sensitive fields. The project's keys (ids and order only: the store never holds a key) and
        // their copies wrapped for each device (docs/security.md, "Sensitive fields").
        migrator.registerMigration("v8") { db in try db.execute(sql: v8) }
        // v9: each project's server agreement key (X25519, private half), made at first need: replicas
        // seal bundles for it too, so that `casebook-server bundle apply` can open them.
        migrator.registerMigration("v9") { db in
            try db.execute(sql: "CREATE TABLE server_agreement_key (project_id INTEGER PRIMARY KEY, agreement_key BLOB NOT NULL, created_at INTEGER NOT NULL)")
        }
        // v10: the log's digests and chain values as their 32 bytes instead of 64 hex characters: each
        // change row was 130 bytes wider for them, and pushes paid for it in pages written.
        migrator.registerMigration("v10") { db in try chainValuesAsBytes(db) }
        // v11: a record's changes are found by its integer key instead of its id's text. The index by
        // id took each pushed change to a random page (an id starts with random digits): a tenth of a
        // push of new records (performance.md, "The change log indexed by record key"). Keys follow
        // the order records arrive in, so a push of new records appends to this index.
        migrator.registerMigration("v11") { db in try db.execute(sql: v11) }
        // v12: a complete file keeps the SHA-256 of each of its chunks (32 bytes each, in order), as
        // checked when they arrived, so that a download is answered without hashing each chunk again.
        // NULL for a file completed before, or whose upload was interrupted by a restart: those chunks
        // are hashed as they are served.
        migrator.registerMigration("v12") { db in try db.execute(sql: "ALTER TABLE file ADD COLUMN chunk_hashes BLOB") }
        return migrator
    }

    /// Each change carries its record's key, indexed with its sequence number.
    private static let v11 = """
        ALTER TABLE change ADD COLUMN record_key INTEGER;
        UPDATE change SET record_key = (SELECT key FROM record WHERE record.project_id = change.project_id AND record.id = change.record);
        DROP INDEX change_by_record;
        CREATE INDEX change_by_record_key ON change(record_key, seq);
        """

    /// The tables, as the first release made them.
    private static let v1 = """
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
        """

    /// The owner of every node id (the user named as the author of its changes).
    private static let v3 = """
        CREATE TABLE node (
            project_id INTEGER NOT NULL,
            node TEXT NOT NULL,
            author TEXT NOT NULL,
            PRIMARY KEY (project_id, node)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO node (project_id, node, author)
            SELECT project_id, substr(hlc, 19), author FROM change ORDER BY project_id, seq;
        """

    /// Files, custody and quotas.
    private static let v4 = """
        CREATE TABLE file (
            project_id INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            received INTEGER NOT NULL,
            complete INTEGER NOT NULL DEFAULT 0,
            upload TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            completed_at INTEGER,
            PRIMARY KEY (project_id, sha256)
        ) WITHOUT ROWID;
        -- Appended only: no statement of the server updates or deletes a row.
        CREATE TABLE custody (
            project_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            event TEXT NOT NULL,
            author TEXT NOT NULL,
            at INTEGER NOT NULL,
            record TEXT,
            name TEXT,
            size INTEGER,
            replica TEXT,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (project_id, seq),
            UNIQUE (project_id, id)
        );
        CREATE INDEX custody_by_file ON custody(project_id, sha256);
        ALTER TABLE project ADD COLUMN file_quota INTEGER;
        """

    /// Project keys and their wraps.
    private static let v8 = """
        CREATE TABLE project_key (
            project_id INTEGER NOT NULL,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (project_id, id),
            UNIQUE (project_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE key_wrap (
            project_id INTEGER NOT NULL,
            key_id TEXT NOT NULL,
            node TEXT NOT NULL,
            wrapped BLOB NOT NULL,
            granter TEXT NOT NULL,
            signature BLOB NOT NULL,
            granted_at INTEGER NOT NULL,
            PRIMARY KEY (project_id, key_id, node)
        ) WITHOUT ROWID;
        """

    /// Groups, access classes, the files of each record, access events.
    private static let v6 = """
        CREATE TABLE team_group (
            project_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (project_id, name)
        ) WITHOUT ROWID;
        CREATE TABLE group_member (
            project_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            PRIMARY KEY (project_id, name, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_member_by_user ON group_member(user_id, project_id);
        ALTER TABLE record ADD COLUMN access TEXT NOT NULL DEFAULT '';
        CREATE INDEX record_by_access ON record(project_id, access) WHERE access <> '';
        ALTER TABLE change ADD COLUMN access TEXT NOT NULL DEFAULT '';
        CREATE INDEX change_by_access ON change(project_id, access, seq);
        CREATE INDEX change_by_record ON change(project_id, record);
        ALTER TABLE head ADD COLUMN access TEXT NOT NULL DEFAULT '';
        CREATE INDEX head_by_access ON head(project_id, access, hlc);
        CREATE TABLE access_class (
            project_id INTEGER NOT NULL,
            class TEXT NOT NULL,
            PRIMARY KEY (project_id, class)
        ) WITHOUT ROWID;
        CREATE TABLE file_record (
            project_id INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (project_id, sha256, record)
        ) WITHOUT ROWID;
        -- A record's class changed at seq (before NULL: none), or a user joined (after) or left
        -- (before) a group at seq; pulls after an earlier cursor read them. A membership event has a
        -- number of its own and is an entry of the log's hash chain: the nonce drawn for its digest,
        -- the digest and the chain value (hex); a change of class shares the number of the push's last
        -- change, and has none of them.
        CREATE TABLE access_event (
            project_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            record TEXT,
            user_id INTEGER,
            before TEXT,
            after TEXT,
            nonce TEXT,
            digest TEXT,
            chain TEXT
        );
        CREATE INDEX access_event_by_seq ON access_event(project_id, seq);
        """

    /// Records keyed by an integer, heads by that key.
    private static let v2 = """
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
        """

    /// Registered devices, signed batches, and which batch holds each change.
    private static let signatures = """
        CREATE TABLE device (
            project_id INTEGER NOT NULL,
            node TEXT NOT NULL,
            owner TEXT NOT NULL,
            signing_key BLOB NOT NULL,
            registered_at INTEGER NOT NULL,
            revoked_at INTEGER,
            PRIMARY KEY (project_id, node)
        ) WITHOUT ROWID;
        CREATE TABLE batch (
            project_id INTEGER NOT NULL,
            id TEXT NOT NULL,
            node TEXT NOT NULL,
            digests BLOB NOT NULL,
            signature BLOB NOT NULL,
            PRIMARY KEY (project_id, id)
        ) WITHOUT ROWID;
        ALTER TABLE change ADD COLUMN batch TEXT;
        ALTER TABLE project ADD COLUMN unsigned_up_to INTEGER NOT NULL DEFAULT 0;
        UPDATE project SET unsigned_up_to = last_seq;
        """
}
