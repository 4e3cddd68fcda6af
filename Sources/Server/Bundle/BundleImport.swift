import Crypto
import Foundation
import Shared

/// Loads a bundle straight into a project's log (`casebook-server bundle apply`): opened with the
/// project's server agreement key, its maker checked against the project's devices, then its
/// changes pushed through the same checks and merge as any push, each credited to the owner of the
/// device that signed it. Changes the log holds already are duplicates; attached files' content and
/// custody events are left to the replicas that hold them (their next sync uploads them).
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

    /// Reads `read`'s bundle whole and loads it; nothing is loaded unless the whole bundle checks out.
    func load(_ read: @escaping (Int) throws -> [UInt8], now: UInt64) async throws -> Result {
        let key = try await ServerAgreementKey.of(project: project, store: store, now: now)
        let devices = try await store.devices(project: project)
        var known: [NodeID: BundleContents.Device] = [:]
        for device in devices {
            if let node = NodeID(device.node), let signing = Data(base64Encoded: device.signingKey) {
                known[node] = .init(owner: device.owner, key: Array(signing), revoked: device.revokedAt != nil)
            }
        }
        var opener = try BundleOpener(agreementKey: key, read: read)
        let contents = try BundleContents.read(&opener, devices: known) { _ in nil }
        guard contents.header.project == project else {
            throw BundleError("the bundle is of project \(contents.header.project), not \(project): nothing was loaded")
        }
        return try await push(contents, devices: devices, now: now)
    }

    /// Pushes the signed changes in batches, each with the signed batches that hold it.
    private func push(_ contents: BundleContents, devices: [Wire.Device], now: UInt64) async throws -> Result {
        var result = Result()
        var batchOf: [ChangeDigest: SignedBatch] = [:]
        for batch in contents.batches { for digest in batch.digests { batchOf[digest] = batch } }
        var signed: [(change: Change, batch: SignedBatch)] = []
        for carried in contents.changes {
            guard let batch = batchOf[ChangeDigest(of: carried.change, project: project)] else {
                // An unsigned change the log already numbered (from before signatures): the log holds it.
                guard !carried.relay, carried.seq != nil else {
                    throw BundleError("the bundle holds a change of \(carried.change.collection) record \(carried.change.record), field \(carried.change.field) that no batch signs: it was altered; nothing was loaded")
                }
                result.skipped += 1
                continue
            }
            signed.append((carried.change, batch))
        }
        let policy = PushPolicy(now: now, maxDriftMillis: ServerSettings().maxDriftMillis)
        let pushers = try await store.pushers(project: project)
        for start in stride(from: 0, to: signed.count, by: batchSize) {
            let part = signed[start..<min(signed.count, start + batchSize)]
            var seen = Set<String>()
            let request = Wire.PushRequest(changes: part.map(\.change), batches: part.map(\.batch).filter { seen.insert($0.id).inserted })
            let signatures: PushSignatures
            do {
                signatures = try PushSignatures(checking: request, project: project, devices: devices, pusher: contents.header.author)
                if let refusal = signatures.relayRefusal(pushers: pushers, maker: contents.header.author) { throw refusal }
            } catch let refusal as PushSignatures.Refusal {
                throw BundleError("\(refusal.message): nothing more was loaded")
            }
            let results = try await store.push(project: project, changes: request.changes, author: contents.header.author, reader: .everything,
                                               policy: policy, signatures: signatures)
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
}
