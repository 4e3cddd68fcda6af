import Crypto
import Foundation

/// The SHA-256 of a change's canonical encoding: what a device signs and the project's log chains.
///
/// The canonical encoding is a domain tag followed by every part that makes a change that change,
/// each as a 4-byte big-endian length and its UTF-8 bytes: project, collection, record, field, the
/// value's stored text, HLC, base, the sorted `supersedes`, the sorted `covers`, and the author.
/// Lists are sorted so that two stores holding the same change in different orders agree.
package struct ChangeDigest: Hashable, Sendable, CustomStringConvertible {
    // The 32 bytes as four big-endian words: no heap allocation per digest, and hashing or
    // comparing one is four word operations (a pull page checks thousands).
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The 32 bytes of the digest.
    package var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(SHA256.byteCount)
        append(to: &out)
        return out
    }

    /// Wraps 32 bytes; nil for any other length.
    package init?(bytes: some Sequence<UInt8>) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count = 0
        for byte in bytes {
            switch count / 8 {
            case 0: words.0 = words.0 << 8 | UInt64(byte)
            case 1: words.1 = words.1 << 8 | UInt64(byte)
            case 2: words.2 = words.2 << 8 | UInt64(byte)
            case 3: words.3 = words.3 << 8 | UInt64(byte)
            default: return nil
            }
            count += 1
        }
        guard count == SHA256.byteCount else { return nil }
        self.words = words
    }

    /// The digest of `change` as a change of `project`.
    package init(of change: Change, project: String) {
        var encoding: [UInt8] = []
        self.init(of: change, project: project, reusing: &encoding)
    }

    /// The digest of `change`, with `buffer` as the encoding's space: a caller that digests a page
    /// of changes passes the same buffer each time and allocates it once.
    package init(of change: Change, project: String, reusing buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        ChangeDigest.appendCanonicalEncoding(of: change, project: project, to: &buffer)
        self.init(SHA256.hash(data: buffer))
    }

    /// The digests of `changes` in order, one encoding buffer for all.
    package static func of(_ changes: some Sequence<Change>, project: String) -> [ChangeDigest] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)
        return changes.map { ChangeDigest(of: $0, project: project, reusing: &buffer) }
    }

    /// Wraps a SHA-256 digest, word by word.
    private init(_ digest: SHA256.Digest) {
        words = digest.withUnsafeBytes { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
    }

    /// Parses lower-case or upper-case hex; nil when it is not 64 hex digits.
    package init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Lower-case hex.
    package var hex: String { Hex.encode(bytes) }

    package var description: String { hex }

    /// Appends the 32 bytes to `out`.
    package func append(to out: inout [UInt8]) {
        let bigEndian = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        Swift.withUnsafeBytes(of: bigEndian) { out.append(contentsOf: $0) }
    }

    package static func == (left: ChangeDigest, right: ChangeDigest) -> Bool {
        left.words == right.words
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Digests one after another, 32 bytes each: how batches, stores and pages keep lists of them.
    package static func pack(_ digests: [ChangeDigest]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(SHA256.byteCount * digests.count)
        for digest in digests { digest.append(to: &out) }
        return out
    }

    /// Reads `pack`'s bytes; nil when they are not a whole number of digests.
    package static func unpack(_ bytes: some Collection<UInt8>) -> [ChangeDigest]? {
        let bytes = Array(bytes)
        guard bytes.count % SHA256.byteCount == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: SHA256.byteCount).compactMap {
            ChangeDigest(bytes: bytes[$0 ..< $0 + SHA256.byteCount])
        }
    }

    /// The bytes that are hashed: stable across versions, stores and platforms.
    package static func canonicalEncoding(of change: Change, project: String) -> [UInt8] {
        var out: [UInt8] = []
        appendCanonicalEncoding(of: change, project: project, to: &out)
        return out
    }

    /// Appends the canonical encoding to `out`. The parts a pull has for every change (names,
    /// timestamps, a text value) are written straight into `out`, not through a string each: the
    /// bytes are those of the stored texts, which `ChangeDigestTests` pins for every kind of value.
    package static func appendCanonicalEncoding(of change: Change, project: String, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 200 + change.record.utf8.count)
        out.append(contentsOf: tag)
        out.appendLengthPrefixed(project)
        out.appendLengthPrefixed(change.collection)
        out.appendLengthPrefixed(change.record)
        out.appendLengthPrefixed(change.field)
        appendValue(change.value, to: &out)
        appendTimestamp(change.hlc, to: &out)
        appendTimestamp(change.base, to: &out)
        appendTimestamps(change.supersedes, to: &out)
        appendTimestamps(change.covers, to: &out)
        out.appendLengthPrefixed(change.author)
    }

    private static let tag = Array("casebook-change-v1".utf8)

    /// The value's stored text (`StorageText.encode`), length first.
    private static func appendValue(_ value: FieldValue, to out: inout [UInt8]) {
        let prefix: UInt8
        let payload: String
        switch value {
        case .text(let text): (prefix, payload) = (UInt8(ascii: "t"), text)
        case .date(let text): (prefix, payload) = (UInt8(ascii: "d"), text)
        case .reference(let text): (prefix, payload) = (UInt8(ascii: "r"), text)
        default:
            out.appendLengthPrefixed(StorageText.encode(value))
            return
        }
        out.appendLength(2 + payload.utf8.count)
        out.append(prefix)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: payload.utf8)
    }

    /// Timestamps as their texts, sorted and joined by commas, length first.
    private static func appendTimestamps(_ hlcs: [HLC], to out: inout [UInt8]) {
        guard hlcs.count == 1 else {
            out.appendLengthPrefixed(hlcs.map(\.text).sorted().joined(separator: ","))
            return
        }
        appendTimestamp(hlcs[0], to: &out)
    }

    /// One timestamp's text, length first; none is the empty text (as an empty list is).
    private static func appendTimestamp(_ hlc: HLC?, to out: inout [UInt8]) {
        guard let hlc else {
            out.appendLength(0)
            return
        }
        out.appendLength(hlc.textCount)
        hlc.appendText(to: &out)
    }
}
