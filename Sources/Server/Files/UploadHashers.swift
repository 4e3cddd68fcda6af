import Crypto
import Foundation
import NIOCore

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
final class UploadHashers: @unchecked Sendable {
    private struct Entry {
        var position: Int64
        var hasher: RunningHash
        var used: UInt64
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

    /// Keeps `hasher` as having seen `position` bytes of `key`.
    func keep(_ key: String, at position: Int64, _ hasher: RunningHash) {
        lock.withLock {
            clock += 1
            entries[key] = Entry(position: position, hasher: hasher, used: clock)
            if entries.count > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
                entries[oldest] = nil
            }
        }
    }

    func forget(_ key: String) {
        lock.withLock { entries[key] = nil }
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
