import Crypto
import Foundation
import GRDB
import Shared
import SQLiteSupport

/// Loads a bundle straight into a project's log (`casebook-server bundle apply`): read once to check
/// it whole (every chunk, its maker against the project's devices, `BundleStream.check`), read again
/// into a scratch database (its batches, which batch signs each change, and the changes: memory stays
/// flat whatever its size), then its changes pushed from there through the same checks and merge as
/// any push, each credited to the owner of the device that signed it. Changes the log holds already
/// are duplicates; attached files' content and custody events are left to the replicas that hold
/// them (their next sync uploads them).
struct BundleImport {
    let store: any SyncStore
    let project: String
    var batchSize = 1_000

    /// What loading did.
    struct Result: Sendable, Encodable {
        /// Changes new to the log.
        var applied = 0
        /// Changes it held already.
        var duplicates = 0
        /// Changes the checks refused, each with its reason.
        var rejected = 0
        /// Open conflicts the new changes are part of.
        var conflicts = 0
        /// Unsigned changes from before signatures, left out (the log holds them).
        var skipped = 0
    }

    /// Reads the bundle at `path` (twice) and loads it; nothing is loaded unless the whole bundle
    /// checks out and every change in it is signed.
    func load(file path: String, now: UInt64) async throws -> Result {
        let key = try await ServerAgreementKey.of(project: project, store: store, now: now)
        let devices = try await store.devices(project: project)
        var known: [NodeID: BundleStream.Device] = [:]
        for device in devices {
            if let node = NodeID(device.node), let signing = Data(base64Encoded: device.signingKey) {
                known[node] = .init(owner: device.owner, key: Array(signing), revoked: device.revokedAt != nil)
            }
        }
        let checked = try Self.reading(path) { read in
            var opener = try BundleOpener(agreementKey: key, read: read)
            return try BundleStream.check(&opener, devices: known)
        }
        guard checked.header.project == project else {
            throw BundleError("the bundle is of project \(checked.header.project), not \(project): nothing was loaded")
        }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let project = project
        let skipped = try Self.reading(path) { read in
            var opener = try BundleOpener(agreementKey: key, expecting: checked.chunks, read: read)
            return try scratch.queue.write { db in
                var visitor = ScratchVisitor(db: db, project: project)
                try BundleStream.replay(&opener, into: &visitor)
                return visitor.skipped
            }
        }
        var result = try await push(from: scratch, maker: checked.header.author, devices: devices, now: now)
        result.skipped = skipped
        return result
    }

