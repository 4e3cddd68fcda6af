import Foundation
import GRDB
import SQLiteSupport

extension Replica {
    /// What a replica folder holds.
    enum Kind: Sendable {
        /// No replica (a key file alone is left from an interrupted `init`: it protects nothing).
        case none
        /// `replica.sqlite`, not encrypted. Also after an interrupted `encrypt`: until `replica.db`
        /// appears, the plaintext database is the replica, and `encrypt` can simply run again.
        case plaintext
        /// `replica.db` beside its key file.
        case encrypted
    }

    /// What `home` holds. `replica.db` appearing (a rename) is the moment a replica becomes encrypted.
    static func kind(home: URL) -> Kind {
        if FileManager.default.fileExists(atPath: home.appendingPathComponent(encryptedDatabaseName).path) { return .encrypted }
        if FileManager.default.fileExists(atPath: home.appendingPathComponent(databaseName).path) { return .plaintext }
        return .none
    }

    /// No key from any source: the one message for a locked replica, wherever it is found locked.
    static func lockedError(_ home: URL) -> ClientError {
        ClientError("the replica is locked: run 'casebook unlock' on a terminal first (later commands then need no passphrase), or give --passphrase-file FILE, or set CASEBOOK_PASSPHRASE",
                    exitCode: ClientError.lockedExitCode)
    }

    static func wrongKeyError(_ home: URL) -> ClientError {
        ClientError("the key given does not open the replica in \(home.path) (it is another replica's): run 'casebook lock', then unlock it with its own passphrase",
                    exitCode: ClientError.lockedExitCode)
    }

    /// Encrypts the plaintext replica in `home` under a new `passphrase`: writes the key file, then
    /// `encrypt(home:key:)`. A key file left by an earlier interrupted attempt is replaced.
    static func encrypt(home: URL, passphrase: some PassphraseBytes) throws {
        guard kind(home: home) == .plaintext else {
            throw ClientError("there is no unencrypted replica in \(home.path) to encrypt")
        }
        let (_, key) = try KeyFile.create(home: home, passphrase: passphrase)
        try encrypt(home: home, key: key)
    }

    /// Turns the plaintext replica in `home` into an encrypted one under `key` (its key file written
    /// before), safe against a crash at any point: the attached files are sealed into `sealed/`, the database (WAL included) is copied through the
    /// page cipher into `replica.db.tmp` with the token and CA certificate moved inside, flushed, and
    /// renamed to `replica.db` (from then on the replica is encrypted); then the plaintext files are
    /// overwritten with zeros and removed (the attached files' `files/` too).
    static func encrypt(home: URL, key: DataKey) throws {
        try DatabaseCipher.install()
        let plain = home.appendingPathComponent(databaseName)
        let staged = home.appendingPathComponent(encryptedDatabaseName + ".tmp")
        removeAbandonedEncryption(home)
        FileStore.removeSealedFolder(home: home)
        do {
            try FileStore.sealPlaintextFiles(home: home, cipher: try FileCipher(dataKey: key))
        } catch {
            FileStore.removeSealedFolder(home: home)
            throw ClientError("cannot encrypt the attached files of the replica in \(home.path) (\(error)): nothing was changed; check free disk space")
        }
        try DatabaseCipher.register(databasePath: staged.path, key: key)
        defer { DatabaseCipher.forget(databasePath: staged.path) }
        do {
            let source = try DatabaseQueue(path: plain.path, configuration: SQLiteTuning.configuration(setJournalToWAL: true))
            try source.write { db in try moveFilesInside(home, db) }
            try source.writeWithoutTransaction { db in
                // VACUUM INTO gives the copy this connection's requested page size and reserved bytes (in
                // this order: the page size pragma resets the requested reserve).
                try db.execute(sql: "PRAGMA page_size = \(DatabaseCipher.pageSize)")
                try DatabaseCipher.requestReserve(db)
                try db.execute(sql: "VACUUM INTO ?", arguments: [staged.path])
            }
            try source.close()
        } catch let error as DatabaseError {
            removeAbandonedEncryption(home)
            FileStore.removeSealedFolder(home: home)
            throw ClientError("cannot encrypt the replica in \(home.path) (\(error.message ?? "\(error.resultCode)")): nothing was changed; check free disk space")
        }
        try flush(staged)
        guard rename(staged.path, home.appendingPathComponent(encryptedDatabaseName).path) == 0 else {
            throw ClientError("cannot rename the encrypted copy in \(home.path) (\(String(cString: strerror(errno)))): nothing was changed")
        }
        try DurableFile.syncFolder(of: staged)
        try shredPlaintext(home, keepCertificate: false)
        try FileStore.shredPlaintextFiles(home: home)
    }

    /// Files a finished encryption no longer needs, left by a crash after its commit: removed on open.
    func finishEncryption() throws {
        Self.removeAbandonedEncryption(home)
        let certificate = home.appendingPathComponent("ca.pem").path
        // Kept while a setting still names it (a replica made before the certificate moved into the database).
        let certificateInUse = try read { db in try Setting.get(.caCertificate, db) } == certificate
        try Self.shredPlaintext(home, keepCertificate: certificateInUse)
        try FileStore.shredPlaintextFiles(home: home)
    }

    /// The token file and a CA certificate copied into the folder become settings of the database.
    private static func moveFilesInside(_ home: URL, _ db: Database) throws {
        let tokenFile = home.appendingPathComponent(tokenName).path
        if try Setting.get(.token, db) == nil, let data = FileManager.default.contents(atPath: tokenFile),
           let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            try Setting.set(.token, token, db)
        }
        let certificate = home.appendingPathComponent("ca.pem").path
        if try Setting.get(.caCertificate, db) == certificate, let data = FileManager.default.contents(atPath: certificate) {
            // The PEM itself, under the key the pinned transport reads it from, instead of the file's path.
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES ('ca_certificate_pem', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           arguments: [String(decoding: data, as: UTF8.self)])
            try Setting.set(.caCertificate, nil, db)
        }
    }

    /// Overwrites with zeros and removes every plaintext file of the folder, then flushes the folder.
    private static func shredPlaintext(_ home: URL, keepCertificate: Bool) throws {
        var names = ["", "-wal", "-shm", "-journal"].map { databaseName + $0 } + [tokenName]
        if !keepCertificate { names.append("ca.pem") }
        let present = names.map { home.appendingPathComponent($0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
        guard !present.isEmpty else { return }
        for url in present { try DurableFile.shred(url) }
        try DurableFile.syncFolder(of: present[0])
    }

    /// Removes the partial encrypted copy an interrupted `encrypt` left (ciphertext: a plain removal).
    static func removeAbandonedEncryption(_ home: URL) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: home.appendingPathComponent(encryptedDatabaseName + ".tmp" + suffix))
        }
    }

    private static func flush(_ url: URL) throws {
        let descriptor = Foundation.open(url.path, O_RDONLY | O_CLOEXEC)
        defer { if descriptor >= 0 { close(descriptor) } }
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            throw ClientError("cannot flush the encrypted copy in \(home(of: url)) to disk: nothing was changed; check free disk space")
        }
    }

    private static func home(of url: URL) -> String { url.deletingLastPathComponent().path }
}
