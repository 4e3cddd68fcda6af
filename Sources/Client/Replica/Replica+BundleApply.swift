import Foundation
import GRDB
import Shared

/// What `casebook bundle apply` does to the replica once the bundle is read and its maker checked:
/// the project, the history both replicas verified, and every change's signature are checked, then
/// everything is applied in one transaction, through the same merge as a pulled page.
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
    }

    /// The project's devices as the replica last fetched them, revoked ones included.
    func bundleDevices() throws -> [NodeID: BundleContents.Device] {
        try read { db in
            var devices: [NodeID: BundleContents.Device] = [:]
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
    /// verified too (the server forked history), or when a change no valid batch signs is in it.
    /// This replica's pending edits are published first (`publishPending`), as a sync pushes before it
    /// pulls: both sides' edits of one field are then versions the merge sees, and their conflict shows.
    func applyBundle(_ bundle: ReceivedBundle, settings: ReplicaSettings, signer: BatchSigner) throws -> BundleApplied {
        guard bundle.header.project == settings.project else {
            throw ClientError("the bundle is of project \(bundle.header.project), this replica of \(settings.project): nothing was applied")
        }
        let store = files
        return try write { db in
            try Replica.checkFork(bundle.header, db)
            var result = BundleApplied()
            let (changes, skipped) = try Replica.signedChanges(bundle, project: settings.project, db)
            result.skipped = skipped
            _ = try Replica.publishPending(signer: signer, author: settings.user, schema: settings.schema, db)
            let held = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = (SELECT key FROM record WHERE id = ?) AND hlc = ?")
            var relay: [(change: Change, batch: String)] = []
            for (carried, batch) in changes where carried.relay {
                if try Bool.fetchOne(held, arguments: [carried.change.record, carried.change.hlc.text]) != true { relay.append((carried.change, batch)) }
            }
            try Replica.storeBatches(bundle.contents.batches, db)
            let logged = changes.map { Wire.LoggedChange(seq: 0, change: $0.change.change, receivedAt: $0.change.receivedAt) }
            result.applied = try Replica.applyAccepted(logged, schema: settings.schema, db)
            try Replica.queueRelay(relay, db)
            result.relayed = relay.count
            try CustodyLog.storeReceived(bundle.contents.custody, db)
            var clock = try ReplicaClock.load(db)
            if let newest = logged.lazy.map(\.change.hlc).max() { clock.receive(newest, now: clock.now) }
            try clock.save(db)
            for file in bundle.files where try FileCatalog.held(file.sha256, db) == nil {
                try store.commit(staged: file.staged.url, as: file.sha256)
                // Not known to be on the server: the next sync asks, and uploads it if the server lacks it.
                try FileCatalog.recordHeld(file.sha256, size: file.size, onServer: false, db)
                result.files += 1
            }
            result.conflicts = try ReplicaQuery.conflictCount(db)
            return result
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

    /// The bundle's changes with the id of the batch that signs each; unsigned ones from before
    /// signatures (numbered up to the pinned end of that history) are left out and counted; any
    /// other unsigned change refuses the whole bundle.
    private static func signedChanges(_ bundle: ReceivedBundle, project: String,
                                      _ db: Database) throws -> (changes: [(change: BundleChange, batch: String)], skipped: Int) {
        var check = SignatureCheck(project: project, devices: try knownDevices(db))
        if let problem = check.add(bundle.contents.batches).first {
            throw ClientError("the bundle holds a batch whose signature does not hold (\(problem)): nothing was applied")
        }
        var batchOf: [ChangeDigest: String] = [:]
        for batch in bundle.contents.batches { for digest in batch.digests { batchOf[digest] = batch.id } }
        let pinned = try Setting.get(.unsignedUpTo, db).flatMap { Int64($0) }
        var changes: [(change: BundleChange, batch: String)] = []
        var skipped = 0
        for carried in bundle.contents.changes {
            let digest = ChangeDigest(of: carried.change, project: project)
            switch check.signer(of: carried.change, digest: digest) {
            case .success:
                changes.append((carried, batchOf[digest] ?? ""))
            case .failure(let unsigned):
                if !carried.relay, let seq = carried.seq, let pinned, seq <= pinned {
                    skipped += 1
                    continue
                }
                let change = carried.change
                throw ClientError("the bundle holds a change of \(change.collection) record \(change.record), field \(change.field) that is not signed: \(unsigned.reason); nothing was applied")
            }
        }
        return (changes, skipped)
    }
}
