import Crypto
import Foundation

/// Reads a bundle written by `BundleSealer`: finds the content key wrapped for this device, then
/// gives the records in order, opening each chunk as it is reached. Nothing it gives may be used
/// before `next()` returned nil and `holds(signer:)` said yes: only then is the whole file checked
/// (every chunk authentic and in place, the final one present, nothing after it, the signature good).
/// `BundleStream` therefore reads a bundle twice: once to check it, keeping each sealed chunk's
/// fingerprint, then again with those fingerprints as `expecting`, so that what the second reading
/// gives is, chunk by chunk, what the first one checked.
///
/// Pure: bytes come from `read(n)`, which returns up to `n` bytes, fewer only at the end of the file.
package struct BundleOpener {
    private let read: (Int) throws -> [UInt8]
    private let contentKey: SymmetricKey
    private let preambleHash: [UInt8]
    private var plain: [UInt8] = []
    private var offset = 0
    private var index: UInt64 = 0
    private var sawFinal = false
    private var content = SHA256()
    private var signature: [UInt8]?
    private var message: [UInt8]?
    /// The records' deflate stream (format 2); nil for format 1, whose chunks hold the records as they are.
    private let inflater: Inflater?
    /// Plaintext bytes in every chunk but the final one, as the preamble declares.
    private let chunkSize: Int
    /// Bytes of the records read so far, all but file content (which goes to disk as it comes and
    /// may be mostly empty bytes): what the inflation bound limits.
    private var held = 0
    /// The fingerprints a first reading of the same file took: a chunk that differs is refused
    /// before any of it is used. Nil on a first reading.
    private let expecting: [[UInt8]]?

    /// How many recipients the bundle names.
    package let recipientCount: Int
    /// SHA-256 of the preamble, then of each sealed chunk read so far (with its length), in order:
    /// 32 bytes a megabyte.
    package private(set) var fingerprints: [[UInt8]] = []

    /// Reads the preamble and unwraps the content key with `agreementKey`; refused when the bundle
    /// is not a bundle, of another format, or not addressed to this key.
    package init(agreementKey: Curve25519.KeyAgreement.PrivateKey, expecting: [[UInt8]]? = nil, read: @escaping (Int) throws -> [UInt8]) throws {
        self.read = read
        self.expecting = expecting
        let notABundle = BundleError("this file is not a Casebook bundle (made with 'casebook bundle create'): nothing was applied")
        let magic = try Self.exactly(BundleFormat.magic.count, read, truncated: notABundle)
        guard magic == BundleFormat.magic else { throw notABundle }
        let fixed = magic + (try Self.exactly(1 + 16 + 4 + 2, read, truncated: BundleError.truncated))
        guard fixed[16] == BundleFormat.version || fixed[16] == BundleFormat.uncompressed else {
            throw BundleError("the bundle has format \(fixed[16]), which this version does not read (it reads 1 and \(BundleFormat.version)): update casebook")
        }
        inflater = fixed[16] == BundleFormat.version ? try Inflater() : nil
        let bundleID = Array(fixed[17..<33])
        let chunkSize = BundleFormat.readBigEndian(fixed[33..<37])
        let count = Int(BundleFormat.readBigEndian(fixed[37..<39]))
        guard chunkSize > 0, chunkSize <= BundleFormat.maxChunkSize, count > 0, count <= BundleFormat.maxRecipients else { throw BundleError.damaged }
        let entries = try Self.exactly(count * BundleFormat.recipientSize, read)
        recipientCount = count
        self.chunkSize = Int(chunkSize)
        preambleHash = Array(SHA256.hash(data: fixed + entries))
        // The preamble's hash is the first fingerprint: a second reading with another preamble (another
        // content key the chunks might also open under) is refused before any chunk.
        if let expecting, expecting.first != preambleHash { throw BundleError.changed }
        fingerprints = [preambleHash]
        let binding = BundleFormat.keyBinding(bundleID: bundleID)
        var found: SymmetricKey?
        // Every entry is tried: the file names no device, so which one is this device's shows only here.
        for start in stride(from: 0, to: entries.count, by: BundleFormat.recipientSize) {
            if let opened = DeviceSeal.open(entries[start..<start + BundleFormat.recipientSize], with: agreementKey, binding) {
                found = SymmetricKey(data: opened)
            }
        }
        guard let found else {
            throw BundleError("this bundle is not addressed to this device (it was made for other devices, another project, or before this device was known to its maker): nothing was applied; ask its maker to sync once and make it again")
        }
        contentKey = found
    }

    /// The next record, or nil once the signature record, the last one, has been read.
    package mutating func next() throws -> BundleRecord? {
        guard message == nil else { return nil }
        let head = try take(5)
        guard let kind = BundleRecord.Kind(rawValue: head[0]) else { throw BundleError.damaged }
        let length = Int(BundleFormat.readBigEndian(head[1..<5]))
        guard length <= BundleRecord.maxLength else { throw BundleError.damaged }
        if kind != .fileData, let inflater {
            held += 5 + length
            guard held <= inflater.taken * BundleFormat.maxInflation + BundleFormat.inflationAllowance else {
                throw BundleError("the bundle's records expand to more than \(BundleFormat.maxInflation) times its size (it may have been made to exhaust this computer): "
                                  + "nothing was applied; ask its maker for a new one")
            }
        }
        let payload = try take(length)
        guard kind == .signature else {
            content.update(data: head)
            content.update(data: payload)
            return BundleRecord(kind, payload)
        }
        // The signature closes the final chunk (and the deflate stream), and nothing follows it.
        guard payload.count == 64, offset == plain.count, try atEnd() else { throw BundleError.damaged }
        guard try read(1).isEmpty else {
            throw BundleError("the bundle has data after its end (it was altered): nothing was applied; ask its maker for a new copy")
        }
        signature = payload
        message = BundleFormat.signedMessage(preambleHash: preambleHash, contentHash: Array(content.finalize()))
        return nil
    }

    /// Whether the whole bundle was read and its signature holds under `signer`, the creating device's key.
    package func holds(signer: Curve25519.Signing.PublicKey) -> Bool {
        guard let signature, let message else { return false }
        return signer.isValidSignature(signature, for: message)
    }

    /// `count` bytes of the records, opening chunks as needed.
    private mutating func take(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if offset == plain.count {
                guard try refill() else { throw BundleError.damaged }
                continue
            }
            let end = min(plain.count, offset + count - out.count)
            out += plain[offset..<end]
            offset = end
        }
        return out
    }

    /// The next bytes of the records into `plain`: the next chunk's, or the deflate stream's next
    /// output (at most a megabyte at a time). False at the end of the records.
    private mutating func refill() throws -> Bool {
        guard let inflater else {
            guard !sawFinal else { return false }
            plain = try openChunk()
            offset = 0
            return true
        }
        while true {
            let output = try inflater.inflate(limit: 1 << 20)
            if !output.isEmpty {
                (plain, offset) = (output, 0)
                return true
            }
            guard !inflater.ended, inflater.needsInput, !sawFinal else { return false }
            inflater.feed(try openChunk())
        }
    }

    /// Whether the records end here: the final chunk read and, for format 2, the deflate stream ended
    /// with every byte of it taken in and nothing more to give.
    private mutating func atEnd() throws -> Bool {
        guard inflater != nil else {
            if !sawFinal { plain = try openChunk(); offset = 0 }
            return sawFinal && offset == plain.count
        }
        guard try !refill(), let inflater else { return false }
        return inflater.ended && inflater.needsInput && sawFinal
    }

    private mutating func openChunk() throws -> [UInt8] {
        let lengthBytes = try read(4)
        guard !lengthBytes.isEmpty else { throw BundleError.truncated }
        guard lengthBytes.count == 4 else { throw BundleError.truncated }
        let length = Int(BundleFormat.readBigEndian(lengthBytes))
        guard length >= 16, length <= BundleFormat.maxChunkSize + 16 else { throw BundleError.damaged }
        let sealed = try Self.exactly(length, read, truncated: BundleError.truncated)
        var fingerprint = SHA256()
        fingerprint.update(data: lengthBytes)
        fingerprint.update(data: sealed)
        let taken = Array(fingerprint.finalize())
        if let expecting {
            guard Int(index) + 1 < expecting.count, expecting[Int(index) + 1] == taken else { throw BundleError.changed }
        }
        fingerprints.append(taken)
        let nonce = try BundleFormat.nonce(index)
        let box = try ChaChaPoly.SealedBox(nonce: nonce, ciphertext: sealed.prefix(length - 16), tag: sealed.suffix(16))
        // Final or not is in the additional data: try the ordinary case first.
        let opened: [UInt8]
        if let box = try? ChaChaPoly.open(box, using: contentKey, authenticating: BundleFormat.chunkData(preambleHash: preambleHash, index: index, final: false)) {
            opened = Array(box)
        } else if let box = try? ChaChaPoly.open(box, using: contentKey, authenticating: BundleFormat.chunkData(preambleHash: preambleHash, index: index, final: true)) {
            opened = Array(box)
            sawFinal = true
        } else {
            throw BundleError.damaged
        }
        // Every chunk but the final one is full: a file of tiny chunks is not one a sealer wrote.
        guard opened.count == chunkSize || (sawFinal && opened.count < chunkSize) else { throw BundleError.damaged }
        index += 1
        return opened
    }

    private static func exactly(_ count: Int, _ read: (Int) throws -> [UInt8], truncated: BundleError? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let got = try read(count - out.count)
            if got.isEmpty { throw truncated ?? BundleError("the file is too short to be a Casebook bundle: nothing was applied") }
            out += got
        }
        return out
    }
}
