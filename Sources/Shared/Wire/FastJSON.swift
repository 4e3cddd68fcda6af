import Foundation

/// A small JSON reader over UTF-8 bytes, for the wire types on the hot path (push bodies, pull
/// pages). It reads the same JSON the `Codable` types describe, without the generic machinery;
/// when it cannot read something, callers fall back to `JSONDecoder`, whose errors name the field.
///
/// It follows the JSON grammar strictly, so it never accepts a document `JSONDecoder` refuses:
/// whatever it does not read exactly as `JSONDecoder` would (a repeated key, a number with a
/// fraction where an integer is expected) it refuses, and the caller's fallback decides. So does
/// anything it need not read fast: a key written with escapes, an object with many keys.
package struct FastJSONReader {
    /// The reader could not read the input as expected; the caller falls back to `JSONDecoder`.
    package struct Failure: Error {}

    /// How deeply objects and arrays may nest: `JSONDecoder`'s limit, which also keeps a hostile
    /// document from exhausting the stack.
    private static let maxDepth = 512
    /// Keys remembered per object to refuse a repeated one; an object with more is left to `JSONDecoder`.
    private static let maxKeys = 16

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    package init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw Failure() }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try peek() == byte else { throw Failure() }
        index += 1
    }

    /// The next significant byte, without consuming it.
    package mutating func peekByte() throws -> UInt8 { try peek() }

    /// Whether only whitespace remains.
    package mutating func atEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    /// Consumes `literal` (`true`, `false` or `null`) if the input holds exactly it here.
    private mutating func consume(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        if matches { index += count }
        return matches
    }

    /// Reads `null` if it comes next.
    package mutating func readNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        guard consume("null") else { throw Failure() }
        return true
    }

    /// Reads `true` or `false`.
    package mutating func readBool() throws -> Bool {
        _ = try peek()
        if consume("true") { return true }
        if consume("false") { return false }
        throw Failure()
    }

    /// An integer without fraction or exponent (anything else: fall back).
    package mutating func readInt64() throws -> Int64 {
        let (negative, magnitude) = try readInteger()
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw Failure() }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw Failure() }
        return Int64(magnitude)
    }

    /// A non-negative integer without fraction or exponent (`-0` is 0, as `JSONDecoder` reads it).
    package mutating func readUInt64() throws -> UInt64 {
        let (negative, magnitude) = try readInteger()
        guard !negative || magnitude == 0 else { throw Failure() }
        return magnitude
    }

    /// The sign and digits of a JSON integer: no leading zero, and no fraction or exponent after it.
    private mutating func readInteger() throws -> (negative: Bool, magnitude: UInt64) {
        _ = try peek()
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            guard !overflow1, !overflow2 else { throw Failure() }
            value = sum
            index += 1
        }
        guard index > start, bytes[start] != 0x30 || index == start + 1 else { throw Failure() }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { throw Failure() }
        return (negative, value)
    }

    /// Skips a number as the JSON grammar writes it: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    private mutating func skipNumber() throws {
        func digits() throws {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > start else { throw Failure() }
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let start = index
        try digits()
        guard bytes[start] != 0x30 || index == start + 1 else { throw Failure() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
    }

    package mutating func readString() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        // Fast path: no escapes.
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // ASCII is valid UTF-8 as it is (and the stdlib's validating initializer is not
                // specialized: it looks up generic metadata for every string).
                if ascii { return String(decoding: raw, as: UTF8.self) }
                // Validating, not repairing: invalid UTF-8 is left to the strict decoder.
                guard let text = String(validating: raw, as: UTF8.self) else { throw Failure() }
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        index = start
        return try readEscapedString()
    }

    /// A string with escapes or non-ASCII bytes, read scalar by scalar from its first byte.
    private mutating func readEscapedString() throws -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        func flush() throws {
            guard !utf8.isEmpty else { return }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure() }
            scalars.append(contentsOf: text.unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                try flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush()
                guard index < bytes.count else { throw Failure() }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try readEscapedScalar())
                default: throw Failure()
                }
            default:
                guard byte >= 0x20 else { throw Failure() }
                utf8.append(byte)
            }
        }
        throw Failure()
    }

    /// The scalar of a `\uXXXX` escape (after its `u`), a surrogate pair as one scalar; a lone surrogate is refused.
    private mutating func readEscapedScalar() throws -> Unicode.Scalar {
        var code = try readHex4()
        if (0xD800...0xDBFF).contains(code) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw Failure() }
            index += 2
            let low = try readHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw Failure() }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw Failure() }
        return scalar
    }

    private mutating func readHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw Failure() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw Failure()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Enters an object or array; refuses nesting deeper than `maxDepth`.
    private mutating func enter(_ opening: UInt8) throws {
        try expect(opening)
        depth += 1
        guard depth <= Self.maxDepth else { throw Failure() }
    }

    /// Reads an object, calling `body` with each key (positioned at its value).
    ///
    /// A repeated key is refused: `JSONDecoder` keeps one of the values, and which one is its business.
    /// Keys are compared as written, so one written with escapes is refused too (no client writes one).
    package mutating func readObject(_ body: (inout FastJSONReader, String) throws -> Void) throws {
        try enter(UInt8(ascii: "{"))
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        // Where the keys seen so far are written, on the stack: an object costs no allocation.
        try withUnsafeTemporaryAllocation(of: (start: Int, count: Int).self, capacity: Self.maxKeys) { keys in
            var count = 0
            while true {
                _ = try peek()
                let start = index + 1
                let key = try readString()
                // An escape makes the written key longer than its text.
                let length = index - 1 - start
                guard length == key.utf8.count, count < keys.count, !isRepeated(start, length, keys.prefix(count)) else { throw Failure() }
                keys.initializeElement(at: count, to: (start, length))
                count += 1
                try expect(UInt8(ascii: ":"))
                try body(&self, key)
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Failure() }
            }
        }
    }

    /// Whether the key written at `start` was written before in this object.
    private func isRepeated(_ start: Int, _ length: Int, _ earlier: Slice<UnsafeMutableBufferPointer<(start: Int, count: Int)>>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return earlier.contains { $0.count == length && memcmp(base + $0.start, base + start, length) == 0 }
    }

    /// Reads an array, calling `body` for each element.
    package mutating func readArray(_ body: (inout FastJSONReader) throws -> Void) throws {
        try enter(UInt8(ascii: "["))
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try body(&self)
            let next = try peek()
            index += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw Failure() }
        }
    }

    /// Skips any value (for keys the types do not know, which `Codable` ignores too).
    package mutating func skipValue() throws {
        switch try peek() {
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "{"): try readObject { reader, _ in try reader.skipValue() }
        case UInt8(ascii: "["): try readArray { try $0.skipValue() }
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): _ = try readNull()
        default: try skipNumber()
        }
    }

    package mutating func readStringArray() throws -> [String] {
        var items: [String] = []
        try readArray { items.append(try $0.readString()) }
        return items
    }
}

