import Foundation
import Shared

/// `casebook encrypt` for the file store: a plaintext replica's files (`files/`) are sealed into
/// `sealed/` before the database becomes encrypted, and shredded once it has. A crash before that
/// moment leaves the plaintext replica as it was (the partial `sealed/` is removed when it opens); a
/// crash after it leaves plaintext files that the encrypted replica shreds when it opens.
extension FileStore {
    /// Seals every whole file of the plaintext store in `home` into the sealed store under `cipher`.
    /// Partial downloads are not carried over (a fetch starts them again).
    static func sealPlaintextFiles(home: URL, cipher: FileCipher) throws {
        let plain = FileStore(home: home, cipher: nil), sealed = FileStore(home: home, cipher: cipher)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: plain.folder.path)) ?? []
        for sha256 in names.filter(FileRef.isSHA256).sorted() {
            var info = stat()
            guard stat(plain.url(sha256).path, &info) == 0 else { continue }
            let size = Int64(info.st_size)
            let source = try StoredFile(store: plain, sha256: sha256, size: size)
            let writer = try StoreWriter.staging(store: sealed, sha256: sha256, size: size)
            do {
                for index in 0..<source.chunkCount {
                    try source.chunk(index).withUnsafeBytes { try writer.append($0) }
                }
                // A plaintext file that no longer hashes to its name is sealed as it is: `verify` reports it, as it did before.
                _ = try writer.finish()
                try sealed.commit(staged: writer.url, as: sha256)
                writer.keep()
            } catch {
                writer.discard()
                throw error
            }
        }
    }

    /// Overwrites every file of the plaintext store in `home` with zeros and removes the folder.
    static func shredPlaintextFiles(home: URL) throws {
        let folder = FileStore(home: home, cipher: nil).folder
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names { try DurableFile.shred(folder.appendingPathComponent(name)) }
        try? FileManager.default.removeItem(at: folder)
        try DurableFile.syncFolder(of: folder)
    }

    /// Removes the sealed store an interrupted `encrypt` left beside a plaintext replica (ciphertext: a plain removal).
    static func removeSealedFolder(home: URL) {
        try? FileManager.default.removeItem(at: home.appendingPathComponent(sealedFolderName, isDirectory: true))
    }
}
