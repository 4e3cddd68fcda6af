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
            // The id names the content (a hash of it): one verified before, with the same content, holds.
            if checked.contains(batch.id) && batch.matchesID(project: project) {
                for digest in batch.digests { signers[digest] = batch.node }
                continue
            }
            guard let device = devices[batch.node] else {
                problems.append("batch \(batch.id) is signed by device \(batch.node), which the server does not list for this project")
                continue
            }
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: device.key), batch.holds(project: project, key: key) else {
                problems.append("the signature of batch \(batch.id) by device \(batch.node) does not hold")
                continue
            }
            checked.insert(batch.id)
            for digest in batch.digests { signers[digest] = batch.node }
        }
        return problems
    }

    /// The signing device of `change`, or why it has none. `digest` is the change's digest when the
    /// caller already has it.
    package func signer(of change: Change, digest: ChangeDigest? = nil) -> Result<NodeID, Unsigned> {
        let digest = digest ?? ChangeDigest(of: change, project: project)
        guard let node = signers[digest] else {
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
