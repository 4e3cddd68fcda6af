import GRDB
import SQLiteSupport

/// The replica's tables. Migrations are never edited once shipped; add a new one instead.
enum ReplicaMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                -- Every change this replica knows as accepted by the server: history and merge input.
                CREATE TABLE change (
                    hlc TEXT PRIMARY KEY,
                    seq INTEGER,
                    collection TEXT NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    author TEXT NOT NULL,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    received_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX change_by_record ON change(record, hlc);
                CREATE INDEX change_by_base ON change(base) WHERE base IS NOT NULL;
                CREATE TABLE change_parent (parent TEXT NOT NULL, child TEXT NOT NULL, PRIMARY KEY (parent, child)) WITHOUT ROWID;
                -- The confirmed current versions of each field.
                CREATE TABLE head (
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    PRIMARY KEY (record, field, hlc)
                ) WITHOUT ROWID;
                -- Local edits not yet accepted: one per field, coalesced.
                CREATE TABLE outbox (
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    value TEXT NOT NULL,
                    hlc TEXT NOT NULL UNIQUE,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    rejected_code TEXT,
                    rejected_reason TEXT,
                    PRIMARY KEY (record, field)
                ) WITHOUT ROWID;
                -- Derived by refresh(record:): what reads show.
                CREATE TABLE record (
                    id TEXT PRIMARY KEY,
                    collection TEXT NOT NULL,
                    visible INTEGER NOT NULL,
                    pending INTEGER NOT NULL,
                    title TEXT
                ) WITHOUT ROWID;
                CREATE INDEX record_by_collection ON record(collection, visible);
                CREATE TABLE current (
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (record, field)
                ) WITHOUT ROWID;
                CREATE TABLE search_key (
                    collection TEXT NOT NULL,
                    field TEXT NOT NULL,
                    key TEXT NOT NULL,
                    record TEXT NOT NULL,
                    PRIMARY KEY (collection, field, key, record)
                ) WITHOUT ROWID;
                CREATE INDEX search_key_by_record ON search_key(record);
                CREATE TABLE conflict (
                    id TEXT PRIMARY KEY,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    versions TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX conflict_by_record ON conflict(record);
                """)
        }
        // v2: fewer and smaller rows per change, written in order.
        // - A record gets a local integer `key` when it first arrives or is created here: the
        //   tables written per change are keyed by it, so a sync appends to them instead of
        //   inserting at random places (the text form of an id starts with random digits, which
        //   made every insert land on a random page once the replica outgrew SQLite's cache).
        // - A change carries its own `head` flag instead of a row in a separate `head` table.
        //   The outbox too: a push deletes its entries in the order they were made.
        // - Search keys are deleted by value, so they need no index by record.
        // An initial pull writes three B-tree entries per change instead of six.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE record_v2 (
                    key INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    collection TEXT NOT NULL,
                    visible INTEGER NOT NULL,
                    pending INTEGER NOT NULL,
                    title TEXT
                );
                INSERT INTO record_v2 (id, collection, visible, pending, title)
                    SELECT id, collection, visible, pending, title FROM record ORDER BY substr(id, 17), id;  -- creation order
                INSERT OR IGNORE INTO record_v2 (id, collection, visible, pending, title)
                    SELECT record, MIN(collection), 0, 0, NULL FROM change GROUP BY record;
                INSERT OR IGNORE INTO record_v2 (id, collection, visible, pending, title)
                    SELECT record, MIN(collection), 0, 0, NULL FROM outbox GROUP BY record;
                CREATE TABLE outbox_v2 (
                    record_key INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    record TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    value TEXT NOT NULL,
                    hlc TEXT NOT NULL UNIQUE,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    rejected_code TEXT,
                    rejected_reason TEXT,
                    PRIMARY KEY (record_key, field)
                ) WITHOUT ROWID;
                INSERT INTO outbox_v2 (record_key, field, record, collection, value, hlc, base, supersedes, covers, rejected_code, rejected_reason)
                    SELECT record_v2.key, outbox.field, outbox.record, outbox.collection, outbox.value, outbox.hlc, outbox.base,
                           outbox.supersedes, outbox.covers, outbox.rejected_code, outbox.rejected_reason
                    FROM outbox JOIN record_v2 ON record_v2.id = outbox.record;
                CREATE TABLE change_v2 (
                    record_key INTEGER NOT NULL,
                    hlc TEXT NOT NULL,
                    seq INTEGER,
                    collection TEXT NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    author TEXT NOT NULL,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    received_at INTEGER NOT NULL,
                    -- 1: one of the confirmed current versions of its field (more than one: a conflict).
                    head INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (record_key, hlc)
                ) WITHOUT ROWID;
                INSERT INTO change_v2 (record_key, hlc, seq, collection, field, value, author, base, supersedes, covers, received_at, head)
                    SELECT record_v2.key, change.hlc, change.seq, change.collection, change.field, change.value, change.author,
                           change.base, change.supersedes, change.covers, change.received_at,
                           EXISTS (SELECT 1 FROM head WHERE head.record = change.record AND head.field = change.field AND head.hlc = change.hlc)
                    FROM change JOIN record_v2 ON record_v2.id = change.record;
                CREATE TABLE current_v2 (
                    record_key INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (record_key, field)
                ) WITHOUT ROWID;
                INSERT INTO current_v2 (record_key, field, value)
                    SELECT record_v2.key, current.field, current.value FROM current JOIN record_v2 ON record_v2.id = current.record;
                CREATE TABLE search_key_v2 (
                    collection TEXT NOT NULL,
                    field TEXT NOT NULL,
                    key TEXT NOT NULL,
                    record_key INTEGER NOT NULL,
                    PRIMARY KEY (collection, field, key, record_key)
                ) WITHOUT ROWID;
                INSERT INTO search_key_v2 (collection, field, key, record_key)
                    SELECT search_key.collection, search_key.field, search_key.key, record_v2.key
                    FROM search_key JOIN record_v2 ON record_v2.id = search_key.record;
                DROP TABLE change;
                DROP TABLE head;
                DROP TABLE current;
                DROP TABLE search_key;
                DROP TABLE record;
                DROP TABLE outbox;
                ALTER TABLE record_v2 RENAME TO record;
                ALTER TABLE outbox_v2 RENAME TO outbox;
                ALTER TABLE change_v2 RENAME TO change;
                ALTER TABLE current_v2 RENAME TO current;
                ALTER TABLE search_key_v2 RENAME TO search_key;
                CREATE INDEX record_by_collection ON record(collection, visible);
                CREATE INDEX change_by_base ON change(base) WHERE base IS NOT NULL;
                """)
        }
        // v3: evidence files. The content is in the file store (`FileStore`), one stored file per SHA-256;
        // these tables say what the replica holds and what happened to each file.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                -- Files whose whole content this replica holds, checked against their hash when stored.
                CREATE TABLE file (
                    sha256 TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    -- 1 once the server said it holds the whole file: no status request for it again.
                    on_server INTEGER NOT NULL DEFAULT 0,
                    -- When the content came into this replica (attached or fetched), milliseconds since the epoch.
                    stored_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX file_not_on_server ON file(sha256) WHERE NOT on_server;
                -- Each file's custody log: events made here (pending until the server stored them) and
                -- events pulled from the server. Only ever appended to.
                CREATE TABLE custody (
                    id TEXT PRIMARY KEY,
                    sha256 TEXT NOT NULL,
                    event TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    record TEXT,
                    name TEXT,
                    size INTEGER,
                    replica TEXT,
                    seq INTEGER,
                    received_at INTEGER,
                    pending INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX custody_by_file ON custody(sha256, at);
                CREATE INDEX custody_pending ON custody(id) WHERE pending;
                """)
        }
        // Signatures (docs/protocol.md, "Signatures"): the project's devices as last pulled, and
        // every signed batch this replica sent or received, so `verify` checks changes offline.
        migrator.registerMigration("signatures") { db in
            try db.execute(sql: """
                CREATE TABLE device (
                    node TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    signing_key BLOB NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID;
                CREATE TABLE batch (
                    id TEXT PRIMARY KEY,
                    node TEXT NOT NULL,
                    digests BLOB NOT NULL,
                    signature BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Device agreement keys (docs/protocol.md, "Signatures"): each device's X25519 key, kept
        // only when the device's signing key signed it, with that signature.
        migrator.registerMigration("device-agreement-key") { db in
            try db.execute(sql: "ALTER TABLE device ADD COLUMN agreement_key BLOB; ALTER TABLE device ADD COLUMN agreement_signature BLOB")
        }
        // Sensitive fields (docs/security.md, "Sensitive fields"): the project keys this replica holds
        // (inside the encrypted database, like the device keys), and what the server last said of the
        // project's keys (`Setting.projectKeys`).
        migrator.registerMigration("sensitive-keys") { db in
            try db.execute(sql: """
                CREATE TABLE project_key (
                    id TEXT PRIMARY KEY,
                    secret BLOB NOT NULL,
                    state TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Bundles (docs/protocol.md, "Bundles"): changes received in bundles (or published in one this
        // replica made) that the server may not hold yet, relayed at the next sync with the batch that
        // signs them; and every chain value this replica verified, so a bundle's maker and this replica
        // compare what the server showed each of them at the same number.
        migrator.registerMigration("bundles") { db in
            try db.execute(sql: """
                CREATE TABLE relay (
                    hlc TEXT PRIMARY KEY,
                    record TEXT NOT NULL,
                    change TEXT NOT NULL,
                    batch TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE verified_chain (
                    seq INTEGER PRIMARY KEY,
                    chain TEXT NOT NULL
                );
                """)
        }
        // The digests of the signed batches of a bundle being applied (`BundleDigestIndex`), so that
        // applying a bundle of a million changes does not hold a million digests in memory. Empty
        // between applies.
        migrator.registerMigration("bundle-digest-index") { db in
            try BundleDigestIndex.create(db)
        }
        // The outbox without its index by HLC (`OutboxEntry`): a push reads it record by record, and an
        // entry is found by its record and field. The index was a sixth of an import's B-tree entries.
        // Nor does an entry repeat its record's id and collection as text: the record row has them.
        migrator.registerMigration("outbox-by-record") { db in
            try db.execute(sql: """
                CREATE TABLE outbox_by_record (
                    record_key INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    base TEXT,
                    supersedes TEXT,
                    covers TEXT,
                    rejected_code TEXT,
                    rejected_reason TEXT,
                    PRIMARY KEY (record_key, field)
                ) WITHOUT ROWID;
                INSERT INTO outbox_by_record SELECT record_key, field, value, hlc, base, supersedes, covers,
                    rejected_code, rejected_reason FROM outbox;
                DROP TABLE outbox;
                ALTER TABLE outbox_by_record RENAME TO outbox;
                """)
        }
        // Stored evidence files laid out on disk blocks (`FileStore.sealedStride`), written and read past the
        // page cache. Nothing in the database changes; the migration is there so that a casebook from before,
        // which would read every sealed chunk but the first at the old offsets and call each file of more than
        // one chunk damaged, refuses the replica (as it refuses one migrated by any newer version).
        migrator.registerMigration("file-chunks-on-disk-blocks") { _ in }
        return migrator
    }
}
