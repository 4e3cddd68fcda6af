import Foundation
import Shared

/// The signatures of a push, checked: the batches to store and which batch holds each change.
struct PushSignatures: Sendable {
    /// The signed batches that hold the pushed changes.
    var batches: [SignedBatch] = []
    /// The id of the batch that holds each change.
    var batchOf: [HLC: String] = [:]
    /// Each checked change with its digest, so the log's chain need not compute it again.
    var digests: [HLC: (change: Change, digest: ChangeDigest)] = [:]
    /// Changes relayed for another user (received in a bundle), with the author their signature proves.
    var relayedAuthors: [HLC: String] = [:]

    /// Why a push's signatures do not hold: the HTTP status and a sentence that says what to do.
    struct Refusal: Error {
        var revoked: Bool
        var message: String
    }

    init() {}

    /// Checks that every change of `request` is in a batch signed by a registered, unrevoked device
    /// of the user it names as its author. That author is `pusher`, or another member whose change
    /// `pusher` relays (received in a bundle): the change is credited to the signing device's owner,
    /// never to the pusher, and a change names its author only with that author's device's signature.
    init(checking request: Wire.PushRequest, project: String, devices: [Wire.Device], pusher: String) throws {
        var known: [NodeID: SignatureCheck.Device] = [:]
        var revoked: Set<NodeID> = []
        for device in devices {
            guard let node = NodeID(device.node), let key = Data(base64Encoded: device.signingKey) else { continue }
            if device.revokedAt != nil { revoked.insert(node) } else { known[node] = .init(owner: device.owner, key: Array(key)) }
        }
        for batch in request.batches where revoked.contains(batch.node) {
            throw Refusal(revoked: true, message: "device \(batch.node) was revoked by an admin of the project: its changes are refused; run `casebook init` again on a device you trust")
        }
        var check = SignatureCheck(project: project, devices: known)
        let changes = request.changes
        let digestList = ChangeDigest.of(changes, project: project)
        let (problems, holders) = check.locate(digestList, authors: changes.map(\.author), in: request.batches)
        if let problem = problems.first {
            throw Refusal(revoked: false, message: "\(problem): the push is refused; run `casebook sync` again, and tell the project's admin if it persists")
        }
        var kept: [String: SignedBatch] = [:]
        // A timestamp is a change's identity, and the planner finds a relayed author by it: two different
        // changes with one timestamp in one push (the planner refuses the second, `id_reused`) must not
        // let the first pass under the other's author.
        var stamped: [HLC: ChangeDigest] = [:]
        var ambiguous: Set<HLC> = []
        stamped.reserveCapacity(changes.count)
        batchOf.reserveCapacity(changes.count)
        digests.reserveCapacity(changes.count)
        for (index, change) in changes.enumerated() {
            let digest = digestList[index]
            if let other = stamped.updateValue(digest, forKey: change.hlc), other != digest {
                ambiguous.insert(change.hlc)
                relayedAuthors[change.hlc] = nil
            }
            let holder = holders[index].map { request.batches[$0] }
            if case .failure(let unsigned) = check.attribute(change, to: holder?.node) {
                throw Refusal(revoked: false, message: "the change of \(change.record) field \(change.field) (\(change.hlc)) is not signed: \(unsigned.reason); the push is refused")
            }
            // The signer's owner is the change's author (SignatureCheck): a relayed change keeps it.
            if change.author != pusher && !ambiguous.contains(change.hlc) { relayedAuthors[change.hlc] = change.author }
            if let holder {
                batchOf[change.hlc] = holder.id
                if kept[holder.id] == nil { kept[holder.id] = holder }
            }
            digests[change.hlc] = (change, digest)
        }
        batches = kept.keys.sorted().compactMap { kept[$0] }
    }

    /// Why the relayed changes may not be taken from this push: an author (or `maker`, the member
    /// who made a bundle the server loads) who is no longer a member who may push (`pushers`).
    func relayRefusal(pushers: Set<String>, maker: String? = nil) -> Refusal? {
        let authors = Set(relayedAuthors.values).union(maker.map { [$0] } ?? [])
        guard let outsider = authors.sorted().first(where: { !pushers.contains($0) }) else { return nil }
        return Refusal(revoked: true, message: "the push relays changes of \(outsider), who may not push to this project (revoked, removed or a viewer): they are refused")
    }
}

extension SyncStore {
    /// The members of `project` who may push now: researchers and admins whose user is not revoked.
    func pushers(project: String) async throws -> Set<String> {
        let members = try await projectSummaries(name: project).first?.members ?? []
        return Set(members.filter { !$0.revoked && (Role(rawValue: $0.role)?.canPush ?? false) }.map(\.name))
    }
}
