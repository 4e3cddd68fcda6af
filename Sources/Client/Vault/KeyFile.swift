import CSodium
import Foundation

/// The file `key` in an encrypted replica's folder: the data key, wrapped under a key derived from the
/// passphrase, and what is needed to unwrap it (JSON).
///
/// - `replica`: a random id (hex) naming this replica, e.g. for the key agent's socket.
/// - `kdf`: Argon2id's cost and salt (`KDFParameters`).
/// - `nonce`, `wrappedKey`: the data key sealed with XChaCha20-Poly1305 under the derived key; the
///   additional data binds the format, the replica id and the KDF parameters, so none can be changed.
/// - `check`: a keyed BLAKE2b of a constant under the data key, so a key handed over by the agent is
///   verified without the passphrase (and without helping anyone guess it).
///
/// Changing the passphrase rewraps the same data key: the database is not rewritten.
struct KeyFile: Codable, Equatable, Sendable {
    static let fileName = "key"
    static let currentFormat = 1

    /// The passphrase given does not open the key file. Nothing was changed.
    struct WrongPassphrase: Error, CustomStringConvertible {
        var description: String { "wrong passphrase: it does not open this replica's key; nothing was changed" }
    }

    var format: Int
    var replicaID: String
    var kdf: KDFParameters
    var nonce: Data
    var wrappedKey: Data
    var check: Data

    private enum CodingKeys: String, CodingKey {
        case format, replicaID = "replica", kdf, nonce, wrappedKey = "wrapped_key", check
    }

    /// Writes the key file of a new encrypted replica in `home` with a new random data key wrapped under
    /// `passphrase`. Refuses a folder holding an encrypted replica; replaces a key file left without its
    /// database by an interrupted `init` or `encrypt` (it protects nothing).
    static func create(home: URL, passphrase: some PassphraseBytes) throws -> (KeyFile, DataKey) {
        let url = home.appendingPathComponent(fileName)
        guard !FileManager.default.fileExists(atPath: home.appendingPathComponent(Replica.encryptedDatabaseName).path) else {
            throw ClientError("\(home.path) already holds an encrypted replica: use another --home, or remove that folder to start over")
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try DurableFile.shred(url, random: true)
        var id = [UInt8](repeating: 0, count: 16)
        randombytes_buf(&id, id.count)
        let key = DataKey.random()
        let file = try wrap(key, replicaID: id.map { String(format: "%02x", $0) }.joined(), passphrase: passphrase)
        try DurableFile.replace(url, with: try file.encoded())
        return (file, key)
    }

    /// The key file of the encrypted replica in `home`; nil when the folder holds no encrypted replica
    /// (no key file, or one without its database: left by an interrupted `init` or `encrypt`). Removes a
    /// `key.new` left by an interrupted passphrase change: the old passphrase is then still the one.
    static func read(home: URL) throws -> KeyFile? {
        let url = home.appendingPathComponent(fileName)
        DurableFile.removeAbandoned(stagingOf: url)
        guard FileManager.default.fileExists(atPath: home.appendingPathComponent(Replica.encryptedDatabaseName).path) else { return nil }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ClientError("the key file \(url.path) is missing: the encrypted replica beside it cannot be opened without it",
                              exitCode: ClientError.lockedExitCode)
        }
        guard let file = try? JSONDecoder().decode(KeyFile.self, from: data), file.isUsable else {
            throw ClientError("the key file \(url.path) is damaged or from a newer casebook: the replica cannot be opened with this version")
        }
        return file
    }

    /// The data key, if `passphrase` is the replica's; otherwise `WrongPassphrase`.
    func unwrap(_ passphrase: some PassphraseBytes) throws -> DataKey {
        let wrapping = try kdf.derive(passphrase: passphrase)
        var plain = [UInt8](repeating: 0, count: DataKey.byteCount)
        defer { plain.withUnsafeMutableBytes { DataKey.zero($0) } }
        let additional = Array(additionalData.utf8)
        let code = wrappedKey.withUnsafeBytes { sealed in
            nonce.withUnsafeBytes { nonce in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    &plain, nil, nil, sealed.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(sealed.count),
                    additional, UInt64(additional.count), nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    wrapping.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard code == 0, let key = plain.withUnsafeBytes({ DataKey(copying: $0) }), verify(key) else { throw WrongPassphrase() }
        return key
    }

    /// Whether `key` is this replica's data key.
    func verify(_ key: DataKey) -> Bool {
        let expected = Self.checkValue(of: key)
        return expected.count == check.count && expected.withUnsafeBytes { expected in
            check.withUnsafeBytes { check in sodium_memcmp(expected.baseAddress!, check.baseAddress!, expected.count) == 0 }
        }
    }

    /// Wraps `key` (the replica's: checked first) under `newPassphrase` with a new salt, and replaces the
    /// key file so that a crash at any point leaves either the old or the new passphrase working.
    @discardableResult
    static func rewrap(home: URL, key: DataKey, newPassphrase: some PassphraseBytes) throws -> KeyFile {
        guard let current = try read(home: home) else {
            throw ClientError("the replica in \(home.path) is not encrypted: there is no passphrase to change")
        }
        guard current.verify(key) else { throw Replica.wrongKeyError(home) }
        let file = try wrap(key, replicaID: current.replicaID, passphrase: newPassphrase)
        try DurableFile.replace(home.appendingPathComponent(fileName), with: try file.encoded())
        return file
    }

    /// Destroys the key file (and a staged `key.new`): overwritten with random bytes, flushed, removed,
    /// and the removal flushed. The replica's files are then ciphertext that nothing opens.
    static func destroy(home: URL) throws {
        let url = home.appendingPathComponent(fileName)
        try DurableFile.shred(DurableFile.staging(url), random: true)
        try DurableFile.shred(url, random: true)
        try DurableFile.syncFolder(of: url)
    }
}

extension KeyFile {
    private static func wrap(_ key: DataKey, replicaID: String, passphrase: some PassphraseBytes) throws -> KeyFile {
        var file = KeyFile(format: currentFormat, replicaID: replicaID, kdf: .forNewKey(), nonce: Data(count: 24),
                           wrappedKey: Data(), check: checkValue(of: key))
        let wrapping = try file.kdf.derive(passphrase: passphrase)
        file.nonce.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        var sealed = [UInt8](repeating: 0, count: DataKey.byteCount + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        let additional = Array(file.additionalData.utf8)
        file.nonce.withUnsafeBytes { nonce in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &sealed, nil, key.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(DataKey.byteCount),
                additional, UInt64(additional.count), nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                wrapping.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        file.wrappedKey = Data(sealed)
        return file
    }

    /// What the wrapped key is bound to: changing any of it makes the unwrap fail.
    private var additionalData: String {
        "casebook key file \(format) \(replicaID) \(kdf.algorithm) \(kdf.opslimit) \(kdf.memlimit) \(kdf.salt.base64EncodedString())"
    }

    private static func checkValue(of key: DataKey) -> Data {
        var out = [UInt8](repeating: 0, count: 32)
        let constant = Array("casebook replica data key check".utf8)
        _ = crypto_generichash(&out, out.count, constant, UInt64(constant.count),
                               key.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), DataKey.byteCount)
        return Data(out)
    }

    private var isUsable: Bool {
        format == Self.currentFormat && kdf.isUsable && nonce.count == 24 && check.count == 32
            && wrappedKey.count == DataKey.byteCount + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
            && replicaID.count == 32 && replicaID.allSatisfy(\.isHexDigit)
    }

    private func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
