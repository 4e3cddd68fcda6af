extension Array where Element == UInt8 {
    /// Appends `text` as the signed and hashed encodings write every part (change digests,
    /// membership digests, batch messages): a 4-byte big-endian length, then its UTF-8 bytes.
    package mutating func appendLengthPrefixed(_ text: String) {
        let count = UInt32(text.utf8.count)
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        append(contentsOf: text.utf8)
    }
}
