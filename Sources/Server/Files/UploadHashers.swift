import Crypto
import Foundation
import NIOCore
import Shared

/// The running SHA-256 of the uploads in progress, so that the check after the last chunk hashes only
/// that chunk instead of reading the whole file again.
///
/// A hasher is kept with the number of bytes it has seen, and is only used when that is exactly what
/// the store holds: after a restart, on another instance behind a load balancer, or after a failed
/// write, there is none at the right position and the store hashes what it holds once, before the
/// last chunk. Keys name the upload (`StoredFile.upload`), never just the hash.
///
/// The embedded store also takes a hasher's position as what it holds of the upload beyond the
/// chunks its database counts (written, not yet flushed): losing an entry (a restart, the capacity)
/// only makes the upload go on from the flushed chunks.
///
/// Each entry also gathers the SHA-256 of every chunk taken in so far, checked against its body: a
/// complete file keeps them (`FileController.getChunk` then announces each chunk's hash without hashing
/// it again). Only an unbroken run from chunk 0 is kept; an upload with a gap (a restart, another
/// instance) completes without them, and its chunks are hashed as they are served.
final class UploadHashers: @unchecked Sendable {
    private struct Entry {
        var position: Int64
        var hasher: RunningHash
        var used: UInt64
        /// 32 bytes a chunk, chunks `0..<count / 32`.
        var chunkHashes: [UInt8]
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    /// The most uploads tracked at once; the least recently used goes first (it is only a shortcut).
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    static func key(project: String, sha256: String, upload: String) -> String { "\(project)/\(sha256)/\(upload)" }

    /// The hasher of `key` if it has seen exactly `position` bytes.
    func hasher(_ key: String, at position: Int64) -> RunningHash? {
        lock.withLock {
            guard let entry = entries[key], entry.position == position else { return nil }
            clock += 1
            entries[key]?.used = clock
            return entry.hasher
        }
    }

    /// How many bytes of `key` the kept hasher has seen, nil when none is kept.
    func position(_ key: String) -> Int64? {
        lock.withLock { entries[key]?.position }
    }

    /// Keeps `hasher` as having seen `position` bytes of `key`, chunk `index` last, whose body hashed to
    /// `chunkHash` (64 hex digits).
    func keep(_ key: String, at position: Int64, _ hasher: RunningHash, chunk index: Int64, hash chunkHash: String) {
        lock.withLock {
            clock += 1
            // Taken out of the table so that the hashes grow in place, not copied for every chunk.
            var hashes = entries.removeValue(forKey: key)?.chunkHashes ?? []
            Self.append(chunkHash, at: index, to: &hashes)
            entries[key] = Entry(position: position, hasher: hasher, used: clock, chunkHashes: hashes)
            if entries.count > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
                entries[oldest] = nil
            }
        }
    }

    /// Keeps `hasher`, read back from what is held, as having seen `position` bytes of `key`: the chunks'
    /// own hashes are not known then.
    func keep(_ key: String, at position: Int64, readBack hasher: RunningHash) {
        lock.withLock {
            clock += 1
            entries[key] = Entry(position: position, hasher: hasher, used: clock, chunkHashes: [0])
        }
    }

    /// Forgets `key`, whose last chunk (`index`, hashed to `chunkHash`) has arrived; returns the hash of
    /// every chunk of the file, 32 bytes each, when all of them are known, else nil.
    func finish(_ key: String, lastChunk index: Int64, hash chunkHash: String) -> [UInt8]? {
        lock.withLock {
            guard var hashes = entries.removeValue(forKey: key)?.chunkHashes ?? (index == 0 ? [] : nil) else { return nil }
            Self.append(chunkHash, at: index, to: &hashes)
            return hashes.count == Int(index + 1) * 32 ? hashes : nil
        }
    }

    func forget(_ key: String) {
        lock.withLock { entries[key] = nil }
    }

    /// Appends chunk `index`'s hash when the ones before it are all there; after a gap the run is broken
    /// for good (its length is never a whole number of hashes again).
    private static func append(_ chunkHash: String, at index: Int64, to hashes: inout [UInt8]) {
        if hashes.count == Int(index) * 32, let bytes = Hex.decode(chunkHash), bytes.count == 32 {
            hashes.append(contentsOf: bytes)
        } else if hashes.count % 32 == 0 {
            hashes = [0]
        }
    }
}

/// A SHA-256 in progress. swift-crypto's `SHA256` is a plain value but not marked `Sendable`; this
/// lets one cross to the thread pool that reads files.
struct RunningHash: @unchecked Sendable {
    private var hasher = SHA256()

    init() {}

    mutating func update(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }

    /// The digest of everything so far, as 64 lower-case hex digits.
    func hex() -> String { hasher.finalize().hex }
}

extension SHA256.Digest {
    /// The digest as 64 lower-case hex digits, as files are named.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
