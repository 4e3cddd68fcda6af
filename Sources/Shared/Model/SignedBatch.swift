import Crypto
import Foundation

/// A device's signature over the digests of a batch of changes it sent: one Ed25519 signature
/// covers up to a push batch of changes, so signing and checking cost one operation per batch.
///
/// The signed message is the domain tag `casebook-batch-v1`, then the project and the signing
/// node, each as a 4-byte big-endian length and its UTF-8 bytes, then the 32-byte digests in
/// order. A batch's id is the first 16 bytes of the message's SHA-256 in hex: the same batch
/// always has the same id, and two different batches never share one.
package struct SignedBatch: Hashable, Sendable {
    /// The batch's id (32 hex digits).
    package var id: String
    /// The device (replica node) that signed it.
    package var node: NodeID
    /// The digests of its changes, in the order they were sent.
    package var digests: [ChangeDigest]
    /// The 64-byte Ed25519 signature over `message(project:)`.
    package var signature: [UInt8]

    /// A batch as read from the wire or a store.
    package init(id: String, node: NodeID, digests: [ChangeDigest], signature: [UInt8]) {
        self.id = id
        self.node = node
        self.digests = digests
        self.signature = signature
    }

    /// Signs `changes` of `project` as device `node` with `key`.
    package init(signing changes: [Change], project: String, node: NodeID, key: Curve25519.Signing.PrivateKey) throws {
        let digests = ChangeDigest.of(changes, project: project)
        let message = SignedBatch.message(project: project, node: node, digests: digests)
        self.init(id: SignedBatch.id(of: message), node: node, digests: digests, signature: Array(try key.signature(for: message)))
    }

    /// The bytes that are signed.
    package static func message(project: String, node: NodeID, digests: [ChangeDigest]) -> [UInt8] {
        var out: [UInt8] = Array("casebook-batch-v1".utf8)
        out.reserveCapacity(64 + 32 * digests.count)
        for text in [project, node.rawValue] { out.appendLengthPrefixed(text) }
        for digest in digests { digest.append(to: &out) }
        return out
    }

    /// Whether the signature holds for `project` under `key`, and the id is the one the content gives.
    package func holds(project: String, key: Curve25519.Signing.PublicKey) -> Bool {
        let message = SignedBatch.message(project: project, node: node, digests: digests)
        return id == SignedBatch.id(of: message) && key.isValidSignature(signature, for: message)
    }

    /// Whether the id is the one the content gives: a batch whose signature held under this id
    /// before holds again (a hash over the digests instead of a signature check).
    package func matchesID(project: String) -> Bool {
        id == SignedBatch.id(of: SignedBatch.message(project: project, node: node, digests: digests))
    }

    /// The digests as one base64 text of their concatenated bytes (the wire and store form).
    package var packedDigests: String {
        Data(ChangeDigest.pack(digests)).base64EncodedString()
    }

    /// Reads `packedDigests`; nil when it is not base64 of a whole number of digests.
    package static func digests(packed text: String) -> [ChangeDigest]? {
        Data(base64Encoded: text).flatMap(ChangeDigest.unpack)
    }

    private static func id(of message: [UInt8]) -> String {
        let hash = Array(SHA256.hash(data: message).prefix(16))
        return hash.map { String(format: "%02x", $0) }.joined()
    }
}
