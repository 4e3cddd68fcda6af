import Foundation

/// A hybrid logical clock timestamp: 48-bit wall-clock milliseconds, a 16-bit counter and the node that made it.
///
/// Timestamps are totally ordered by (millis, counter, node). The text form
/// `MMMMMMMMMMMM-CCCC-NODE` (lower-case hex, fixed width) sorts the same way as the values,
/// so the database can order and compare them as strings.
package struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The largest representable millisecond value (48 bits).
    package static let maxMillis: UInt64 = (1 << 48) - 1

    /// Milliseconds since the Unix epoch, at most 48 bits.
    package let millis: UInt64
    /// Logical counter that orders events within one millisecond.
    package let counter: UInt16
    /// The node (replica or server) that issued the timestamp.
    package let node: NodeID

    /// Creates a timestamp; `millis` must fit in 48 bits.
    package init(millis: UInt64, counter: UInt16, node: NodeID) {
        precondition(millis <= HLC.maxMillis, "HLC millis must fit in 48 bits")
        self.millis = millis
        self.counter = counter
        self.node = node
    }

    /// Orders by milliseconds, then counter, then node id.
    package static func < (lhs: HLC, rhs: HLC) -> Bool {
        if lhs.millis != rhs.millis { return lhs.millis < rhs.millis }
        if lhs.counter != rhs.counter { return lhs.counter < rhs.counter }
        return lhs.node < rhs.node
    }

    /// The sortable text form, e.g. `0194a3b2c1d0-0003-3f9a2c7d1e4b5a60`.
    package var text: String {
        // Written byte by byte: stores and the wire ask for this for every change they handle.
        var node = node.rawValue
        return node.withUTF8 { nodeBytes in
            String(unsafeUninitializedCapacity: 18 + nodeBytes.count) { buffer in
                Hex.write(millis, width: 12, into: buffer, at: 0)
                buffer[12] = UInt8(ascii: "-")
                Hex.write(UInt64(counter), width: 4, into: buffer, at: 13)
                buffer[17] = UInt8(ascii: "-")
                for (offset, byte) in nodeBytes.enumerated() { buffer[18 + offset] = byte }
                return 18 + nodeBytes.count
            }
        }
    }

    package var description: String { text }

    /// Parses the text form; returns nil when it is not a valid timestamp.
    package init?(text: String) {
        // One pass over the bytes: this runs for every change a store reads.
        var parsed: (UInt64, UInt16)?
        var nodeText: String?
        var copy = text
        copy.withUTF8 { utf8 in
            guard utf8.count >= 19, utf8.count <= 50, utf8[12] == UInt8(ascii: "-"), utf8[17] == UInt8(ascii: "-") else { return }
            var millis: UInt64 = 0
            for index in 0..<12 {
                guard let digit = Hex.value(utf8[index]) else { return }
                millis = millis << 4 | UInt64(digit)
            }
            var counter: UInt16 = 0
            for index in 13..<17 {
                guard let digit = Hex.value(utf8[index]) else { return }
                counter = counter << 4 | UInt16(digit)
            }
            let node = UnsafeBufferPointer(rebasing: utf8[18...])
            guard node.allSatisfy(Hex.isLowerHexDigit) else { return }
            parsed = (millis, counter)
            nodeText = String(decoding: node, as: UTF8.self)
        }
        guard let (millis, counter) = parsed, let nodeText, let node = NodeID(nodeText) else { return nil }
        self.init(millis: millis, counter: counter, node: node)
    }
}

extension HLC: Codable {
    package init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = HLC(text: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text.prefix(80))' is not a timestamp (expected MMMMMMMMMMMM-CCCC-NODE in hex)")
        }
        self = value
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// The identity of a replica or server in timestamps: 1 to 32 lower-case hex digits (replicas make 16 random ones).
package struct NodeID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The 16 hex digits.
    package let rawValue: String

    /// Validates the text form: 1 to 32 characters of `0-9a-f`.
    package init?(_ rawValue: String) {
        guard (1...32).contains(rawValue.count),
              rawValue.utf8.allSatisfy({ Hex.isLowerHexDigit($0) })
        else { return nil }
        self.rawValue = rawValue
    }

    /// A new random node id from the injected generator.
    package static func random<G: RandomNumberGenerator>(using generator: inout G) -> NodeID {
        NodeID(unchecked: Hex.pad(generator.next(), width: 16))
    }

    private init(unchecked: String) { rawValue = unchecked }

    package static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { rawValue }

    package init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = NodeID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text.prefix(40))' is not a node id (1-32 lower-case hex digits)")
        }
        self = value
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Small helpers for fixed-width lower-case hexadecimal text.
package enum Hex {
    /// `value` in lower-case hex, left-padded with zeros to `width` digits.
    package static func pad(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Writes the low `width` hex digits of `value` (lower case, zero-padded) at `start`.
    package static func write(_ value: UInt64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var rest = value
        for position in stride(from: start + width - 1, through: start, by: -1) {
            let digit = UInt8(truncatingIfNeeded: rest & 0xF)
            buffer[position] = digit < 10 ? digit + 48 : digit + 87
            rest >>= 4
        }
    }

    /// The value of a lower-case hex digit.
    package static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 97...102: byte - 87
        default: nil
        }
    }

    /// Whether a UTF-8 byte is `0-9` or `a-f`.
    package static func isLowerHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (97...102).contains(byte)
    }
}
