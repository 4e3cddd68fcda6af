import Crypto
import Foundation
import Shared

extension FileStore {
    /// A writer for a download of `sha256` (`size` bytes) into its partial file, resuming after the
    /// chunks a download before it stored: each is read back, authenticated and hashed (a chunk cut short
    /// or damaged by a crash, and everything after it, is dropped). Only one process downloads a file at a time.
    func resumeDownload(_ sha256: String, size: Int64) throws -> StoreWriter {
        try prepareFolder()
        let url = partialURL(sha256)
        let descriptor = Self.openForChunks(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw FileStore.failure("cannot create a file to download into", folder) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ClientError("another casebook is downloading \(sha256.prefix(12)) into this replica: wait for it to finish, then try again")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw FileStore.failure("cannot read the partial download", folder)
        }
        let (stored, hasher) = storedPrefix(of: url, sha256: sha256, size: size, length: Int64(info.st_size))
        guard ftruncate(descriptor, off_t(storedOffset(ofChunk: stored))) == 0 else {
            close(descriptor)
            throw FileStore.failure("cannot trim the partial download", folder)
        }
        return StoreWriter(store: self, sha256: sha256, size: size, url: url, descriptor: descriptor, index: stored, hasher: hasher)
    }

    /// How many whole chunks at the start of a partial file of `length` bytes read back intact, and their hash so far.
    private func storedPrefix(of url: URL, sha256: String, size: Int64, length: Int64) -> (Int64, SHA256) {
        var hasher = SHA256()
        let count = Wire.Files.chunkCount(size: size)
        guard length > 0, let file = try? StoredFile(store: self, sha256: sha256, size: size, url: url) else { return (0, hasher) }
        var index: Int64 = 0
        // The whole file never counts as resumable: a finished download is moved into place at once, so
        // a partial file holding every chunk was interrupted before its check; it is checked again.
        while index < count - 1 {
            let end = storedOffset(ofChunk: index + 1)
            guard end <= length, let bytes = try? file.chunk(index) else { break }
            bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            index += 1
        }
        return (index, hasher)
    }

    /// Checks a complete download's hash and moves it into place; a download that does not hash to its
    /// name is removed (the next fetch starts over) and refused.
    func finishDownload(_ writer: StoreWriter) throws {
        let actual = try writer.finish()
        guard writer.isComplete, actual == writer.sha256 else {
            writer.discard()
            throw ClientError("the file \(writer.sha256.prefix(12)) received from the server does not hash to its name (got \(actual.prefix(12))): nothing was kept; fetch it again, and tell the server's admin if it persists")
        }
        try commit(staged: writer.url, as: writer.sha256)
        writer.keep()
    }
}
