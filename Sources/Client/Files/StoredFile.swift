import Crypto
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

    /// Why a stored file cannot be read as what it should be.
    struct Damaged: Error, CustomStringConvertible {
        let sha256: String
        let reason: String
        var description: String { "the stored file \(sha256.prefix(12)) is damaged (\(reason))" }
    }

    /// Opens the whole file of `sha256` (`size` bytes), or, with `url`, another stored form of it (a partial download).
    init(store: FileStore, sha256: String, size: Int64, url: URL? = nil) throws {
        self.store = store
        self.sha256 = sha256
        self.size = size
        self.url = url ?? store.url(sha256)
        descriptor = open(self.url.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw Damaged(sha256: sha256, reason: "it is missing from \(store.folder.path)") }
            throw FileStore.failure("cannot open a stored file", store.folder)
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

    /// Reads chunk `index` into `plain` (exactly its length), opening it when the store is sealed.
    private func read(_ index: Int64, into plain: UnsafeMutableRawBufferPointer) throws {
        let offset = store.storedOffset(ofChunk: index)
        guard let cipher = store.cipher else {
            guard try readFully(plain, at: offset) == plain.count else { throw Damaged(sha256: sha256, reason: "chunk \(index) is cut short") }
            return
        }
        let storedLength = plain.count + FileCipher.overhead
        let sealed = try [UInt8](unsafeUninitializedCapacity: storedLength) { buffer, count in
            count = try readFully(UnsafeMutableRawBufferPointer(buffer), at: offset)
        }
        guard sealed.count == storedLength else { throw Damaged(sha256: sha256, reason: "chunk \(index) is cut short") }
        let opened = sealed.withUnsafeBytes { cipher.open($0, into: plain, sha256: sha256, index: index, size: size) }
        guard opened else { throw Damaged(sha256: sha256, reason: "chunk \(index) fails authentication: it was changed on disk") }
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
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileStore.failure("cannot read a stored file", store.folder) }
            if count == 0 { break }
            done += count
        }
        return done
    }
}
