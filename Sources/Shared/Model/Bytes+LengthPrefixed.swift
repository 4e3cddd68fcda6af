extension Array where Element == UInt8 {
    /// Appends `text` as the signed and hashed encodings write every part (change digests,
    /// membership digests, batch messages): a 4-byte big-endian length, then its UTF-8 bytes.
    package mutating func appendLengthPrefixed(_ text: String) {
        appendLength(text.utf8.count)
        append(contentsOf: text.utf8)
    }

    /// Appends the 4-byte big-endian length that goes before a part of `count` bytes.
    package mutating func appendLength(_ count: Int) {
        Swift.withUnsafeBytes(of: UInt32(count).bigEndian) { append(contentsOf: $0) }
    }
}
