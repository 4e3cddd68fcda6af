import Crypto
import Foundation

/// A value of a project's hash-chained log: what the entry at one sequence number commits to.
///
/// The value before the first entry is 32 zero bytes (`genesis`). The value at sequence number
/// `seq` is SHA-256(value at the previous entry ‖ `seq` as 8 bytes big-endian ‖ the entry's
/// `ChangeDigest`). So a value commits to every entry up to its own, in order, with its number: a
/// log whose entries were altered, dropped or reordered leads to another value. The server appends
/// under the serialisation that assigns sequence numbers, so every store and instance agrees.
package struct LogChain: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the value.
    package let bytes: [UInt8]

    /// The value before the first entry of every project's log.
    package static let genesis = LogChain(checked: [UInt8](repeating: 0, count: SHA256.byteCount))

    private init(checked bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps 32 bytes; nil for any other length.
    package init?(bytes: [UInt8]) {
        guard bytes.count == SHA256.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex digits; nil for anything else.
    package init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == SHA256.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hex.
    package var hex: String { Hex.encode(bytes) }

    package var description: String { hex }

    /// The value after appending the entry numbered `seq` whose change has `digest`.
    package func appending(seq: Int64, digest: ChangeDigest) -> LogChain {
        var hasher = SHA256()
        hasher.update(data: bytes)
        let number = UInt64(bitPattern: seq)
        var entry: [UInt8] = []
        entry.reserveCapacity(8 + 32)
        for shift in stride(from: 56, through: 0, by: -8) { entry.append(UInt8(truncatingIfNeeded: number >> UInt64(shift))) }
        digest.append(to: &entry)
        hasher.update(data: entry)
        return LogChain(checked: Array(hasher.finalize()))
    }
}

extension LogChain: Codable {
    /// Decodes 64 hex digits.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = LogChain(hex: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a chain value is 64 hex digits")
        }
        self = value
    }

    /// Encodes as lower-case hex.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
