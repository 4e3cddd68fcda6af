import Crypto
import Foundation
import Testing
@testable import Shared

/// The bundle file format, as someone holding the file meets it: only the recipients read it, and
/// any change to its bytes (a flipped byte, a cut, chunks swapped or spliced, a new signature) is
/// refused before anything in it may be used.
@Suite struct BundleFormatTests {
    let recipient = Curve25519.KeyAgreement.PrivateKey()
    let other = Curve25519.KeyAgreement.PrivateKey()
    let maker = Curve25519.Signing.PrivateKey()

    /// A bundle for `recipient` (and `other`) holding `records`, and its bytes.
    func bundle(_ records: [BundleRecord], signer: Curve25519.Signing.PrivateKey? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        var sealer = try BundleSealer(recipients: [other.publicKey, recipient.publicKey], random: { count in
            (0..<count).map { _ in UInt8.random(in: 0...255) }
        }, write: { out += $0 })
        for record in records { try sealer.append(record) }
        try sealer.finish(signingKey: signer ?? maker)
        return out
    }

    /// Opens `bytes` as `key`, reads every record and checks the signature under the maker's key.
    func open(_ bytes: [UInt8], as key: Curve25519.KeyAgreement.PrivateKey? = nil) throws -> [BundleRecord] {
        var position = 0
        var opener = try BundleOpener(agreementKey: key ?? recipient) { count in
            let end = min(bytes.count, position + count)
            defer { position = end }
            return Array(bytes[position..<end])
        }
        var records: [BundleRecord] = []
        while let record = try opener.next() { records.append(record) }
        guard opener.holds(signer: maker.publicKey) else { throw BundleError("signature") }
        return records
    }