    /// Runs `body` with a reader of the file at `path`.
    private static func reading<T>(_ path: String, _ body: (@escaping (Int) throws -> [UInt8]) throws -> T) throws -> T {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandError("cannot read \(path): check the path and its permissions")
        }
        defer { try? handle.close() }
        return try body { count in Array(try handle.read(upToCount: count) ?? Data()) }
    }

    /// Pushes the signed changes in parts of `batchSize`, each with the signed batches that hold it.
    /// Every part's signatures and authors are checked before the first is stored: a bundle with one
    /// change the server must refuse (a device revoked since, an author who may no longer push)
    /// loads nothing, wherever in the bundle that change is.
    private func push(from scratch: Scratch, maker: String, devices: [Wire.Device], now: UInt64) async throws -> Result {
        let pushers = try await store.pushers(project: project)
        let check = { (request: Wire.PushRequest) throws -> PushSignatures in
            do {
                let signatures = try PushSignatures(checking: request, project: self.project, devices: devices, pusher: maker)
                if let refusal = signatures.relayRefusal(pushers: pushers, maker: maker) { throw refusal }
                return signatures
            } catch let refusal as PushSignatures.Refusal {
                throw BundleError("\(refusal.message): nothing was loaded")
            }
        }
        try await scratch.forEachPart(of: batchSize) { request in _ = try check(request) }
        var result = Result()
        let policy = PushPolicy(now: now, maxDriftMillis: ServerSettings().maxDriftMillis)
        try await scratch.forEachPart(of: batchSize) { request in
            let results = try await store.push(project: project, changes: request.changes, author: maker, reader: .everything,
                                               policy: policy, signatures: try check(request))
            for answer in results {
                switch answer.status {
                case .applied: result.applied += 1
                case .conflict:
                    result.applied += 1
                    result.conflicts += 1
                case .duplicate: result.duplicates += 1
                case .rejected: result.rejected += 1
                }
            }
        }
        return result
    }

    /// A scratch database in a folder of its own (mode 0700, made by `mkdtemp`) in the system's
    /// temporary folder, removed after the load: a bundle's batches, the index of their digests, and
    /// its signed changes (their plaintext: nobody else on the machine may read them) in order, with
    /// the batch that signs each.
    private struct Scratch {
        let queue: DatabaseQueue
        let folder: String

        init() throws {
            var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("casebook-bundle-XXXXXX").path.utf8CString)
            guard let made = mkdtemp(&template) else {
                throw CommandError("cannot make a scratch folder in \(FileManager.default.temporaryDirectory.path) (\(String(cString: strerror(errno)))): check it exists and has space; nothing was loaded")
            }
            folder = String(cString: made)
            do {
                var configuration = Configuration()
                configuration.prepareDatabase { db in
                    try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
                }
                queue = try DatabaseQueue(path: folder + "/scratch.sqlite", configuration: configuration)
                try queue.write { db in
                    try BundleDigestIndex.create(db)
                    try db.execute(sql: """
                        CREATE TABLE bundle_batch (id TEXT PRIMARY KEY, node TEXT NOT NULL, digests BLOB NOT NULL, signature BLOB NOT NULL) WITHOUT ROWID;
                        CREATE TABLE bundle_change (position INTEGER PRIMARY KEY, change TEXT NOT NULL, batch TEXT NOT NULL);
                        """)
                }
            } catch {
                try? FileManager.default.removeItem(atPath: folder)
                throw error
            }
        }

        func remove() {
            try? queue.close()
            try? FileManager.default.removeItem(atPath: folder)
        }

        /// Hands `body` the changes in parts of `size`, in order, each as a push with the batches that sign it.
        func forEachPart(of size: Int, _ body: (Wire.PushRequest) async throws -> Void) async throws {
            var after: Int64 = 0
            while true {
                let (request, last) = try await part(after: after, limit: size)
                guard let last else { return }
                after = last
                try await body(request)
            }
        }

        /// The changes after `after` (at most `limit`) as a push with the batches that sign them, and the last position read.
        private func part(after: Int64, limit: Int) async throws -> (Wire.PushRequest, Int64?) {
            try await queue.read { db in
                let decoder = JSONDecoder()
                let rows = try Row.fetchAll(db, sql: "SELECT position, change, batch FROM bundle_change WHERE position > ? ORDER BY position LIMIT ?",
                                            arguments: [after, limit])
                let changes = try rows.map { try decoder.decode(Change.self, from: Data(($0[1] as String).utf8)) }
                var batches: [SignedBatch] = []
                for id in Set(rows.map { $0[2] as String }).sorted() {
                    guard let row = try Row.fetchOne(db, sql: "SELECT node, digests, signature FROM bundle_batch WHERE id = ?", arguments: [id]),
                          let node = NodeID(row[0] as String), let digests = ChangeDigest.unpack(row[1] as Data) else { continue }
                    batches.append(SignedBatch(id: id, node: node, digests: digests, signature: Array(row[2] as Data)))
                }
                return (Wire.PushRequest(changes: changes, batches: batches), rows.last?[0])
            }
        }
    }

    /// Writes the replayed bundle into the scratch database; refuses a change no batch signs, except
    /// unsigned ones the log numbered before signatures (it holds them), which it counts.
    private struct ScratchVisitor: BundleStream.Visitor {
        let db: Database
        let project: String
        var skipped = 0
        private let encoder = JSONEncoder()

        init(db: Database, project: String) {
            self.db = db
            self.project = project
        }

        mutating func batch(_ batch: SignedBatch) throws {
            try db.execute(sql: "INSERT OR IGNORE INTO bundle_batch (id, node, digests, signature) VALUES (?, ?, ?, ?)",
                           arguments: [batch.id, batch.node.rawValue, Data(ChangeDigest.pack(batch.digests)), Data(batch.signature)])
            try BundleDigestIndex.add(batch, db)
        }

        mutating func change(_ carried: BundleChange) throws {
            guard let signer = try BundleDigestIndex.signer(of: ChangeDigest(of: carried.change, project: project), db) else {
                guard !carried.relay, carried.seq != nil else {
                    throw BundleError("the bundle holds a change of \(carried.change.collection) record \(carried.change.record), field \(carried.change.field) that no batch signs: it was altered; nothing was loaded")
                }
                skipped += 1
                return
            }
            try db.execute(sql: "INSERT INTO bundle_change (change, batch) VALUES (?, ?)",
                           arguments: [String(decoding: try encoder.encode(carried.change), as: UTF8.self), signer.batch])
        }

        mutating func custody(_ event: Wire.CustodyEvent) throws {}

        mutating func file(_ file: BundleFile) throws -> (any BundleStream.FileSink)? { nil }
    }
}
