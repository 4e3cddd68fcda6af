import CSodium
import Foundation
import Testing
@testable import Client
@testable import Shared

/// A sealed chunk is libsodium's `xchacha20poly1305_ietf`, whichever library seals it: chunks sealed by
/// libsodium (every encrypted replica's files before casebook sealed with BoringSSL) open, and libsodium
/// opens what is sealed now. The key and the additional data are derived here the way the format says
/// (`FileCipher`), not taken from it, so a change of format fails too.
@Suite struct FileCipherTests {
    static let sha256 = String(repeating: "ab", count: 32)
    static let size: Int64 = 99_000_000

    @Test(arguments: [0, 1, 1_000, Wire.Files.chunkSize])
    func chunksSealedByLibsodiumOpenAndLibsodiumOpensChunksSealedNow(length: Int) throws {
        let dataKey = DataKey.random()
        let cipher = try FileCipher(dataKey: dataKey)
        var contentKey = [UInt8](repeating: 0, count: 32)
        let context = Array("cbfiles1".utf8).map { CChar(bitPattern: $0) }
        _ = crypto_kdf_derive_from_key(&contentKey, 32, 1, context, dataKey.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let plain = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let additional = Self.additionalData(index: 3)

        // Sealed as casebook sealed before: libsodium, the random nonce first, then ciphertext and tag.
        var old = [UInt8](repeating: 0, count: length + FileCipher.overhead)
        old.withUnsafeMutableBufferPointer { sealed in
            let base = sealed.baseAddress!
            randombytes_buf(base, 24)
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(base + 24, nil, plain, UInt64(length), additional, UInt64(additional.count),
                                                           nil, base, contentKey)
        }
        #expect(open(old, with: cipher, index: 3) == plain)
        #expect(open(old, with: cipher, index: 4) == nil)

        // Sealed now, opened by libsodium.
        var new = [UInt8](repeating: 0, count: length + FileCipher.overhead + 100)
        let written = plain.withUnsafeBytes { source in
            new.withUnsafeMutableBytes { cipher.seal(source, into: $0, sha256: Self.sha256, index: 3, size: Self.size) }
        }
        #expect(written == length + FileCipher.overhead)
        var back = [UInt8](repeating: 0, count: length)
        let code = new.withUnsafeBufferPointer { sealed in
            crypto_aead_xchacha20poly1305_ietf_decrypt(&back, nil, nil, sealed.baseAddress! + 24, UInt64(length + 16),
                                                       additional, UInt64(additional.count), sealed.baseAddress!, contentKey)
        }
        #expect(code == 0)
        #expect(back == plain)
        #expect(open(Array(new[..<written]), with: cipher, index: 3) == plain)
        // A flipped bit anywhere (nonce, ciphertext or tag) and it no longer opens.
        for position in [0, 24, written - 1] {
            var damaged = Array(new[..<written])
            damaged[position] ^= 1
            #expect(open(damaged, with: cipher, index: 3) == nil)
        }
    }

    /// The chunk opened by `cipher`, nil when it does not authenticate.
    private func open(_ sealed: [UInt8], with cipher: FileCipher, index: Int64) -> [UInt8]? {
        var plain = [UInt8](repeating: 0, count: sealed.count - FileCipher.overhead)
        let opened = sealed.withUnsafeBytes { stored in
            plain.withUnsafeMutableBytes { cipher.open(stored, into: $0, sha256: Self.sha256, index: index, size: Self.size) }
        }
        return opened ? plain : nil
    }

    /// The format's additional data: its name, the file's SHA-256, the chunk's index and the file's size (little-endian).
    private static func additionalData(index: Int64) -> [UInt8] {
        var data = Array("casebook sealed file 1".utf8) + Hex.decode(sha256)!
        withUnsafeBytes(of: UInt64(index).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(size).littleEndian) { data.append(contentsOf: $0) }
        return data
    }
}
