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
        String(unsafeUninitializedCapacity: textCount) { buffer in
            write(into: buffer)
            return textCount
        }
    }

    /// How many bytes the text form has.
    package var textCount: Int { 18 + node.textCount }

    /// Appends the text form's bytes to `out`, without making the text.
    package func appendText(to out: inout [UInt8]) {
        let start = out.count, count = textCount
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBufferPointer { buffer in write(into: UnsafeMutableBufferPointer(rebasing: buffer[start ..< start + count])) }
    }

    /// Writes the text form into the first `textCount` bytes of `buffer`.
    private func write(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        Hex.write(millis, width: 12, into: buffer, at: 0)
        buffer[12] = UInt8(ascii: "-")
        Hex.write(UInt64(counter), width: 4, into: buffer, at: 13)
        buffer[17] = UInt8(ascii: "-")
        node.write(into: buffer, at: 18)
    }

    package var description: String { text }

    /// Parses the text form; returns nil when it is not a valid timestamp.
    package init?(text: String) {
        // One pass over the bytes: this runs for every change a store reads.
        var parsed: (UInt64, UInt16, NodeID)?
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
            guard let node = NodeID.pack(UnsafeBufferPointer(rebasing: utf8[18...])) else { return }
            parsed = (millis, counter, node)
        }
        guard let (millis, counter, node) = parsed else { return nil }
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
///
/// Kept as packed digits, not as a string, so a timestamp is a plain value: copying, hashing and
/// comparing one (which stores and merges do for every change) touch no reference count.
package struct NodeID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The digits, four bits each, from the most significant end of `high` then `low`; the rest zero.
    private let high: UInt64
    private let low: UInt64
    /// How many digits.
    private let count: UInt8

    /// Validates the text form: 1 to 32 characters of `0-9a-f`.
    package init?(_ rawValue: String) {
        var text = rawValue
        guard let packed = text.withUTF8({ NodeID.pack($0) }) else { return nil }
        self = packed
    }

    private init(high: UInt64, low: UInt64, count: UInt8) {
        self.high = high
        self.low = low
        self.count = count
    }

    /// Packs 1 to 32 lower-case hex digits; nil for anything else.
    package static func pack(_ digits: UnsafeBufferPointer<UInt8>) -> NodeID? {
        guard (1...32).contains(digits.count) else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for (position, byte) in digits.enumerated() {
            guard let digit = Hex.value(byte) else { return nil }
            if position < 16 {
                high |= UInt64(digit) << (60 - 4 * position)
            } else {
                low |= UInt64(digit) << (60 - 4 * (position - 16))
            }
        }
        return NodeID(high: high, low: low, count: UInt8(digits.count))
    }

    /// A new random node id from the injected generator.
    package static func random<G: RandomNumberGenerator>(using generator: inout G) -> NodeID {
        NodeID(high: generator.next(), low: 0, count: 16)
    }

    /// The text form.
    package var rawValue: String {
        String(unsafeUninitializedCapacity: Int(count)) { buffer in
            write(into: buffer, at: 0)
            return Int(count)
        }
    }

    /// Writes the text form's `count` bytes at `start`.
    package func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for position in 0..<Int(count) {
            let word = position < 16 ? high : low
            let digit = UInt8(truncatingIfNeeded: (word >> (60 - 4 * (position % 16))) & 0xF)
            buffer[start + position] = digit < 10 ? digit + 48 : digit + 87
        }
    }

    /// How many bytes the text form has.
    package var textCount: Int { Int(count) }

    /// The order of the text forms: digit by digit, a prefix first.
    package static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        if lhs.high != rhs.high { return lhs.high < rhs.high }
        if lhs.low != rhs.low { return lhs.low < rhs.low }
        return lhs.count < rhs.count
    }

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
