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
        guard hex.utf8.count == 2 * SHA256.byteCount else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(SHA256.byteCount)
        var high: UInt8?
        for unit in hex.utf8 {
            guard let nibble = ChangeDigest.nibble(unit) else { return nil }
            if let h = high { bytes.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        self.bytes = bytes
    }

    /// Lower-case hex.
    package var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 2 * bytes.count) { buffer in
            for (index, byte) in bytes.enumerated() {
                buffer[2 * index] = digits[Int(byte >> 4)]
                buffer[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return 2 * bytes.count
        }
    }

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

    private static func nibble(_ unit: UInt8) -> UInt8? {
        switch unit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): unit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): unit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): unit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