/// Writes JSON into a byte buffer, for the same hot-path wire types.
package struct FastJSONWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 4_096) { bytes.reserveCapacity(capacity) }

    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    package mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (offset, byte) in utf8.enumerated() where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<offset]))
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case UInt8(ascii: "\n"): raw("\\n")
                case UInt8(ascii: "\r"): raw("\\r")
                case UInt8(ascii: "\t"): raw("\\t")
                default:
                    raw("\\u00")
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0xF)])
                }
                start = offset + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// The decimal digits of `value`, written straight into the buffer (no `String` made: a page
    /// writes two integers for every change it carries).
    package mutating func integer<T: BinaryInteger>(_ value: T) {
        if value < 0 {
            // None on the hot path (sequence numbers, times and sizes are never negative).
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        var rest = UInt64(value)
        // At most 20 digits (UInt64.max), written backwards into a buffer on the stack.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var first = 20
            repeat {
                first -= 1
                digits[first] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first...]))
        }
    }

    /// The text form of `hlc` as a JSON string (its bytes are hex digits and dashes: nothing to escape).
    package mutating func hlc(_ hlc: HLC) {
        bytes.append(UInt8(ascii: "\""))
        hlc.appendText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// A JSON array of `items`, each written by `element`.
    package mutating func array<Element>(_ items: [Element], _ element: (inout FastJSONWriter, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A JSON array of the text forms of `hlcs`.
    package mutating func hlcArray(_ hlcs: [HLC]) { array(hlcs) { $0.hlc($1) } }

    package mutating func stringArray(_ items: [String]) { array(items) { $0.string($1) } }

    /// `"key":` (keys are plain ASCII here).
    package mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }
}
