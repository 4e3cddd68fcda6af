import Foundation
import GRDB
import Shared

/// What `casebook bundle apply` does to the replica once the bundle was read once and its maker
/// checked (`BundleFileReader.check`): the project and the history both replicas verified are
/// checked, then the bundle is read again and applied as it comes (`BundleApplier`), in one
/// transaction, through the same merge as a pulled page.
extension Replica {
    /// What applying a bundle did.
    struct BundleApplied: Sendable, Equatable {
        /// Changes new to this replica.
        var applied = 0
        /// Open conflicts after it.
        var conflicts = 0
        /// Changes queued for relaying at the next sync.
        var relayed = 0
        /// Attached files' content new to this replica.
        var files = 0
        /// Changes left out: unsigned ones from before signatures, which the server gives at the next sync.
        var skipped = 0
        /// Changes left out: signed by a device an admin revoked since, and not on the server (it refuses them).
        var revoked = 0
    }

    /// The project's devices as the replica last fetched them, revoked ones included.
    func bundleDevices() throws -> [NodeID: BundleStream.Device] {
        try read { db in
            var devices: [NodeID: BundleStream.Device] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT node, owner, signing_key, revoked_at FROM device") {
                if let node = NodeID(row[0] as String) {
                    devices[node] = .init(owner: row[1], key: Array(row[2] as Data), revoked: (row[3] as Int64?) != nil)
                }
            }
            return devices
        }
    }

    /// Applies a checked bundle: all or nothing. Refused (nothing applied) when it is of another
    /// project, when its maker verified another value of the log's chain at a number this replica
    /// verified too (the server forked history), when a change no valid batch signs is in it, or when
    /// the file read now is not the one checked. This replica's pending edits are published first
    /// (`publishPending`), as a sync pushes before it pulls: both sides' edits of one field are then
    /// versions the merge sees, and their conflict shows.
    func applyBundle(_ checked: BundleStream.Checked, from reader: BundleFileReader, settings: ReplicaSettings,
                     signer: BatchSigner) throws -> BundleApplied {
        guard checked.header.project == settings.project else {
            throw ClientError("the bundle is of project \(checked.header.project), this replica of \(settings.project): nothing was applied")
        }
        let store = files
        return try write { db in
            try Replica.checkFork(checked.header, db)
            _ = try Replica.publishPending(signer: signer, author: settings.user, schema: settings.schema, db)
            var applier = try BundleApplier(db, project: settings.project, schema: settings.schema, store: store)
            do {
                try reader.replay(checked, into: &applier)
                let result = try applier.finish()
                applier.discardFiles()
                return result
            } catch {
                applier.discardFiles()
                throw error
            }
        }
    }

    /// Refuses the bundle when its maker verified a different chain value at a number this replica verified.
    private static func checkFork(_ header: BundleHeader, _ db: Database) throws {
        let own = try db.cachedStatement(sql: "SELECT chain FROM verified_chain WHERE seq = ?")
        for theirs in header.verified {
            guard let mine = try String.fetchOne(own, arguments: [theirs.seq]), mine != theirs.chain else { continue }
            throw ClientError("the server showed this replica and the bundle's maker (device \(header.creator) of \(header.author)) different histories: at log position \(theirs.seq) their chains differ, so the server's history was forked or rewritten; nothing was applied. Tell the project's admin, and keep both replicas and the bundle as evidence")
        }
    }
}
