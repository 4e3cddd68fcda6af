import Crypto
import Foundation

/// Writes a bundle: the preamble with the content key wrapped for each recipient, then the records,
/// compressed as one deflate stream and sealed chunk by chunk as they come, then the creating
/// device's signature (the stream's last record). Memory holds one chunk and zlib's window.
///
/// Pure: randomness comes from `random`, bytes go to `write`; the caller opens and renames the file.
package struct BundleSealer {
    private let contentKey: SymmetricKey
    private let preambleHash: [UInt8]
    private let write: ([UInt8]) throws -> Void
    private var pending: [UInt8] = []
    private var index: UInt64 = 0
    private var content = SHA256()
    private var finished = false
    private let deflater: Deflater

    /// Starts a bundle for `recipients` (their X25519 public keys) and writes its preamble.
    package init(recipients: [Curve25519.KeyAgreement.PublicKey], random: (Int) -> [UInt8],
                 write: @escaping ([UInt8]) throws -> Void) throws {
        guard !recipients.isEmpty, recipients.count <= BundleFormat.maxRecipients else {
            throw BundleError("a bundle needs between 1 and \(BundleFormat.maxRecipients) recipients, not \(recipients.count)")
        }
        let keyBytes = random(32)
        contentKey = SymmetricKey(data: keyBytes)
        let bundleID = random(16)
        var preamble = BundleFormat.magic + [BundleFormat.version] + bundleID
        preamble += BundleFormat.bigEndian32(UInt32(BundleFormat.chunkSize))
        preamble += [UInt8(recipients.count >> 8), UInt8(recipients.count & 0xff)]
        let binding = BundleFormat.keyBinding(bundleID: bundleID)
        for recipient in recipients {
            let ephemeral = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random(32))
            preamble += try DeviceSeal.seal(keyBytes, for: recipient, binding, ephemeral: ephemeral, nonce: try ChaChaPoly.Nonce(data: random(12)))
        }
        preambleHash = Array(SHA256.hash(data: preamble))
        deflater = try Deflater()
        self.write = write
        try write(preamble)
    }

    /// Appends a record.
    package mutating func append(_ record: BundleRecord) throws {
        precondition(!finished && record.kind != .signature, "append after finish, or a signature by hand")
        guard record.payload.count <= BundleRecord.maxLength else {
            throw BundleError("a record of \(record.payload.count) bytes is larger than a bundle holds (\(BundleRecord.maxLength))")
        }
        let framed = record.framed
        content.update(data: framed)
        pending += try deflater.compress(framed)
        while pending.count > BundleFormat.chunkSize {
            try seal(Array(pending.prefix(BundleFormat.chunkSize)), final: false)
            pending.removeFirst(BundleFormat.chunkSize)
        }
    }

    /// Signs everything written with the creating device's key and seals the final chunk.
    package mutating func finish(signingKey: Curve25519.Signing.PrivateKey) throws {
        let message = BundleFormat.signedMessage(preambleHash: preambleHash, contentHash: Array(content.finalize()))
        pending += try deflater.compress(BundleRecord(.signature, Array(try signingKey.signature(for: message))).framed, finish: true)
        while pending.count > BundleFormat.chunkSize {
            try seal(Array(pending.prefix(BundleFormat.chunkSize)), final: false)
            pending.removeFirst(BundleFormat.chunkSize)
        }
        try seal(pending, final: true)
        pending = []
        finished = true
    }

    private mutating func seal(_ plaintext: [UInt8], final: Bool) throws {
        let box = try ChaChaPoly.seal(plaintext, using: contentKey, nonce: try BundleFormat.nonce(index),
                                      authenticating: BundleFormat.chunkData(preambleHash: preambleHash, index: index, final: final))
        let sealed = Array(box.ciphertext) + Array(box.tag)
        try write(BundleFormat.bigEndian32(UInt32(sealed.count)) + sealed)
        index += 1
    }
}
