import Foundation
import GRDB
import Shared

/// Keys of the `setting` table.
enum Setting: String, CaseIterable {
    case server, project, user, role, node, schema
    /// The last HLC this replica issued or received.
    case clock
    /// Server time minus local time, in milliseconds, from the last contact.
    case clockOffset = "clock_offset"
    /// The log cursor: the last server sequence number pulled.
    case cursor
    /// Set while the first sync's snapshot is in progress: the HLC of the last snapshot row stored.
    case snapshotAfter = "snapshot_after"
    /// The log position the snapshot started at.
    case snapshotSince = "snapshot_since"
    /// Set once the snapshot is complete.
    case snapshotDone = "snapshot_done"
    /// When the last sync completed, milliseconds since the epoch.
    case lastSync = "last_sync"
    /// The highest sequence number of this replica's own changes whose acknowledgement it has
    /// recorded (so it holds every own change up to there, and pulls can skip them).
    case ownAccepted = "own_acknowledged"
    /// The path of a private CA certificate to trust: replicas made before `caCertificatePEM`
    /// named their copy of it (which names the server's host, so new replicas keep no such file).
    case caCertificate = "ca_certificate"
    /// "off" when the user chose an unencrypted replica at `init --no-passphrase` (no warning then).
    case encryption
    /// A private CA certificate to trust, as PEM text.
    case caCertificatePEM = "ca_certificate_pem"
    /// The server keys this replica accepts (`ServerKeyPins.stored`): pinned at `init`, changed by
    /// the server's announcements and by `casebook pin`.
    case serverKeys = "server_keys"
    /// Set when the user accepted plain http to a non-loopback server (`init --insecure`).
    case insecure
    /// The user's token (kept inside the database, encrypted with it; old replicas kept it in the file `token`).
    case token
    /// The last position of the project's custody log this replica pulled.
    case custodyCursor = "custody_cursor"
    /// How many custody events this replica has made (their ids are the node id and this counter).
    case custodyCounter = "custody_counter"
    /// This replica's Ed25519 private key (base64): it signs every batch of changes the replica sends.
    case signingKey = "signing_key"
    /// Set once the server registered this replica's public key.
    case deviceRegistered = "device_registered"
    /// The schema version the oldest pending changes were made with, while the replica has pending
    /// changes made with a schema older than its own (`Replica.adoptSchema`).
    case outboxSchemaVersion = "outbox_schema_version"
    /// This replica's X25519 private key (base64): bundles and the project key are wrapped for its public half.
    case agreementKey = "agreement_key"
    /// Set once the server holds this replica's agreement key.
    case agreementRegistered = "agreement_registered"
    /// The project's server agreement key (X25519 public key, base64) from the last device list: bundles are sealed for it too.
    case serverAgreementKey = "server_agreement_key"
    /// Where the project's unsigned changes (from before signatures) end, as the server first said
    /// (trust on first use): no unsigned change after it is ever accepted.
    case unsignedUpTo = "unsigned_up_to"
    /// The log's chain value at the cursor that this replica verified (`LogChain`, hex).
    case chain = "log_chain"
    /// While the snapshot is in progress: the chain value at its `since`, adopted from its first page.
    case snapshotChain = "snapshot_chain"
    /// What the server last said of the project's keys (`Wire.ProjectKeys` without wraps, JSON).
    case projectKeys = "project_keys"

    static func get(_ key: Setting, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key.rawValue])
    }

    static func set(_ key: Setting, _ value: String?, _ db: Database) throws {
        if let value {
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           arguments: [key.rawValue, value])
        } else {
            try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [key.rawValue])
        }
    }
}