    let sample: [BundleRecord] = [
        BundleRecord(.header, Array(#"{"project":"almaty-field-notes"}"#.utf8)),
        BundleRecord(.change, Array("witness statement: Aigerim".utf8)),
        // Several chunks' worth of bytes that do not compress (as recordings and photos do not), so
        // that chunks can be swapped and dropped.
        BundleRecord(.fileData, (0..<(BundleFormat.chunkSize * 2 + 100)).map { _ in UInt8.random(in: 0...255) }),
    ]

    @Test func recordsAreCompressedBeforeTheyAreSealed() throws {
        // 2,000 changes as a replica writes them: JSON that repeats its keys and much of its values.
        let changes = (0..<2_000).map { index in
            BundleRecord(.change, Array(#"{"change":{"collection":"incidents","record":"01j9zq\#(index)","field":"title","value":"t:Detained at the checkpoint \#(index)","hlc":"01a22f0cd45a-\#(index)-0492b62a952426a5"},"author":"ana","relay":false}"#.utf8))
        }
        let records = [BundleRecord(.header, Array("{}".utf8))] + changes
        let bytes = try bundle(records)
        let plain = records.reduce(0) { $0 + $1.framed.count }
        #expect(bytes.count * 4 < plain, "\(bytes.count) bytes for \(plain) bytes of records")
        #expect(try open(bytes) == records)
    }

    /// A reader opening `bytes` with the fingerprints of a first reading as `expecting`.
    func reread(_ bytes: [UInt8], expecting: [[UInt8]]) throws -> [BundleRecord] {
        var position = 0
        var opener = try BundleOpener(agreementKey: recipient, expecting: expecting) { count in
            let end = min(bytes.count, position + count)
            defer { position = end }
            return Array(bytes[position..<end])
        }
        var records: [BundleRecord] = []
        while let record = try opener.next() { records.append(record) }
        return records
    }

    @Test func aFileSwappedBetweenTheCheckAndTheReplayIsRefusedBeforeAnyOfItIsUsed() throws {
        // Two bundles sealed with the same randomness share their preamble and content key, so each
        // opens on its own, as a recipient who knows the key could make one. A reader that checked
        // the first and reads the second for applying is refused at its first chunk.
        let randomness = (0..<8_192).map { _ in UInt8.random(in: 0...255) }
        func sealed(_ records: [BundleRecord]) throws -> [UInt8] {
            var used = 0, out: [UInt8] = []
            var sealer = try BundleSealer(recipients: [recipient.publicKey], random: { count in
                defer { used += count }
                return Array(randomness[used..<used + count])
            }, write: { out += $0 })
            for record in records { try sealer.append(record) }
            try sealer.finish(signingKey: maker)
            return out
        }
        let checked = [BundleRecord(.header, Array("{}".utf8)), BundleRecord(.change, Array("Arrest of three lawyers".utf8))]
        let swapped = [BundleRecord(.header, Array("{}".utf8)), BundleRecord(.change, Array("Arrest of nobody".utf8))]
        let first = try sealed(checked), second = try sealed(swapped)
        let preamble = BundleFormat.magic.count + 1 + 16 + 4 + 2 + BundleFormat.recipientSize
        #expect(first.prefix(preamble) == second.prefix(preamble))
        #expect(try open(second) == swapped)

        var position = 0
        var opener = try BundleOpener(agreementKey: recipient) { count in
            let end = min(first.count, position + count)
            defer { position = end }
            return Array(first[position..<end])
        }
        while try opener.next() != nil {}
        #expect(opener.holds(signer: maker.publicKey))
        #expect(try reread(first, expecting: opener.fingerprints) == checked)
        #expect { try reread(second, expecting: opener.fingerprints) } throws: { error in (error as? BundleError) == BundleError.changed }
        // The preamble is the first fingerprint: another preamble (another content key the same chunks
        // might open under) is refused before any chunk is read.
        var otherPreamble = opener.fingerprints
        otherPreamble[0][0] ^= 1
        #expect { try reread(first, expecting: otherPreamble) } throws: { error in (error as? BundleError) == BundleError.changed }
    }

    @Test func aBundleThatExpandsFarBeyondItsSizeIsRefusedButAnEmptyFileIsNot() throws {
        // Records of 64 MiB of zeros: deflate makes each about 64 KB. As records a reader holds until
        // the signature is checked, the second is refused before it is read.
        let zeros = [UInt8](repeating: 0, count: BundleRecord.maxLength)
        let bomb = try bundle([BundleRecord(.header, Array("{}".utf8)), BundleRecord(.change, zeros), BundleRecord(.change, zeros)])
        #expect(bomb.count < 1_000_000)
        #expect { try open(bomb) } throws: { error in "\(error)".contains("expand to more than") }
        // As the content of an attached file (a disk image, a silent recording), they go to disk as they come: read.
        let file = [BundleRecord(.header, Array("{}".utf8)), BundleRecord(.fileData, zeros), BundleRecord(.fileData, zeros)]
        #expect(try open(bundle(file)).count == 3)
    }

    /// A bundle sealed by hand as one final chunk, signed by the maker over `records`: its chunk holds
    /// `encode` of the records and the signature record (format 2 deflates them; format 1 did not).
    /// With `pieces`, the chunk holds that many bytes each (the last one the rest, final).
    func handSealed(format: UInt8, _ records: [BundleRecord], pieces: Int? = nil, encode: ([UInt8]) throws -> [UInt8]) throws -> [UInt8] {
        let key = SymmetricKey(size: .bits256), bundleID = [UInt8](repeating: 7, count: 16)
        var preamble = BundleFormat.magic + [format] + bundleID + BundleFormat.bigEndian32(UInt32(BundleFormat.chunkSize)) + [0, 1]
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        // Spelled out from docs/protocol.md, not through `DeviceSeal`: the format as written down.
        let wrapping = try ephemeral.sharedSecretFromKeyAgreement(with: recipient.publicKey).hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: bundleID,
            sharedInfo: Array("casebook-bundle-v1 key".utf8) + Array(ephemeral.publicKey.rawRepresentation) + Array(recipient.publicKey.rawRepresentation),
            outputByteCount: 32)
        preamble += Array(ephemeral.publicKey.rawRepresentation) + Array(try ChaChaPoly.seal(key.withUnsafeBytes { Array($0) }, using: wrapping).combined)
        let hash = Array(SHA256.hash(data: preamble))
        let content = records.flatMap(\.framed)
        let signature = try maker.signature(for: BundleFormat.signedMessage(preambleHash: hash, contentHash: Array(SHA256.hash(data: content))))
        let plain = try encode(content + BundleRecord(.signature, Array(signature)).framed)
        let size = pieces ?? max(plain.count, 1)
        let parts = stride(from: 0, to: max(plain.count, 1), by: size).map { Array(plain[$0..<min(plain.count, $0 + size)]) }
        var bytes = preamble
        for (index, part) in parts.enumerated() {
            let box = try ChaChaPoly.seal(part, using: key, nonce: try BundleFormat.nonce(UInt64(index)),
                                          authenticating: BundleFormat.chunkData(preambleHash: hash, index: UInt64(index), final: index == parts.count - 1))
            bytes += BundleFormat.bigEndian32(UInt32(box.ciphertext.count + 16)) + Array(box.ciphertext) + Array(box.tag)
        }
        return bytes
    }

    @Test func aBundleOfTheFirstFormatIsStillRead() throws {
        let records = [BundleRecord(.header, Array("{}".utf8)), BundleRecord(.change, Array("witness statement".utf8))]
        #expect(try open(handSealed(format: BundleFormat.uncompressed, records) { $0 }) == records)
    }

    @Test func aDeflateStreamThatEndsEarlyOrIsFollowedByOtherBytesIsRefused() throws {
        let records = [BundleRecord(.header, Array("{}".utf8)), BundleRecord(.change, Array("witness statement".utf8))]
        #expect(try open(handSealed(format: BundleFormat.version, records) { try Deflater().compress($0, finish: true) }) == records)
        // Bytes after the stream's end, inside the final chunk the maker signed.
        #expect(throws: BundleError.self) {
            try open(handSealed(format: BundleFormat.version, records) { try Deflater().compress($0, finish: true) + [1, 2, 3] })
        }
        // A stream without its final block: everything is there, but not its end.
        #expect(throws: BundleError.self) {
            try open(handSealed(format: BundleFormat.version, records) { try Deflater().compressUnfinished($0) })
        }
        // A stream that goes on after the signature record with another record.
        #expect(throws: BundleError.self) {
            try open(handSealed(format: BundleFormat.version, records) { try Deflater().compress($0 + BundleRecord(.change, Array("more".utf8)).framed, finish: true) })
        }
        // Chunks of a few bytes each, which no sealer writes (each would cost the reader a pass).
        #expect(throws: BundleError.self) {
            try open(handSealed(format: BundleFormat.version, records, pieces: 10) { try Deflater().compress($0, finish: true) })
        }
    }

    @Test func everyRecipientReadsTheRecordsInOrder() throws {
        let bytes = try bundle(sample)
        #expect(try open(bytes) == sample)
        #expect(try open(bytes, as: other) == sample)
    }

    @Test func theBytesHoldNoPlaintext() throws {
        let bytes = try bundle(sample)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("Aigerim"))
        #expect(!text.contains("almaty-field-notes"))
        // Nor the records' deflate stream, which would hide the words from a grep but not from zlib.
        let compressed = try Deflater().compressUnfinished(sample.prefix(2).flatMap(\.framed))
        #expect(compressed.count > 16)
        #expect(bytes.firstRange(of: compressed.prefix(16)) == nil)
    }

    @Test func aDeviceThatIsNotARecipientCannotOpenIt() throws {
        let bytes = try bundle(sample)
        #expect(throws: BundleError.self) { try open(bytes, as: Curve25519.KeyAgreement.PrivateKey()) }
    }

    @Test func aFlippedByteAnywhereIsRefused() throws {
        let bytes = try bundle([BundleRecord(.header, Array("h".utf8)), BundleRecord(.change, Array("c".utf8))])
        // Every byte of a small bundle: preamble, recipients, lengths, ciphertext, tags.
        for position in 0..<bytes.count {
            var altered = bytes
            altered[position] ^= 0x01
            #expect(throws: (any Error).self, "byte \(position)") { try open(altered) }
        }
    }

    @Test func aCutAnywhereIsRefused() throws {
        let bytes = try bundle(sample)
        for length in [0, 10, 40, 200, bytes.count / 2, BundleFormat.chunkSize + 300, bytes.count - 1] {
            #expect(throws: (any Error).self, "cut at \(length)") { try open(Array(bytes.prefix(length))) }
        }
    }

    @Test func swappedDroppedOrSplicedChunksAreRefused() throws {
        let bytes = try bundle(sample)
        let chunks = try self.chunks(of: bytes)
        #expect(chunks.count >= 3)
        let preamble = Array(bytes.prefix(chunks[0].lowerBound))
        func join(_ parts: [Range<Int>]) -> [UInt8] { preamble + parts.flatMap { bytes[$0] } }
        #expect(try open(join(chunks)) == sample)
        #expect(throws: BundleError.self) { try open(join([chunks[1], chunks[0]] + chunks.dropFirst(2))) }
        #expect(throws: BundleError.self) { try open(join(Array(chunks.dropLast()))) }
        #expect(throws: BundleError.self) { try open(join([chunks[0]] + chunks.dropFirst(2))) }
        #expect(throws: BundleError.self) { try open(join(chunks + [chunks.last!])) }
        // A chunk of another bundle for the same recipients, at the same place.
        let second = try bundle(sample)
        let secondChunks = try self.chunks(of: second)
        #expect(throws: BundleError.self) { try open(preamble + bytes[chunks[0]] + second[secondChunks[1]] + chunks.dropFirst(2).flatMap { bytes[$0] }) }
    }

    @Test func aBundleSignedByAnotherKeyDoesNotHold() throws {
        let bytes = try bundle(sample, signer: Curve25519.Signing.PrivateKey())
        #expect(throws: BundleError.self) { try open(bytes) }
    }

    @Test func notABundleIsSaidSo() throws {
        #expect(throws: BundleError.self) { try open(Array("id,title\n1,Protest\n".utf8)) }
        #expect(throws: BundleError.self) { try open([]) }
    }

    /// The byte ranges of the sealed chunks (length prefix included).
    func chunks(of bytes: [UInt8]) throws -> [Range<Int>] {
        let count = Int(bytes[37]) << 8 | Int(bytes[38])
        var position = 39 + count * BundleFormat.recipientSize
        var ranges: [Range<Int>] = []
        while position < bytes.count {
            let length = Int(BundleFormat.readBigEndian(bytes[position..<position + 4]))
            ranges.append(position..<position + 4 + length)
            position += 4 + length
        }
        return ranges
    }
}
