import CCryptoBoringSSL
import CSodium
import Foundation
import Shared

/// How an encrypted replica seals attached files: two keys derived from the replica's data key, one
/// that seals the content chunk by chunk (XChaCha20-Poly1305), one that names the stored files (keyed
/// BLAKE2b of the SHA-256), so that nothing under the replica folder shows a file's bytes or its hash.
///
/// A sealed file is the file's chunks (`Wire.Files.chunkSize` bytes, the last one shorter), each stored
/// as `nonce (24) | ciphertext | tag (16)` at `index * FileStore.sealedStride` (zeros fill the rest of
/// each stride, so that every chunk starts on a disk block; see `FileStore`). The additional data of chunk `i`
/// binds it to its place: the format, the file's SHA-256, `i` and the file's size. So a chunk cannot be
/// altered, moved to another index or another file, and a file cannot be cut short, without the
/// authentication failing; and chunk `i` is read (for an upload that resumes there) without the rest.
///
/// The chunks are sealed and opened by BoringSSL's XChaCha20-Poly1305 (the copy swift-crypto builds,
/// with its vector code), which is the construction libsodium calls `xchacha20poly1305_ietf`, so files
/// sealed by either open with the other; here it ran about three times as fast as libsodium's (0.22
/// against 0.69 s a GiB; docs/performance.md, "Sealing with BoringSSL"). Keys and names stay libsodium's.
final class FileCipher: @unchecked Sendable {
    static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    /// What sealing adds to every chunk.
    static let overhead = nonceBytes + tagBytes
    /// The length of a full chunk sealed.
    static let sealedChunkSize = Wire.Files.chunkSize + overhead

    private static let keyBytes = 32
    /// libsodium's key derivation context: 8 bytes naming what the subkeys are for.
    private static let context = Array("cbfiles1".utf8).map { CChar(bitPattern: $0) }
    private static let format = Array("casebook sealed file 1".utf8)

    /// Both keys in one allocation from libsodium's guarded memory (locked, zeroed when freed).
    private let keys: UnsafeMutablePointer<UInt8>
    private var contentKey: UnsafeMutablePointer<UInt8> { keys }
    private var nameKey: UnsafeMutablePointer<UInt8> { keys + Self.keyBytes }
    /// The AEAD set up with the content key (which it holds a copy of), in guarded memory too. BoringSSL
    /// allows seals and opens on one context from several threads at once.
    private let aead: UnsafeMutablePointer<EVP_AEAD_CTX>

    /// Derives the file keys from the replica's data key.
    init(dataKey: DataKey) throws {
        // A multiple of 16 bytes: guarded memory is only aligned for sizes that are.
        let contextBytes = (MemoryLayout<EVP_AEAD_CTX>.size + 15) / 16 * 16
        guard sodium_init() >= 0, let memory = sodium_malloc(2 * Self.keyBytes) else {
            throw ClientError("cannot set up the replica's file encryption (libsodium failed): reinstall casebook")
        }
        guard let context = sodium_malloc(contextBytes) else {
            sodium_free(memory)
            throw ClientError("cannot set up the replica's file encryption (libsodium failed): reinstall casebook")
        }
        keys = memory.assumingMemoryBound(to: UInt8.self)
        aead = context.bindMemory(to: EVP_AEAD_CTX.self, capacity: 1)
        CCryptoBoringSSL_EVP_AEAD_CTX_zero(aead)
        let master = dataKey.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        _ = crypto_kdf_derive_from_key(contentKey, Self.keyBytes, 1, Self.context, master)
        _ = crypto_kdf_derive_from_key(nameKey, Self.keyBytes, 2, Self.context, master)
        guard CCryptoBoringSSL_EVP_AEAD_CTX_init(aead, CCryptoBoringSSL_EVP_aead_xchacha20_poly1305(), contentKey, Self.keyBytes,
                                                 Self.tagBytes, nil) == 1 else {
            sodium_free(context)
            sodium_free(memory)
            throw ClientError("cannot set up the replica's file encryption (BoringSSL refused the key): reinstall casebook")
        }
    }

    deinit {
        CCryptoBoringSSL_EVP_AEAD_CTX_cleanup(aead)
        sodium_free(aead)
        sodium_free(keys)
    }

    /// The stored name of the file whose SHA-256 is `sha256`: 64 hex digits that only this key can link to the hash.
    func storedName(_ sha256: String) -> String {
        let input = Hex.decode(sha256) ?? []
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&out, out.count, input, UInt64(input.count), nameKey, Self.keyBytes)
        return Hex.encode(Array(out))
    }

    /// Seals chunk `index` of file `sha256` (`size` bytes in all) into the start of `sealed` (at least
    /// `plain.count + overhead` bytes); returns the sealed chunk's length.
    func seal(_ plain: UnsafeRawBufferPointer, into sealed: UnsafeMutableRawBufferPointer, sha256: String, index: Int64, size: Int64) -> Int {
        precondition(sealed.count >= plain.count + Self.overhead, "a sealed chunk's buffer must hold the chunk and its nonce and tag")
        let additional = Self.additionalData(sha256: sha256, index: index, size: size)
        let base = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        randombytes_buf(base, Self.nonceBytes)
        var written = 0
        let sealedOK = CCryptoBoringSSL_EVP_AEAD_CTX_seal(
            aead, base + Self.nonceBytes, &written, sealed.count - Self.nonceBytes, base, Self.nonceBytes,
            plain.baseAddress?.assumingMemoryBound(to: UInt8.self), plain.count, additional, additional.count)
        // Fails only for lengths far beyond a chunk's, which the precondition above rules out.
        precondition(sealedOK == 1 && written == plain.count + Self.tagBytes, "BoringSSL could not seal a chunk")
        return plain.count + Self.overhead
    }

    /// Opens a sealed chunk into `plain`, which must be exactly `sealed.count - overhead` bytes (its
    /// bytes are overwritten; undefined when this answers false). False when the chunk does not
    /// authenticate: changed, moved, cut short, or sealed under another key.
    func open(_ sealed: UnsafeRawBufferPointer, into plain: UnsafeMutableRawBufferPointer, sha256: String, index: Int64, size: Int64) -> Bool {
        guard sealed.count >= Self.overhead, plain.count == sealed.count - Self.overhead,
              let base = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let additional = Self.additionalData(sha256: sha256, index: index, size: size)
        var opened = 0
        let code = CCryptoBoringSSL_EVP_AEAD_CTX_open(
            aead, plain.baseAddress?.assumingMemoryBound(to: UInt8.self), &opened, plain.count, base, Self.nonceBytes,
            base + Self.nonceBytes, sealed.count - Self.nonceBytes, additional, additional.count)
        guard code == 1, opened == plain.count else {
            CCryptoBoringSSL_ERR_clear_error()  // the refusal's entry in this thread's error queue
            return false
        }
        return true
    }

    private static func additionalData(sha256: String, index: Int64, size: Int64) -> [UInt8] {
        var data = format + (Hex.decode(sha256) ?? [])
        withUnsafeBytes(of: UInt64(index).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(size).littleEndian) { data.append(contentsOf: $0) }
        return data
    }
}
