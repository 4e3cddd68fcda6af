import CProcess
import Crypto
import DiskIO
import Foundation
import Shared

/// Writes one file into the store chunk after chunk (sealed on an encrypted replica), into a staging
/// file it holds locked, hashing the bytes it is given. Chunks go straight to disk (`DirectIO`) where
/// the file system allows it. `finish` flushes the file and returns their
/// SHA-256; the caller compares it with the name and moves the file into place (`FileStore.commit`).
final class StoreWriter {
    let store: FileStore
    /// The file's SHA-256 as expected (the name the chunks are sealed for).
    let sha256: String
    let size: Int64
    /// The staging file.
    let url: URL
    /// The next chunk to write.
    private(set) var index: Int64
    /// Bytes of the file written so far.
    var written: Int64 { min(size, index * Int64(Wire.Files.chunkSize)) }
    private var descriptor: Int32
    private var hasher: SHA256

    /// A writer on the open, locked `descriptor` of `url`, which holds chunks `0..<index` already (hashed into `hasher`).
    init(store: FileStore, sha256: String, size: Int64, url: URL, descriptor: Int32, index: Int64 = 0, hasher: SHA256 = SHA256()) {
        self.store = store
        self.sha256 = sha256
        self.size = size
        self.url = url
        self.descriptor = descriptor
        self.index = index
        self.hasher = hasher
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// A writer on a new staging file for an attach (`tmp-` and random hex: its name tells nothing).
    static func staging(store: FileStore, sha256: String, size: Int64) throws -> StoreWriter {
        try store.prepareFolder()
        var random = SystemRandomNumberGenerator()
        let name = FileStore.stagingPrefix + Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let url = store.folder.appendingPathComponent(name)
        let descriptor = FileStore.openForChunks(url.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw FileStore.failure("cannot create a file to store into", store.folder) }
        guard flock(descriptor, LOCK_EX) == 0 else {
            close(descriptor)
            throw FileStore.failure("cannot lock the file to store into", store.folder)
        }
        return StoreWriter(store: store, sha256: sha256, size: size, url: url, descriptor: descriptor)
    }

    /// Whether every chunk has been written.
    var isComplete: Bool { index >= Wire.Files.chunkCount(size: size) }

    /// Writes the next chunk: exactly its length (`Wire.Files.chunkLength`) of the file's bytes.
    func append(_ chunk: UnsafeRawBufferPointer) throws {
        guard let expected = Wire.Files.chunkLength(index: index, size: size), chunk.count == expected else {
            throw ClientError("chunk \(index) of \(sha256.prefix(12)) has \(chunk.count) bytes where \(Wire.Files.chunkLength(index: index, size: size) ?? 0) were expected: nothing was kept")
        }
        let offset = store.storedOffset(ofChunk: index)
        // The chunk is hashed on a second thread while it is sealed and written (for a download too, which
        // also hashes each chunk as it arrives: it measured 11% faster once chunks went straight to disk,
        // whose write is more a wait than work; docs/performance.md, "A download's chunks hashed beside
        // their write"). A chunk whose write fails leaves the writer as it was (its hash discarded).
        var hashed = hasher, stored: Result<Void, any Error> = .success(())
        TwoAtOnce.run({ hashed.update(bufferPointer: chunk) }, { stored = Result { try store(chunk, at: offset) } })
        try stored.get()
        hasher = hashed
        index += 1
    }

    /// Seals (on an encrypted replica) and writes one chunk at `offset`, from an aligned buffer: straight
    /// to disk on a direct descriptor, else into the page cache with its writeback started at once (the
    /// disk works while the next chunk is read and sealed, and the flush at the end finds little left).
    /// The last block is padded with zeros for the disk; the last chunk's padding is cut off again.
    private func store(_ chunk: UnsafeRawBufferPointer, at offset: Int64) throws {
        let isLast = index == Wire.Files.chunkCount(size: size) - 1
        try FileStore.chunkBuffers.with { scratch in
            let length: Int
            if let cipher = store.cipher {
                length = cipher.seal(chunk, into: scratch, sha256: sha256, index: index, size: size)
            } else {
                scratch.copyMemory(from: chunk)
                length = chunk.count
            }
            do throws(DirectIO.Failure) {
                try DirectIO.writePadded(descriptor, scratch, length: length, at: offset, endsFile: isLast)
            } catch {
                throw FileStore.failure("cannot write the stored file", store.folder, code: error.code)
            }
            if !DirectIO.isDirect(descriptor) { _ = casebook_start_writeback(descriptor, offset, Int64(length)) }
        }
    }

    /// Flushes what was written to disk.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw FileStore.failure("cannot flush the stored file to disk", store.folder) }
    }

    /// Flushes the file and returns the SHA-256 of everything appended (chunks it resumed after included).
    func finish() throws -> String {
        try sync()
        return Hex.encode(Array(hasher.finalize()))
    }

    /// Closes and removes the staging file (nothing of it is kept).
    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(url.path)
    }

    /// Closes the staging file, keeping it (a partial download, resumed later).
    func keep() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }
}
