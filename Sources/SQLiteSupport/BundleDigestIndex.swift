import Foundation
import GRDB
import Shared

/// Which signed batch holds each change digest of a bundle being applied, in a table instead of in
/// memory: a bundle of a million changes carries a million digests, and its reader's memory stays
/// flat. The replica keeps the table in its own (encrypted) database and empties it around every
/// apply; the server keeps it in a scratch database for the length of one load.
package enum BundleDigestIndex {
    /// The table (created by the replica's migrations, or by `create` in a scratch database).
    package static let tableSQL = """
        CREATE TABLE IF NOT EXISTS bundle_digest (
            digest BLOB PRIMARY KEY,
            batch TEXT NOT NULL,
            node TEXT NOT NULL
        ) WITHOUT ROWID
        """

    /// Creates the table if it is missing.
    package static func create(_ db: Database) throws {
        try db.execute(sql: tableSQL)
    }

    /// Forgets every digest.
    package static func clear(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM bundle_digest")
    }

    /// Adds the digests of `batch`, whose signature the caller checked.
    package static func add(_ batch: SignedBatch, _ db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO bundle_digest (digest, batch, node) VALUES (?, ?, ?)")
        for digest in batch.digests {
            try insert.execute(arguments: [Data(digest.bytes), batch.id, batch.node.rawValue])
        }
    }

    /// The batch that holds `digest` and its signing device, or nil when no batch added holds it.
    package static func signer(of digest: ChangeDigest, _ db: Database) throws -> (batch: String, node: NodeID)? {
        let find = try db.cachedStatement(sql: "SELECT batch, node FROM bundle_digest WHERE digest = ?")
        guard let row = try Row.fetchOne(find, arguments: [Data(digest.bytes)]), let node = NodeID(row[1] as String) else { return nil }
        return (row[0], node)
    }
}
