import Crypto
import DiskIO
import Foundation
import NIOCore
import Shared

/// One stored file opened for reading, chunk by chunk: each chunk of a sealed file is authenticated as
/// it is opened, so a changed byte on disk is found where it is. Any chunk can be read alone (an upload
/// resumes at the chunk the server expects). Safe to read from several tasks at once.
final class StoredFile: @unchecked Sendable {
    let store: FileStore
    let sha256: String
    let size: Int64
    let url: URL
    private let descriptor: Int32
    /// Where each chunk starts: `store.chunkStride`, or, for a whole sealed file stored before chunks were
    /// aligned to disk blocks, the sealed chunk's length (chunks right after each other).
    private let stride: Int64

    /// Why a stored file cannot be read as what it should be.
    struct Damaged: Error, CustomStringConvertible {
        let sha256: String
        let reason: String
        var description: String { "the stored file \(sha256.prefix(12)) is damaged (\(reason))" }
    }

    /// Opens the whole file of `sha256` (`size` bytes), or, with `url`, another stored form of it (a partial
    /// download, always in the current layout).
    init(store: FileStore, sha256: String, size: Int64, url: URL? = nil) throws {
        self.store = store
        self.sha256 = sha256
        self.size = size
        self.url = url ?? store.url(sha256)
        descriptor = FileStore.openForChunks(self.url.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw Damaged(sha256: sha256, reason: "it is missing from \(store.folder.path)") }
            throw FileStore.failure("cannot open a stored file", store.folder)
        }
        var info = stat()
        if url == nil, let unaligned = store.unalignedLength(size: size), fstat(descriptor, &info) == 0, Int64(info.st_size) == unaligned {
            stride = Int64(FileCipher.sealedChunkSize)
        } else {
            stride = store.chunkStride
        }
    }

    deinit { close(descriptor) }

    var chunkCount: Int64 { Wire.Files.chunkCount(size: size) }

    /// The bytes of chunk `index`, checked (authenticated when sealed); `Damaged` when they are not what was stored.
    func chunk(_ index: Int64) throws -> [UInt8] {
        let length = try chunkLength(index)
        return try [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            try read(index, into: UnsafeMutableRawBufferPointer(buffer))
            count = length
        }
    }

    /// Chunk `index` as a buffer to send, read and opened straight into it: no other buffer of the
    /// chunk's size is made or zeroed (the sealed bytes are read into one that is never zeroed).
    func chunkBuffer(_ index: Int64) throws -> ByteBuffer {
        let length = try chunkLength(index)
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            try read(index, into: UnsafeMutableRawBufferPointer(rebasing: out.prefix(length)))
            return length
        }
        return buffer
    }

    private func chunkLength(_ index: Int64) throws -> Int {
        guard let length = Wire.Files.chunkLength(index: index, size: size) else {
            throw Damaged(sha256: sha256, reason: "it has no chunk \(index)")
        }
        return length
    }

    /// Reads chunk `index` into `plain` (exactly its length), opening it when the store is sealed: the
    /// stored chunk is read, with the rest of its last disk block, into an aligned buffer.
    private func read(_ index: Int64, into plain: UnsafeMutableRawBufferPointer) throws {
        let storedLength = plain.count + (store.cipher == nil ? 0 : FileCipher.overhead)
        try FileStore.chunkBuffers.with { scratch in
            let got = try readFully(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<DirectIO.padded(storedLength)]), at: index * stride)
            guard got >= storedLength else { throw Damaged(sha256: sha256, reason: "chunk \(index) is cut short") }
            let stored = UnsafeRawBufferPointer(rebasing: scratch[0..<storedLength])
            guard let cipher = store.cipher else {
                plain.copyMemory(from: stored)
                return
            }
            guard cipher.open(stored, into: plain, sha256: sha256, index: index, size: size) else {
                throw Damaged(sha256: sha256, reason: "chunk \(index) fails authentication: it was changed on disk")
            }
        }
    }

    /// Reads every chunk in order, giving each to `body`, and checks that the whole hashes to the name.
    /// Returns nothing; throws `Damaged` naming the first problem.
    func readAll(_ body: (([UInt8]) throws -> Void)? = nil) throws {
        var hasher = SHA256()
        for index in 0..<chunkCount {
            let bytes = try chunk(index)
            bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            try body?(bytes)
        }
        let actual = Hex.encode(Array(hasher.finalize()))
        guard actual == sha256 else { throw Damaged(sha256: sha256, reason: "its content hashes to \(actual.prefix(12))…, not to its name") }
    }

    private func readFully(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        do throws(DirectIO.Failure) {
            return try DirectIO.readAll(descriptor, into: buffer, at: offset)
        } catch {
            throw FileStore.failure("cannot read a stored file", store.folder, code: error.code)
        }
    }
}
