import Crypto
import Foundation

/// The SHA-256 of a change's canonical encoding: what a device signs and the project's log chains.
///
/// The canonical encoding is a domain tag followed by every part that makes a change that change,
/// each as a 4-byte big-endian length and its UTF-8 bytes: project, collection, record, field, the
/// value's stored text, HLC, base, the sorted `supersedes`, the sorted `covers`, and the author.
/// Lists are sorted so that two stores holding the same change in different orders agree.
package struct ChangeDigest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    package let bytes: [UInt8]

    /// Wraps 32 bytes; nil for any other length.
    package init?(bytes: [UInt8]) {
        guard bytes.count == SHA256.byteCount else { return nil }
        self.bytes = bytes
    }

    /// The digest of `change` as a change of `project`.
    package init(of change: Change, project: String) {
        bytes = Array(SHA256.hash(data: ChangeDigest.canonicalEncoding(of: change, project: project)))
    }

    /// Parses lower-case or upper-case hex; nil when it is not 64 hex digits.
    package init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Lower-case hex.
    package var hex: String { Hex.encode(bytes) }

    package var description: String { hex }

    /// The bytes that are hashed: stable across versions, stores and platforms.
    package static func canonicalEncoding(of change: Change, project: String) -> [UInt8] {
        var out: [UInt8] = Array("casebook-change-v1".utf8)
        out.reserveCapacity(160 + change.record.utf8.count)
        func append(_ text: String) {
            let count = UInt32(text.utf8.count)
            out.append(contentsOf: [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
            out.append(contentsOf: text.utf8)
        }
        append(project)
        append(change.collection)
        append(change.record)
        append(change.field)
        append(StorageText.encode(change.value))
        append(change.hlc.text)
        append(change.base?.text ?? "")
        append(change.supersedes.map(\.text).sorted().joined(separator: ","))
        append(change.covers.map(\.text).sorted().joined(separator: ","))
        append(change.author)
        return out
    }
}
