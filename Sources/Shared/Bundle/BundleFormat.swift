import Crypto
import Foundation

/// The byte layout of a bundle file (docs/protocol.md, "Bundles"): what the sealer writes and the
/// opener reads, in one place.
///
/// ```
/// preamble: "CASEBOOK-BUNDLE\n" (16) · format 2 (1) · bundle id (16 random) · chunk size (4, BE)
///           · recipient count n (2, BE) · n × (ephemeral X25519 public key (32) · wrapped content key (60))
/// chunks:   sealed length (4, BE) · ChaChaPoly ciphertext and tag of up to `chunk size` bytes
/// ```
/// The chunks' plaintext, end to end, is one raw deflate stream (RFC 1951) of the records; format 1
/// (read, no longer written) held the records uncompressed.
/// Chunk `i` is sealed under the content key with nonce `i` (the key is used for this bundle only)
/// and additional data `casebook-bundle-v1` ‖ SHA-256(preamble) ‖ `i` (8, BE) ‖ final (1): a chunk
/// moved, dropped, cut, taken from another bundle or followed by another after the final one
/// does not open.
package enum BundleFormat {
    /// The file's first bytes.
    package static let magic = Array("CASEBOOK-BUNDLE\n".utf8)
    /// The format this version writes: records compressed.
    package static let version: UInt8 = 2
    /// The format of the first bundles: records uncompressed (still read).
    package static let uncompressed: UInt8 = 1
    /// How many times the compressed bytes read a bundle's records other than file content may take,
    /// plus `inflationAllowance`: records of changes compress 5 to 10 times; more is a file made to
    /// keep its reader inflating (a reader holds one record at a time, so this bounds work, not
    /// memory). File content is not counted: it goes to disk as it comes, and an attached file may
    /// be mostly empty bytes.
    package static let maxInflation = 100
    package static let inflationAllowance = 64 << 20
    /// Plaintext bytes per chunk.
    package static let chunkSize = 1 << 20
    /// The most plaintext a chunk may hold when read (a file claiming more is refused before allocating).
    package static let maxChunkSize = 16 << 20
    /// Bytes of one recipient entry: an X25519 public key and a sealed 32-byte key (nonce, ciphertext, tag).
    package static let recipientSize = DeviceSeal.size
    /// The most recipients a bundle may name.
    package static let maxRecipients = 4096
    /// The domain tag of everything a bundle derives, seals or signs.
    static let domain = Array("casebook-bundle-v1".utf8)

    /// How the content key is sealed for each recipient (`DeviceSeal`): HKDF-SHA256 of the X25519 shared
    /// secret, salted with the bundle id and bound to both public keys; no additional data.
    static func keyBinding(bundleID: [UInt8]) -> DeviceSeal.Binding {
        DeviceSeal.Binding { ephemeral, recipient in (bundleID, domain + Array(" key".utf8) + ephemeral + recipient) }
    }

    /// The nonce of chunk `index`: its number, big-endian, in the last 8 of 12 bytes.
    static func nonce(_ index: UInt64) throws -> ChaChaPoly.Nonce {
        try ChaChaPoly.Nonce(data: [0, 0, 0, 0] + bigEndian(index))
    }

    /// The additional data of chunk `index`.
    static func chunkData(preambleHash: [UInt8], index: UInt64, final: Bool) -> [UInt8] {
        domain + preambleHash + bigEndian(index) + [final ? 1 : 0]
    }

    /// What the creating device signs: the preamble's hash and the hash of every plaintext byte before the signature record.
    static func signedMessage(preambleHash: [UInt8], contentHash: [UInt8]) -> [UInt8] {
        domain + Array(" signature".utf8) + preambleHash + contentHash
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) }
    }

    static func bigEndian32(_ value: UInt32) -> [UInt8] {
        stride(from: 24, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt32($0)) }
    }

    static func readBigEndian(_ bytes: some Collection<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Why a bundle cannot be opened: a sentence that says what was found and what to do.
package struct BundleError: Error, Sendable, Equatable {
    /// A sentence for people.
    package var message: String
    /// Creates an error.
    package init(_ message: String) { self.message = message }

    /// A chunk that does not authenticate, or records that do not add up.
    package static let damaged = BundleError("the bundle is damaged or was altered (a chunk does not authenticate): nothing was applied; ask its maker for a new copy")
    /// The file ends before its final chunk.
    package static let truncated = BundleError("the bundle ends early (it was cut short in copying, or altered): nothing was applied; ask its maker for a new copy")
    /// The file read for applying is not the one that was checked.
    package static let changed = BundleError("the bundle file changed while it was being applied (something wrote to it): nothing was applied; copy it again and apply the copy")
}
