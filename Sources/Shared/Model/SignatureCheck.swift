import Crypto
import Foundation

/// Checks changes against the signed batches that carry them: the one rule the server (on push),
/// a replica (on pull and snapshot) and `casebook verify` all apply.
///
/// A change is signed when the digest of its canonical encoding is in a batch whose signature
/// holds under the registered key of the batch's device, and that device belongs to the user the
/// change names as its author. A batch's signature is checked once and remembered by its id, so a
/// batch that spans pages is verified once; only the digests of the batches last added are kept,
/// so the memory it takes is that of one page's batches, not of the whole history pulled.
package struct SignatureCheck: Sendable {
    /// A registered device as the checker needs it.
    package struct Device: Sendable {
        /// The user the device belongs to.
        package var owner: String
        /// Its Ed25519 public key, 32 bytes (the key type itself is not `Sendable`).
        package var key: [UInt8]
        /// Creates a device entry.
        package init(owner: String, key: [UInt8]) {
            self.owner = owner
            self.key = key
        }
    }

    /// The project the digests are of.
    package let project: String
    /// The registered devices by node.
    package var devices: [NodeID: Device]
    /// The signing node of every digest of a batch that held.
    private var signers: [ChangeDigest: NodeID] = [:]
    private var checked: Set<String> = []

    /// A checker for `project` with the devices it knows.
    package init(project: String, devices: [NodeID: Device]) {
        self.project = project
        self.devices = devices
    }

    /// Takes the batches of one answer (a page, or everything `verify` holds): checks those not
    /// seen before and returns a sentence for each one that does not hold (its changes then count
    /// as unsigned). `signer(of:)` then looks in these batches only.
    package mutating func add(_ batches: [SignedBatch]) -> [String] {
        var problems: [String] = []
        signers = [:]
        for batch in batches {
            if let problem = check(batch) {
                problems.append(problem)
                continue
            }
            for digest in batch.digests { signers[digest] = batch.node }
        }
        return problems
    }

    /// Checks `batches` as `add` does and finds which of them holds each of `digests` (the changes of
    /// one push), indexing only those: a push of 1,000 changes often carries a batch of 5,000 signed
    /// for the whole sync, and a table of every digest the batches hold would cost five times the
    /// push's own. Returns the problems (as `add`) and, per digest, the index in `batches` of a batch
    /// whose signature holds and that holds it: when several do, one of a device of `authors[i]` (the
    /// author the change names), so that another member's batch that also lists the digest cannot
    /// take its place. `signers` is left as it was.
    package mutating func locate(_ digests: [ChangeDigest], authors: [String], in batches: [SignedBatch]) -> (problems: [String], holders: [Int?]) {
        var wanted: [ChangeDigest: Int] = [:]
        wanted.reserveCapacity(digests.count)
        for (index, digest) in digests.enumerated() where wanted[digest] == nil { wanted[digest] = index }
        var holders = [Int?](repeating: nil, count: digests.count)
        var problems: [String] = []
        for (position, batch) in batches.enumerated() {
            if let problem = check(batch) {
                problems.append(problem)
                continue
            }
            let owner = devices[batch.node]?.owner
            for digest in batch.digests {
                guard let index = wanted[digest] else { continue }
                if let current = holders[index], devices[batches[current].node]?.owner == authors[index] || owner != authors[index] { continue }
                holders[index] = position
            }
        }
        // A digest pushed twice (the same change twice) is held by the first one's batch.
        for (index, digest) in digests.enumerated() where holders[index] == nil {
            if let first = wanted[digest] { holders[index] = holders[first] }
        }
        return (problems, holders)
    }

    /// Why `batch` does not hold, or nil when it does (remembered by id).
    package mutating func check(_ batch: SignedBatch) -> String? {
        // The id names the content (a hash of it): one verified before, with the same content, holds.
        if checked.contains(batch.id) && batch.matchesID(project: project) { return nil }
        guard let device = devices[batch.node] else {
            return "batch \(batch.id) is signed by device \(batch.node), which the server does not list for this project"
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: device.key), batch.holds(project: project, key: key) else {
            return "the signature of batch \(batch.id) by device \(batch.node) does not hold"
        }
        checked.insert(batch.id)
        return nil
    }

    /// The signing device of `change`, or why it has none. `digest` is the change's digest when the
    /// caller already has it.
    package func signer(of change: Change, digest: ChangeDigest? = nil) -> Result<NodeID, Unsigned> {
        attribute(change, to: signers[digest ?? ChangeDigest(of: change, project: project)])
    }

    /// `change` as signed by the device `node` of a batch that holds it (nil: none does): the
    /// device's owner must be the author the change names.
    package func attribute(_ change: Change, to node: NodeID?) -> Result<NodeID, Unsigned> {
        guard let node else {
            return .failure(Unsigned(reason: "no signed batch holds it: it was altered after it was signed, or never signed"))
        }
        guard let owner = devices[node]?.owner, owner == change.author else {
            return .failure(Unsigned(reason: "it names \(change.author) as its author but was signed by device \(node) of \(devices[node]?.owner ?? "nobody")"))
        }
        return .success(node)
    }

    /// Why a change does not count as signed.
    package struct Unsigned: Error, Sendable {
        /// A sentence for people.
        package var reason: String
    }
}
