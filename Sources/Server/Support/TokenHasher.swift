import Crypto
import Foundation

/// Bearer tokens: 256 random bits shown once; only their SHA-256 is stored.
enum TokenHasher {
    /// A new token: 32 random bytes as 64 hex digits, prefixed `cbk_` so it is recognisable in a leak scan.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "cbk_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The stored form of a token.
    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// Compares two byte strings in time that depends only on their length.
    static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
