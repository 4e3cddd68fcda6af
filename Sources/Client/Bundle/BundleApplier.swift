import Foundation
import GRDB
import Shared
import SQLiteSupport

/// Applies a bundle's records to the replica as `BundleStream.replay` hands them, inside the
/// caller's write transaction (`Replica.applyBundle`): batches are checked and kept as they come,
/// changes are checked and merged a page at a time, files' content is staged as it comes. Memory
/// holds one page of changes, whatever the bundle's size; the batches' digests wait in the
/// `bundle_digest` table, not in memory. Anything wrong throws, and the transaction takes nothing.
struct BundleApplier: BundleStream.Visitor {
    /// Changes merged at a time.
    static let pageSize = 2_000

    private let db: Database
    private let project: String
    private let schema: Schema
    private let store: FileStore
    private var check: SignatureCheck
    private let revoked: Set<NodeID>
    private let pinned: Int64?
    private let latest = WallClock.millis() + PageCheck.maxAheadOfServerMillis
    private var page: [BundleChange] = []
    private var newest: HLC?
    private var staged: [Staging] = []
    private(set) var result = Replica.BundleApplied()

    init(_ db: Database, project: String, schema: Schema, store: FileStore) throws {
        self.db = db
        self.project = project
        self.schema = schema
        self.store = store
        check = SignatureCheck(project: project, devices: try Replica.knownDevices(db))
        revoked = Set(try String.fetchAll(db, sql: "SELECT node FROM device WHERE revoked_at IS NOT NULL").compactMap(NodeID.init))
        pinned = try Setting.get(.unsignedUpTo, db).flatMap { Int64($0) }
        try BundleDigestIndex.clear(db)
    }

    mutating func batch(_ batch: SignedBatch) throws {
        if let problem = check.check(batch) {
            throw ClientError("the bundle holds a batch whose signature does not hold (\(problem)): nothing was applied")
        }
        try Replica.storeBatches([batch], db)
        try BundleDigestIndex.add(batch, db)
    }

    mutating func change(_ change: BundleChange) throws {
        page.append(change)
        if page.count >= Self.pageSize { try flush() }
    }

    mutating func custody(_ event: Wire.CustodyEvent) throws {
        try CustodyLog.storeReceived([event], db)
    }

    mutating func file(_ file: BundleFile) throws -> (any BundleStream.FileSink)? {
        guard file.size >= 0, file.sha256.count == 64, Hex.decode(file.sha256) != nil else { throw BundleError.damaged }
        guard try FileCatalog.held(file.sha256, db) == nil, !staged.contains(where: { $0.writer.sha256 == file.sha256 }) else { return nil }
        let staging = Staging(try StoreWriter.staging(store: store, sha256: file.sha256, size: file.size))
        staged.append(staging)
        return staging
    }

    /// Merges the last page, moves the clock past the newest change, commits the staged files and
    /// counts the open conflicts.
    mutating func finish() throws -> Replica.BundleApplied {
        try flush()
        var clock = try ReplicaClock.load(db)
        if let newest { clock.receive(newest, now: clock.now) }
        try clock.save(db)
        for staging in staged {
            try store.commit(staged: staging.writer.url, as: staging.writer.sha256)
            // Not known to be on the server: the next sync asks, and uploads it if the server lacks it.
            try FileCatalog.recordHeld(staging.writer.sha256, size: staging.writer.size, onServer: false, db)
            result.files += 1
        }
        result.conflicts = try ReplicaQuery.conflictCount(db)
        try BundleDigestIndex.clear(db)
        return result
    }

    /// Removes the staged files (the bundle was refused, or its files were committed).
    func discardFiles() {
        for staging in staged { staging.writer.discard() }
    }

    /// Checks and merges the changes waiting, as a pulled page is merged.
    private mutating func flush() throws {
        guard !page.isEmpty else { return }
        let held = try db.cachedStatement(sql: "SELECT 1 FROM change WHERE record_key = (SELECT key FROM record WHERE id = ?) AND hlc = ?")
        var logged: [Wire.LoggedChange] = []
        var relay: [(change: Change, batch: String)] = []
        for carried in page {
            try validate(carried.change)
            guard let batch = try signer(of: carried) else { continue }
            if carried.relay, try Bool.fetchOne(held, arguments: [carried.change.record, carried.change.hlc.text]) != true {
                relay.append((carried.change, batch))
            }
            logged.append(Wire.LoggedChange(seq: 0, change: carried.change, receivedAt: carried.receivedAt))
            newest = max(newest ?? carried.change.hlc, carried.change.hlc)
        }
        page.removeAll(keepingCapacity: true)
        result.applied += try Replica.applyAccepted(logged, schema: schema, db)
        try Replica.queueRelay(relay, db)
        result.relayed += relay.count
    }

    /// The id of the batch that signs `carried`, or nil when it is left out (and counted): unsigned
    /// from before signatures (numbered up to the pinned end of that history), or signed by a device
    /// an admin revoked since and not on the server (the server refuses it; if it is there after
    /// all, the next sync brings it). Any other unsigned change refuses the whole bundle.
    private mutating func signer(of carried: BundleChange) throws -> String? {
        let change = carried.change
        let digest = ChangeDigest(of: change, project: project)
        let found = try BundleDigestIndex.signer(of: digest, db)
        if let found, let owner = check.devices[found.node]?.owner, owner == change.author {
            guard carried.relay, revoked.contains(found.node) else { return found.batch }
            result.revoked += 1
            return nil
        }
        if !carried.relay, let seq = carried.seq, let pinned, seq <= pinned {
            result.skipped += 1
            return nil
        }
        let reason = found.map { "it names \(change.author) as its author but was signed by device \($0.node) of \(check.devices[$0.node]?.owner ?? "nobody")" }
            ?? "no signed batch holds it: it was altered after it was signed, or never signed"
        throw ClientError("the bundle holds a change of \(change.collection) record \(change.record), field \(change.field) that is not signed: \(reason); nothing was applied")
    }

    /// The checks of a pulled page (`PageCheck.problem`), with this computer's clock for the server's.
    private func validate(_ change: Change) throws {
        guard let problem = PageCheck.problem(with: change, schema: schema, latest: latest, clock: "this computer's clock") else { return }
        throw ClientError("the bundle holds a change this replica's schema refuses or cannot take: it \(problem). Nothing was applied; if the project's schema changed since this replica's last sync, sync once and apply the bundle again")
    }

    /// Stages one file's content as the bundle is read.
    private final class Staging: BundleStream.FileSink {
        let writer: StoreWriter
        init(_ writer: StoreWriter) { self.writer = writer }
        func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writer.append($0) } }
        func finish() throws {
            guard writer.isComplete, try writer.finish() == writer.sha256 else {
                throw BundleError("the content of attached file \(writer.sha256.prefix(12)) in the bundle does not match its hash: nothing was applied")
            }
        }
    }
}
